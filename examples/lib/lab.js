// What every example needs from the embedded lab: its description
// (.lab/lab.json, written by `npm run lab -- up`), SSH connections shaped
// like @pulumi/command's, and a Kubernetes provider for the lab's API server.
const fs = require("fs");
const path = require("path");
const k8s = require("@pulumi/kubernetes");

const file = process.env.RO_LAB_JSON || path.resolve(__dirname, "..", "..", ".lab", "lab.json");
if (!fs.existsSync(file)) throw new Error(`no lab description at ${file}: run \`npm run lab -- up\` first`);
const lab = JSON.parse(fs.readFileSync(file, "utf8"));
const privateKey = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");

/** The SSH connection of a lab host, with its host key pinned. */
const connection = (host) => ({ host: lab.hosts[host].ssh.host, user: lab.hosts[host].ssh.user, privateKey, hostKey: lab.hosts[host].ssh.hostKey });

/** The lab's nodes as RoutedSubnet takes them: name, address on the 192.168.2.0/24 segment, connection. */
const nodes = () => Object.values(lab.hosts).filter((h) => h.role === "node")
    .map((h) => ({ name: h.name, address: h.interfaces.eth0.split("/")[0], connection: connection(h.name) }));

let provider;
/** A kubernetes Provider for the lab's API server, passed to components through `providers`. */
const kubernetes = () => (provider ??= new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8"), enableServerSideApply: true }));

// The lab runs no garbage collector, so Kubernetes' foreground deletion (pulumi-kubernetes' default) would wait forever.
const labAnnotations = { "pulumi.com/deletionPropagationPolicy": "background" };

module.exports = { lab, connection, nodes, kubernetes, labAnnotations };
