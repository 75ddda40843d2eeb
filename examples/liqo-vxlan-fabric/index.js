// Seed 003 (Liqo-Route): every node gets `liqo.vxlan`, unicast VXLAN with
// static all-zero-MAC FDB entries to the other nodes; traffic for the remote
// cluster (10.200.0.0/16) is steered by policy rules into table 18952 and to
// the active gateway's overlay address; gateways hold per-pod routes for the
// way back. `pulumi config set activeGateway node2 && pulumi up` moves it.
// The same intent is published as Liqo RouteConfiguration objects in Liqo's
// namespace "liqo" (which exists where Liqo is installed).
// Optional: `pulumi config set gatewayAddress 172.29.0.254` makes the nodes
// route through that address, which the active gateway holds and announces;
// a move then changes the two gateways only (they need arping).
const pulumi = require("@pulumi/pulumi");
const { TunnelFabric } = require("routed-overlay");
const { nodes, kubernetes } = require("../lib/config");

const cfg = new pulumi.Config();

const fabric = new TunnelFabric("fabric", {
    nodes: nodes().map((n, i) => ({ ...n, overlayAddress: `172.29.0.${i + 1}` })),
    gatewayNodes: ["node1", "node2"],
    activeGateway: cfg.get("activeGateway") || "node1",
    remoteCidrs: ["10.200.0.0/16"],
    overlayCidr: "172.29.0.0/24",
    gatewayAddress: cfg.get("gatewayAddress"),
    routeConfigurationNamespace: "liqo",
}, { providers: [kubernetes()] });

exports.activeGateway = fabric.activeGateway;
