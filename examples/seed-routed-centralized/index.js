// Seed 000, centralized gateway: the subnet's traffic enters and leaves the
// cluster through node1 (gatewayNode), so the peer's return route must point
// at node1 too. RoutedSubnet picks the gateway node as the next hop by itself
// (and warns that one node is a single point of failure; see
// examples/vip-return-route for the VIP instead).
const { RoutedSubnet } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../lib/config");

const subnet = new RoutedSubnet("central", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    gatewayType: "centralized",
    gatewayNode: "node1",
    nodes: nodes(),
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: [kubernetes()] });

exports.nextHop = subnet.nextHop;
exports.subnet = subnet.subnet.metadata.name;
