/**
 * The package as a program uses it: one node list for every component, and
 * values that come from other resources or a StackReference as Outputs.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { GatewayVip, NodeArgs, RoutedSubnet, TunnelFabric } from "../../components";
import { Sysctl } from "../../provider/resources";
import { resetRegistry } from "../../components/registry";
import { CONNECTION } from "../support/bad-input";
import { registeredInputs, useMocks } from "../support/mock-program";

/** An Output's value, or its failure (the SDK's internal promise; apply would swallow a rejection). */
const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => (o as unknown as { promise(): Promise<T> }).promise();
/** Lets the mock engine see every registration started so far. */
const drained = () => new Promise((r) => setTimeout(r, 50));

const out = <T>(v: T) => pulumi.output(v);

/** The lab's three nodes as a program would define them, with addresses known only as Outputs. */
function nodes(addr: (i: number) => pulumi.Input<string> = (i) => out(`192.168.2.${9 + i}`)): NodeArgs[] {
    return [1, 2, 3].map((i) => ({
        name: `node${i}`,
        address: addr(i),
        interface: out("eth0"),
        connection: { ...CONNECTION, host: out(`198.18.0.1${i}`) } as never,
        overlayAddress: out(`172.29.0.${i}`),
        pods: [out(`10.166.${i}.10`)],
    }));
}

