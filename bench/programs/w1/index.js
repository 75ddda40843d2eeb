// W1: `routes` return routes on the lab's peer, next hop node1, in one of three shapes:
//   package       ExternalReturnRoute (one RouteSet: one batch per change)
//   per-route     one resource per route that dials SSH and runs `ip route add|del` (remote.Command's shape)
//   engine-floor  the package's resources and inputs, with a provider that does nothing
const path = require("path");
const pulumi = require("@pulumi/pulumi");
const { ExternalReturnRoute } = require("routed-overlay");
const { connection } = require("../lab");

const cfg = new pulumi.Config();
const count = cfg.requireNumber("routes");
const variant = cfg.get("variant") || "package";
const nextHop = "192.168.2.10";
const dist = path.resolve(__dirname, "..", "..", "..", "dist");
const destinations = require(path.join(dist, "bench", "stats.js")).w1Destinations(count);
const baselines = path.join(dist, "bench", "per-route.js");

if (variant === "package") {
    new ExternalReturnRoute("w1", { destinations, nextHop, targets: [{ name: "peer", connection: connection("peer"), dev: "eth0" }] });
} else if (variant === "per-route") {
    const provider = require(baselines).baselineProvider("perRoute");
    const conn = pulumi.secret(connection("peer"));
    destinations.forEach((dst, i) => new pulumi.dynamic.Resource(provider, `r${i}`, {
        connection: conn,
        create: ["ip", "route", "add", dst, "via", nextHop, "dev", "eth0", "proto", "214"],
        delete: ["ip", "route", "del", dst, "via", nextHop, "dev", "eth0", "proto", "214"],
    }));
} else if (variant === "engine-floor") {
    const provider = require(baselines).baselineProvider("noop");
    class Floor extends pulumi.ComponentResource {
        constructor(name) {
            super("routed-overlay:bench:Floor", name, {});
            // The package's own inputs: the routes as the RouteSet class sends them (key and ip route words).
            const { keyedRoutes } = require(path.join(dist, "provider", "wire.js"));
            const routes = keyedRoutes(destinations.map((dst) => ({ dst, gateway: nextHop, dev: "eth0" })));
            new pulumi.dynamic.Resource(provider, `${name}-peer`, { connection: pulumi.secret(connection("peer")), routes }, { parent: this });
            this.registerOutputs({});
        }
    }
    new Floor("w1");
} else {
    throw new Error(`variant: expected package, per-route or engine-floor, got ${JSON.stringify(variant)}`);
}
