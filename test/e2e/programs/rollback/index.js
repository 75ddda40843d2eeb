// Probe and roll back: a distributed RoutedSubnet whose return route is on
// the FRR router, for the host behind it, with a path check from that host
// (remote) to a pod on node2 and rollbackOnFailure. Config `nextHop` sets the
// router's next hop (default node1).
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");
const { RoutedSubnet } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const privateKey = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
const connection = (name) => ({ host: lab.hosts[name].ssh.host, user: "root", privateKey, hostKey: lab.hosts[name].ssh.hostKey });
const provider = new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8") });

const subnet = new RoutedSubnet("routed", {
    cidrBlock: "10.166.0.0/16",
    nodes: ["node1", "node2", "node3"].map((name, i) => ({ name, address: `192.168.2.${10 + i}`, connection: connection(name) })),
    nextHop: cfg.get("nextHop") ?? "192.168.2.10",
    returnRoutes: [{ name: "router", kind: "frr", connection: connection("router") }],
    verify: { client: { name: "remote", connection: connection("remote") }, targets: ["10.166.2.10"], seconds: 5, rollbackOnFailure: true },
}, { providers: [provider] });

exports.ok = subnet.pathCheck.ok;
