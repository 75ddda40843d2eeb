// The demo stack: every component of routed-overlay on the embedded lab.
//
//   - GatewayVip: keepalived VRRP (unicast) over node1..node3, VIP 192.168.2.250;
//   - RoutedSubnet: Kube-OVN Subnet 10.166.0.0/16, natOutgoing false, the node
//     prerequisites, and return routes via the VIP on the peer (same L2, Linux)
//     and on the router (FRR), which serves the remote host behind it;
//   - TunnelFabric: unicast VXLAN liqo.vxlan between the nodes, table 18952,
//     traffic for the other cluster (10.200.0.0/16) through the active gateway
//     (config activeGateway, default node1), and the same intent as Liqo
//     RouteConfiguration objects.
//
// `npm run demo` brings the lab up and runs `pulumi up` on this program.
const pulumi = require("@pulumi/pulumi");
const { GatewayVip, RoutedSubnet, TunnelFabric } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../examples/lib/config");

const cfg = new pulumi.Config();
const k8s = { providers: [kubernetes()] };
// One node list for all three components; each uses the fields it needs.
const cluster = nodes().map((n, i) => ({ ...n, overlayAddress: `172.29.0.${i + 1}` }));

const vip = new GatewayVip("gw", {
    vip: "192.168.2.250/24",
    segment: "192.168.2.0/24",
    virtualRouterId: 51,
    authPass: cfg.getSecret("vrrpPass") || pulumi.secret("demovrrp"),
    nodes: cluster,
});

const subnet = new RoutedSubnet("routed", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    gatewayType: "distributed",
    nodes: cluster,
    nextHop: vip.address,
    returnRoutes: [
        { name: "peer", connection: connection("peer"), dev: "eth0" },
        { name: "router", kind: "frr", connection: connection("router") },
    ],
}, k8s);

const fabric = new TunnelFabric("fabric", {
    nodes: cluster,
    gatewayNodes: ["node1", "node2"],
    activeGateway: cfg.get("activeGateway") || "node1",
    remoteCidrs: ["10.200.0.0/16"],
    overlayCidr: "172.29.0.0/24",
    routeConfigurationNamespace: "liqo",
}, k8s);

exports.vip = vip.address;
exports.subnet = subnet.subnet.metadata.name;
exports.nextHop = subnet.nextHop;
exports.activeGateway = fabric.activeGateway;
