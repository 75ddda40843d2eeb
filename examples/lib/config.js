// What every example reads from its stack's configuration: the hosts, how to
// reach them over SSH, and the cluster. Set it for your own hosts:
//
//   pulumi config set nodes '[{"name":"node1","address":"192.168.2.10","interface":"eth0","host":"10.0.0.11","hostKey":"ssh-ed25519 AAAA..."}, ...]'
//   pulumi config set hosts '{"peer":{"host":"10.0.0.20","hostKey":"ssh-ed25519 AAAA..."}}'
//   pulumi config set sshUser root
//   pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519
//   pulumi config set --secret kubeconfig < ~/.kube/config
//
// `nodes[].pods` (pod addresses per node) is read by the fabric examples only.
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");

const cfg = new pulumi.Config();
const privateKey = cfg.requireSecret("sshPrivateKey");
const user = cfg.get("sshUser") || "root";

/** An SSH connection shaped like @pulumi/command's, with the host key pinned. */
const connectionTo = (h) => ({ host: h.host, user, privateKey, hostKey: h.hostKey });

/** The cluster's nodes in the shape every component takes. */
const nodes = () => cfg.requireObject("nodes").map((n) => ({
    name: n.name,
    address: n.address,
    interface: n.interface,
    connection: connectionTo(n),
    ...(n.pods ? { pods: n.pods } : {}),
}));

/** The connection of a host outside the cluster (a peer, a router), by its name in config `hosts`. */
const connection = (name) => {
    const h = cfg.requireObject("hosts")[name];
    if (!h) throw new Error(`config hosts has no "${name}"`);
    return connectionTo(h);
};

let provider;
/** A kubernetes Provider for the cluster of config `kubeconfig`. */
const kubernetes = () => (provider ??= new k8s.Provider("cluster", { kubeconfig: cfg.requireSecret("kubeconfig"), enableServerSideApply: true }));

module.exports = { cfg, nodes, connection, kubernetes };
