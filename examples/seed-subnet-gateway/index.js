// Seed 002 ("IP Addresses of Pods Exposed to the External Network"): the
// subnet 100.64.0.0/16 for namespaces ns1 and ns2, natOutgoing false. The
// external host sits behind a router, not on the nodes' L2, so the return
// route goes on the router (FRR, through vtysh) with node1 as next hop.
const { RoutedSubnet } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../lib/config");

const subnet = new RoutedSubnet("exposed", {
    cidrBlock: "100.64.0.0/16",
    namespaces: ["ns1", "ns2"],
    nodes: nodes(),
    nextHop: "192.168.2.10",
    returnRoutes: [{ name: "router", kind: "frr", connection: connection("router") }],
}, { providers: [kubernetes()] });

exports.nextHop = subnet.nextHop;
exports.subnet = subnet.subnet.metadata.name;
