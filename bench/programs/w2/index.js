// W2: a TunnelFabric over every node of the lab: full-mesh FDB entries,
// `podsPerNode` per-pod routes per node on the gateways, rules everywhere.
// The pods are addresses only: the fabric routes them whether or not a pod
// answers, and the benchmark measures the fabric, not the pods.
// variant engine-floor: the same resources with the same inputs and
// dependencies, planned by the same code, with a provider that does nothing.
// variant engine-floor-rules: the same, in the graph of version 0.1, which
// gave each policy rule a resource of its own beside the node's RouteSet.
const path = require("path");
const pulumi = require("@pulumi/pulumi");
const { TunnelFabric } = require("routed-overlay");
const { nodes } = require("../lab");

const cfg = new pulumi.Config();
const podsPerNode = cfg.getNumber("podsPerNode") ?? 20;
const variant = cfg.get("variant") || "package";

const args = {
    nodes: nodes().map(({ address, ...n }, i) => ({
        ...n,
        address: address,
        interface: "eth0",
        overlayAddress: `172.29.0.${i + 1}`,
        pods: Array.from({ length: podsPerNode }, (_, j) => `10.166.${i + 1}.${10 + j}`),
    })),
    gatewayNodes: ["node1", "node2"],
    activeGateway: cfg.get("activeGateway") || "node1",
    remoteCidrs: ["10.200.0.0/16"],
    overlayCidr: "172.29.0.0/24",
    // The nodes route through a fixed address the active gateway holds: a move changes the two gateways only.
    gatewayAddress: "172.29.0.254",
};

if (variant === "package") {
    new TunnelFabric("fabric", args);
} else if (variant === "engine-floor" || variant === "engine-floor-rules") {
    const dist = path.resolve(__dirname, "..", "..", "..", "dist");
    const { legacyRuleNameParts, planTunnelFabric, ruleNamePart } = require(path.join(dist, "components", "render", "fabric.js"));
    const provider = require(path.join(dist, "bench", "per-route.js")).baselineProvider("noop");
    // The sets as the package's classes send them: routes as key and ip route words, FDB entries keyed.
    const { keyedRoutes, keyedFdb, keyedRules } = require(path.join(dist, "provider", "wire.js"));
    const ruleResources = variant === "engine-floor-rules";
    const { ownerId } = require(path.join(dist, "provider", "resources.js"));
    class Floor extends pulumi.ComponentResource {
        constructor(name) {
            super("routed-overlay:bench:Floor", name, {});
            const conns = new Map(args.nodes.map((n) => [n.name, pulumi.secret(n.connection)]));
            const spec = { ...args, nodes: args.nodes.map(({ connection, ...n }) => n) };
            // In the package's order: the gateway candidates first, the other links after theirs.
            const candidate = (p) => args.gatewayNodes.includes(p.node);
            const plans = planTunnelFabric(spec);
            const candidateLinks = [];
            for (const p of [...plans.filter(candidate), ...plans.filter((p) => !candidate(p))]) {
                const connection = conns.get(p.node);
                const base = `${name}-${p.node}`;
                const link = new pulumi.dynamic.Resource(provider, `${base}-link`, { connection, ...p.link },
                    { parent: this, dependsOn: candidate(p) ? [] : candidateLinks });
                if (candidate(p)) candidateLinks.push(link);
                const after = { parent: this, dependsOn: [link] };
                if (p.gatewayAddress) new pulumi.dynamic.Resource(provider, `${base}-gateway-address`, { connection, ...p.gatewayAddress }, after);
                new pulumi.dynamic.Resource(provider, `${base}-fdb`, { connection, dev: p.link.name, entries: keyedFdb(p.fdb.map(({ dev: _d, ...e }) => e)) }, after);
                const rules = p.rules.map(({ table: _t, ...r }) => r);
                new pulumi.dynamic.Resource(provider, `${base}-routes`, {
                    connection, table: 18952, routes: keyedRoutes(p.routes.map(({ table: _t, ...r }) => r)),
                    ...(!ruleResources && { rules: keyedRules(rules), takeOverFrom: legacyRuleNameParts(args).map((part) => ownerId("Rule", `${base}-rule-${part}`)) }),
                }, after);
                // Named by selector as 0.1 named them: a move creates and deletes rules, and the engine's deletes come last.
                if (ruleResources) for (const r of p.rules) new pulumi.dynamic.Resource(provider, `${base}-rule-${ruleNamePart(r)}`, { connection, ...r }, after);
            }
            this.registerOutputs({});
        }
    }
    new Floor("fabric");
} else {
    throw new Error(`variant: expected package, engine-floor or engine-floor-rules, got ${JSON.stringify(variant)}`);
}
