// Seed 000 with a verified path: a distributed RoutedSubnet, the peer's return
// route via node1, and a check from the peer to a pod on node2 (ping, and TCP
// to the test's server on 7070). Config `seconds` sets the check's window.
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
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    gatewayType: "distributed",
    nodes: ["node1", "node2", "node3"].map((name, i) => ({ name, address: `192.168.2.${10 + i}`, connection: connection(name) })),
    nextHop: "192.168.2.10",
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
    verify: { client: { name: "peer", connection: connection("peer") }, targets: ["10.166.2.10"], port: 7070, seconds: cfg.getNumber("seconds") ?? 5 },
}, { providers: [provider] });

exports.ok = subnet.pathCheck.ok;
exports.failures = subnet.pathCheck.failures;
