// Seed 000 ("Interconnection with Routes in Overlay Mode") as written: a
// distributed-gateway subnet 10.166.0.0/16 with natOutgoing false, gateway
// 10.166.0.1 excluded, and on the peer `ip route add 10.166.0.0/16 via
// 192.168.2.10 dev eth0`. Every node gets the seed's prerequisites.
const { RoutedSubnet } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../lib/config");

const subnet = new RoutedSubnet("routed", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    gatewayType: "distributed",
    nodes: nodes(),
    nextHop: "192.168.2.10",
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: [kubernetes()] });

exports.nextHop = subnet.nextHop;
exports.subnet = subnet.subnet.metadata.name;
