// Bringing hand-made routing under Pulumi. Before this program, someone ran
//   kubectl apply -f legacy-subnet.yaml          (a Subnet "legacy", natOutgoing: true)
//   ip route add 10.166.0.0/16 via 192.168.2.10 dev eth0     (on the peer)
// Without adoption `up` stops at the route ("already exists ... set adopt: true"),
// so nobody's route is overwritten by accident.
//
// - Kubernetes objects: the kubernetes provider's server-side apply takes over an
//   existing object of the same name ("upsert"); `pulumi.com/patchForce` makes
//   Pulumi's values win over fields another manager (kubectl) set. Providers
//   from 4.29 on need `upsertExistingObjects: true` on the Provider as well.
// - Host objects: `adopt: true` on the return-route target takes over the
//   identical route; from then on it carries this package's mark (protocol 214)
//   and `destroy` removes it. (`pulumi import` does not work with dynamic
//   providers, pulumi/pulumi#16175; adopt stands in for it.)
const pulumi = require("@pulumi/pulumi");
const { RoutedSubnet } = require("routed-overlay");
const { connection, nodes, kubernetes } = require("../lib/config");

const cfg = new pulumi.Config();
const adopt = cfg.getBoolean("adopt") ?? true;

const subnet = new RoutedSubnet("legacy", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    annotations: { "pulumi.com/patchForce": "true" },
    nodes: nodes(),
    nextHop: "192.168.2.10",
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0", adopt }],
}, { providers: [kubernetes()] });

exports.subnet = subnet.subnet.metadata.name;
