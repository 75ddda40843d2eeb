// W2: a TunnelFabric over every node of the lab: full-mesh FDB entries,
// `podsPerNode` per-pod routes per node on the gateways, rules everywhere.
// The pods are addresses only: the fabric routes them whether or not a pod
// answers, and the benchmark measures the fabric, not the pods.
const pulumi = require("@pulumi/pulumi");
const { TunnelFabric } = require("routed-overlay");
const { nodes } = require("../../../examples/lib/lab");

const cfg = new pulumi.Config();
const podsPerNode = cfg.getNumber("podsPerNode") ?? 20;

new TunnelFabric("fabric", {
    nodes: nodes().map(({ address, ...n }, i) => ({
        ...n,
        underlayIp: address,
        underlayDev: "eth0",
        overlayIp: `172.29.0.${i + 1}`,
        pods: Array.from({ length: podsPerNode }, (_, j) => `10.166.${i + 1}.${10 + j}`),
    })),
    gatewayNodes: ["node1", "node2"],
    activeGateway: cfg.get("activeGateway") || "node1",
    remoteCidrs: ["10.200.0.0/16"],
    overlayCidr: "172.29.0.0/24",
});
