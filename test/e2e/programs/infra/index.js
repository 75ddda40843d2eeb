// A team's "infra" stack: what it knows of its hosts, exported for the
// stacks that build on it. The node addresses and SSH endpoints are plain;
// the host keys, the private key and the kubeconfig are secrets.
const pulumi = require("@pulumi/pulumi");

const cfg = new pulumi.Config();
const nodes = cfg.requireObject("nodes");
const others = cfg.requireObject("hosts");

exports.hosts = Object.fromEntries([
    ...nodes.map((n) => [n.name, { host: n.host, address: n.address, interface: n.interface }]),
    ...Object.entries(others).map(([name, h]) => [name, { host: h.host }]),
]);
exports.hostKeys = pulumi.secret(Object.fromEntries([...nodes, ...Object.entries(others).map(([name, h]) => ({ name, ...h }))].map((h) => [h.name, h.hostKey])));
exports.sshPrivateKey = cfg.requireSecret("sshPrivateKey");
exports.kubeconfig = cfg.requireSecret("kubeconfig");
