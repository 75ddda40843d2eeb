// A centralized RoutedSubnet with two gateway nodes, and a GatewayVip over
// them that follows Kube-OVN's active gateway: the peer's return route points
// at the VIP. The watcher on each node reads and watches the Subnet with the
// token of a user who may only `get` and `watch` that one Subnet (a
// ClusterRole with resourceNames).
const fs = require("fs");
const k8s = require("@pulumi/kubernetes");
const { GatewayVip, RoutedSubnet } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const privateKey = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
const connection = (name) => ({ host: lab.hosts[name].ssh.host, user: "root", privateKey, hostKey: lab.hosts[name].ssh.hostKey });
const provider = new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8") });
const node = (name, i) => ({ name, address: `192.168.2.${10 + i}`, interface: "eth0", connection: connection(name) });
const SUBNET = "central";

const reader = new k8s.rbac.v1.ClusterRole("gateway-reader", {
    rules: [{ apiGroups: ["kubeovn.io"], resources: ["subnets"], resourceNames: [SUBNET], verbs: ["get", "watch"] }],
}, { provider });
const binding = new k8s.rbac.v1.ClusterRoleBinding("gateway-reader", {
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: reader.metadata.name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "gateway-reader" }],
}, { provider });

const gateways = ["node1", "node2"].map(node);
const vip = new GatewayVip("gw", {
    vip: "192.168.2.250/24",
    segment: "192.168.2.0/24",
    virtualRouterId: 61,
    nodes: gateways,
    followGateway: {
        subnet: SUBNET,
        apiServer: lab.kubernetes.hostServer,
        caCert: fs.readFileSync(lab.kubernetes.caFile, "utf8"),
        token: lab.kubernetes.readerToken,
    },
}, { dependsOn: [binding] });

const subnet = new RoutedSubnet(SUBNET, {
    cidrBlock: "10.166.0.0/16",
    gatewayType: "centralized",
    gatewayNode: "node1,node2",
    nodes: ["node1", "node2", "node3"].map(node),
    nextHop: vip.address,
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: [provider] });

exports.subnet = subnet.subnet.metadata.name;
exports.holder = vip.holder;
exports.failoverSeconds = vip.failoverSeconds;
