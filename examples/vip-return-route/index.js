// Seed 000's note made real: "Keepalived can be used to set up a VIP for
// multiple nodes" as the next hop of the return route, so that the peer does
// not depend on one node. VRRP over unicast between the three nodes.
const pulumi = require("@pulumi/pulumi");
const { GatewayVip, RoutedSubnet } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../lib/config");

const cfg = new pulumi.Config();
const vip = new GatewayVip("gw", {
    vip: "192.168.2.250/24",
    segment: "192.168.2.0/24",
    virtualRouterId: 51,
    authPass: cfg.getSecret("vrrpPass"),
    nodes: nodes(),
});

const subnet = new RoutedSubnet("routed", {
    cidrBlock: "10.166.0.0/16",
    nodes: nodes(),
    nextHop: vip.address,
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: [kubernetes()] });

exports.nextHop = subnet.nextHop;
// The node that held the VIP when up read it back (VrrpElection).
exports.holder = vip.holder;
// The expected outage of a failover, from the settings (3.45 s with the defaults).
exports.failoverSeconds = vip.failoverSeconds;