describe("one node list, values as Inputs", () => {
    before(useMocks);
    beforeEach(() => resetRegistry());
    after(() => resetRegistry());

    it("takes the same node list in all three components and renders the Outputs' values", async () => {
        const shared = nodes();
        const vip = new GatewayVip("vip", { vip: out("192.168.2.250"), segment: "192.168.2.0/24", virtualRouterId: 51, nodes: shared });
        const subnet = new RoutedSubnet("routed", { cidrBlock: "10.166.0.0/16", gateway: out("10.166.0.1"), excludeIps: out(["10.166.0.1"]), nodes: shared, nextHop: vip.address });
        const fabric = new TunnelFabric("fabric", {
            nodes: shared, gatewayNodes: ["node1", "node2"], activeGateway: "node1", remoteCidrs: ["10.200.0.0/16"], overlayCidr: "172.29.0.0/24",
            mtu: out(1400), routeConfigurationNamespace: "liqo",
        });
        assert.strictEqual(await valueOf(vip.address), "192.168.2.250");
        assert.strictEqual(await valueOf(subnet.nextHop), "192.168.2.250");
        await valueOf(pulumi.all(fabric.links.map((l) => l.urn)));
        await drained();

        assert.deepStrictEqual(registeredInputs("routed")!.spec, { cidrBlock: "10.166.0.0/16", default: false, gateway: "10.166.0.1", excludeIps: ["10.166.0.1"], natOutgoing: false, protocol: "IPv4", gatewayType: "distributed" });
        const conf = registeredInputs("vip-node2")!.config as string;
        assert.match(conf, /unicast_src_ip 192\.168\.2\.11\b/);
        assert.match(conf, /unicast_peer \{[^}]*192\.168\.2\.10[^}]*192\.168\.2\.12/s);
        assert.match(conf, /interface eth0/);
        const link = registeredInputs("fabric-node3-link")!;
        assert.deepStrictEqual([link.local, link.dev, link.mtu, link.addresses], ["192.168.2.12", "eth0", 1400, ["172.29.0.3/24"]]);
        assert.strictEqual(registeredInputs("fabric-node3-link")!.connection.host, "198.18.0.13");
        assert.deepStrictEqual(registeredInputs("fabric-node2-routes")!.routes, {
            "10.166.1.0/24": { "10.166.1.10/32": "via 172.29.0.1 dev liqo.vxlan" },
            "10.166.3.0/24": { "10.166.3.10/32": "via 172.29.0.3 dev liqo.vxlan" },
            "10.0.0.0/8": { "10.200.0.0/16": "via 172.29.0.1 dev liqo.vxlan" },
        });
        // The engine holds the groups; the class's output is the flat map.
        const urns = await valueOf(pulumi.all(fabric.routes.map((r) => r.urn)));
        assert.deepStrictEqual(await valueOf(fabric.routes[urns.findIndex((u) => u.endsWith("::fabric-node2-routes"))].routes), {
            "10.166.1.10/32": "via 172.29.0.1 dev liqo.vxlan", "10.166.3.10/32": "via 172.29.0.3 dev liqo.vxlan", "10.200.0.0/16": "via 172.29.0.1 dev liqo.vxlan",
        });
        const rules = (n: string) => Object.keys(registeredInputs(`fabric-${n}-routes`)!.rules);
        assert.deepStrictEqual(["node1", "node2", "node3"].map(rules), [["priority 18952 from 10.200.0.0/16"], ["priority 18952 to 10.200.0.0/16"], ["priority 18952 to 10.200.0.0/16"]],
            "one outbound rule on each of node2 and node3, one inbound on node1");
        assert.ok(registeredInputs("fabric-tunnel-fabric-18952-node2-gw-node"), "the RouteConfiguration of a node whose pods are Outputs");
        assert.strictEqual(registeredInputs("fabric-tunnel-fabric-18952-node-gw")!.spec.table.rules[0].routes[0].gw, "172.29.0.1");
        assert.strictEqual(subnet.prerequisites.length, 9);
    });

    it("refuses a misspelt node field, and a field another component needs when this one needs it too", () => {
        const shared = nodes();
        assert.throws(() => new RoutedSubnet("typo", { cidrBlock: "10.166.0.0/16", nodes: [{ ...shared[0], adress: "192.168.2.10" } as never] }),
            /args\.nodes\[0\]\.adress: unknown property \(known: name, address, interface, connection, priority, overlayAddress, pods\)/);
        const noOverlay = shared.map(({ overlayAddress: _o, ...n }) => n);
        assert.throws(() => new TunnelFabric("f", { nodes: noOverlay, gatewayNodes: ["node1"], activeGateway: "node1", remoteCidrs: ["10.200.0.0/16"], overlayCidr: "172.29.0.0/24" }),
            /args\.nodes\[0\]\.overlayAddress/);
    });

    it("checks an Output once known, with the message a plain value gets, and fails what depends on it", async () => {
        const plain = () => new GatewayVip("plain", { vip: "192.168.2.250", virtualRouterId: 52, nodes: nodes((i) => (i === 2 ? "192.168.2.999" : `192.168.2.${9 + i}`)) });
        const message = (() => {
            try {
                plain();
            } catch (e) {
                return (e as Error).message;
            }
            assert.fail("a plain bad address is refused at construction");
        })();
        resetRegistry();
        const deferred = new GatewayVip("deferred", { vip: "192.168.2.250", virtualRouterId: 52, nodes: nodes((i) => out(i === 2 ? "192.168.2.999" : `192.168.2.${9 + i}`)) });
        const same = (text: string) => text.replace(/"(plain|deferred)"/, "");
        await assert.rejects(valueOf(deferred.address), (e: unknown) => {
            assert.ok(e instanceof Error);
            assert.match(e.message, /args\.nodes\[1\]\.address: /);
            // Through a child resource's input the SDK prefixes 'error serializing property "…": '.
            assert.ok(same(e.message).endsWith(same(message)), `${e.message}\nends with\n${message}`);
            return true;
        });
    });

    it("renders the Subnet from its own fields: a next hop unknown at preview does not make the Subnet unknown", async () => {
        // An output no mock fills in: unknown, as a GatewayVip's address is in a preview that updates it.
        const unknownHop = new Sysctl("stand-in", { connection: CONNECTION as never, key: "net.ipv4.ip_forward", value: "1" }).previous;
        const subnet = new RoutedSubnet("waits-not", { cidrBlock: "10.177.0.0/16", gateway: out("10.177.0.1"), nodes: nodes(), nextHop: unknownHop });
        await valueOf(subnet.subnet.urn);
        await drained();
        assert.strictEqual(registeredInputs("waits-not")!.spec.gateway, "10.177.0.1");
        assert.strictEqual(registeredInputs("waits-not")!.metadata.name, "waits-not");
    });

    it("still refuses at construction what is plain and wrong, next to Outputs it cannot check yet", () => {
        assert.throws(() => new RoutedSubnet("mixed", { cidrBlock: "10.166.0.0/16", gateway: out("10.166.0.1"), nodes: nodes(), nextHop: "10.166.0.7" }),
            /args\.nextHop: inside cidrBlock 10\.166\.0\.0\/16/);
    });
});
