// An upgrade of a TunnelFabric from version 0.1, which gave each policy rule a
// Rule resource of its own, to today's, whose RouteSets hold the rules.
// variant "0.1": the resources 0.1's TunnelFabric("fabric") registered, by
// the same names under the same component type, planned by today's planner
// (whose plans did not change). variant "current": TunnelFabric("fabric").
const fs = require("fs");
const path = require("path");
const pulumi = require("@pulumi/pulumi");
const ro = require("routed-overlay");
const dist = path.join(path.dirname(require.resolve("routed-overlay/package.json")), "dist");
const { planTunnelFabric } = require(path.join(dist, "components", "render", "fabric.js"));
const { ruleNamePart } = require(path.join(dist, "components", "render", "fabric.js"));

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const key = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
const names = ["node1", "node2", "node3"];
const args = {
    nodes: names.map((n, i) => ({
        name: n,
        address: `192.168.2.${10 + i}`,
        interface: "eth0",
        overlayAddress: `172.29.0.${i + 1}`,
        pods: [`10.166.${i + 1}.10`],
        connection: { host: lab.hosts[n].ssh.host, user: "root", privateKey: key, hostKey: lab.hosts[n].ssh.hostKey },
    })),
    gatewayNodes: ["node1", "node2"],
    activeGateway: cfg.get("activeGateway") || "node1",
    remoteCidrs: ["10.200.0.0/16"],
    overlayCidr: "172.29.0.0/24",
};

if (cfg.require("variant") === "0.1") {
    class V01 extends pulumi.ComponentResource {
        constructor(name) {
            super("routed-overlay:index:TunnelFabric", name, {});
            const spec = { ...args, nodes: args.nodes.map(({ connection, ...n }) => n) };
            for (const p of planTunnelFabric(spec)) {
                const connection = args.nodes.find((n) => n.name === p.node).connection;
                const base = `${name}-${p.node}`;
                const link = new ro.VxlanLink(`${base}-link`, { connection, ...p.link }, { parent: this });
                const after = { parent: this, dependsOn: [link] };
                new ro.FdbSet(`${base}-fdb`, { connection, dev: p.link.name, entries: p.fdb.map(({ dev, ...e }) => e) }, after);
                new ro.RouteSet(`${base}-routes`, { connection, table: 18952, routes: p.routes.map(({ table, ...r }) => r) }, after);
                for (const r of p.rules) new ro.Rule(`${base}-rule-${ruleNamePart(r)}`, { connection, ...r }, after);
            }
            this.registerOutputs({});
        }
    }
    new V01("fabric");
} else {
    new ro.TunnelFabric("fabric", args);
}
