import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ExternalReturnRoute, RoutedSubnet } from "../../components";
import { resetRegistry } from "../../components/registry";
import { InvalidArgumentsError } from "../../common/problems";
import { PathCheck } from "../../provider/resources";
import { BASELINE, CONNECTION } from "../support/bad-input";
import { registeredAll, registeredInputs, useMocks } from "../support/mock-program";

const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => (o as unknown as { promise(): Promise<T> }).promise();
const drained = () => new Promise((r) => setTimeout(r, 50));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const clone = (v: unknown): any => JSON.parse(JSON.stringify(v));
const peer = { name: "peer", connection: { ...CONNECTION, host: "198.18.0.200" } };

function problems(f: () => unknown): string {
    try {
        f();
    } catch (e) {
        assert.ok(e instanceof InvalidArgumentsError, String(e));
        return e.message;
    }
    return assert.fail("no InvalidArgumentsError");
}

describe("verify: a PathCheck after the routes", () => {
    before(useMocks);
    beforeEach(() => resetRegistry());
    after(() => resetRegistry());

    it("RoutedSubnet: a client that is one of its linux targets must route via the next hop; the nodes' counters are offered", async () => {
        const s = new RoutedSubnet("routed", {
            ...clone(BASELINE.RoutedSubnet), returnRoutes: [{ ...peer, dev: "eth0" }],
            verify: { client: peer, targets: ["10.166.2.10"], port: 7070, seconds: pulumi.output(5) },
        });
        assert.ok(s.pathCheck instanceof PathCheck);
        await registeredAll([s.pathCheck!]);
        await drained();
        const i = registeredInputs("routed-verify")!;
        assert.deepStrictEqual([i.client.name, i.client.connection.host, i.targets, i.port, i.seconds, i.via], ["peer", "198.18.0.200", ["10.166.2.10"], 7070, 5, "192.168.2.10"]);
        assert.deepStrictEqual(i.nodes.map((n: { name: string; address: string }) => [n.name, n.address]), [["node1", "192.168.2.10"], ["node2", "192.168.2.11"]]);
        assert.match(await valueOf(s.pathCheck!.urn), /RoutedSubnet\$pulumi-nodejs:dynamic\/routed-overlay:PathCheck::routed-verify$/);
    });

    it("RoutedSubnet: a client behind a router (not a target) may use any route", async () => {
        const s = new RoutedSubnet("other", {
            ...clone(BASELINE.RoutedSubnet), subnetName: "other", returnRoutes: [{ ...peer, dev: "eth0" }],
            verify: { client: { ...peer, name: "remote" }, targets: ["10.166.2.10"] },
        });
        await registeredAll([s.pathCheck!]);
        await drained();
        assert.strictEqual(registeredInputs("other-verify")!.via, undefined);
    });

    it("ExternalReturnRoute: the same, with the nodes given in verify", async () => {
        const r = new ExternalReturnRoute("ret", {
            ...clone(BASELINE.ExternalReturnRoute),
            verify: { client: { name: "peer", connection: CONNECTION }, targets: ["10.166.1.10", "10.166.2.10"], nodes: [{ name: "node1", address: "192.168.2.10", connection: CONNECTION }] },
        });
        assert.strictEqual(r.routes.length, 1);
        await registeredAll([r.pathCheck!]);
        await drained();
        const i = registeredInputs("ret-verify")!;
        assert.deepStrictEqual([i.via, i.targets, i.nodes[0].address], ["192.168.2.10", ["10.166.1.10", "10.166.2.10"], "192.168.2.10"]);
    });

    it("no verify, no check", () => {
        assert.strictEqual(new ExternalReturnRoute("plain", clone(BASELINE.ExternalReturnRoute)).pathCheck, undefined);
    });

    it("is validated in the components' one pass, naming each argument", () => {
        const said = problems(() => new RoutedSubnet("bad", {
            ...clone(BASELINE.RoutedSubnet),
            verify: { client: { name: "Peer" }, targets: ["10.167.0.1", "10.166.0.5", "10.166.0.5"], port: 70000, seconds: 0, extra: 1 } as never,
        }));
        assert.match(said, /args\.verify\.extra: unknown property/);
        assert.match(said, /args\.verify\.client\.name: /);
        assert.match(said, /args\.verify\.client\.connection: required: how to reach the host over SSH/);
        assert.match(said, /args\.verify\.targets\[0\]: not inside 10\.166\.0\.0\/16, the CIDRs these routes serve: "10\.167\.0\.1"/);
        assert.match(said, /args\.verify\.targets\[2\]: appears twice: "10\.166\.0\.5"/);
        assert.match(said, /args\.verify\.port: must be an integer from 1 to 65535: 70000/);
        assert.match(said, /args\.verify\.seconds: must be an integer from 1 to 300 \(whole seconds\): 0/);
        const ret = problems(() => new ExternalReturnRoute("bad", {
            ...clone(BASELINE.ExternalReturnRoute),
            verify: { client: peer, targets: [], nodes: [{ name: "node1", address: "x" }] } as never,
        }));
        assert.match(ret, /args\.verify\.targets: needs at least 1 target: \[\]/);
        assert.match(ret, /args\.verify\.nodes\[0\]\.address: /);
        assert.match(ret, /args\.verify\.nodes\[0\]\.connection: required/);
        // nodes belong to ExternalReturnRoute's verify only: a RoutedSubnet has its own.
        assert.match(problems(() => new RoutedSubnet("bad2", { ...clone(BASELINE.RoutedSubnet), verify: { client: peer, targets: ["10.166.0.5"], nodes: [] } as never })),
            /args\.verify\.nodes: unknown property/);
    });

    it("a target given as an Output is checked once known, with the same message", async () => {
        const s = new RoutedSubnet("late", {
            ...clone(BASELINE.RoutedSubnet), subnetName: "late",
            verify: { client: peer, targets: [pulumi.output("10.167.0.1")] },
        });
        await assert.rejects(valueOf(s.pathCheck!.targets), /args\.verify\.targets\[0\]: not inside 10\.166\.0\.0\/16/);
    });

    it("rollbackOnFailure hands every return-route target (kernel and FRR) the check's args as its probe; without it none", async () => {
        const router = { name: "router", kind: "frr" as const, connection: { ...CONNECTION, host: "198.18.0.201" } };
        const s = new RoutedSubnet("rb", {
            ...clone(BASELINE.RoutedSubnet), subnetName: "rb", returnRoutes: [{ ...peer, dev: "eth0" }, router],
            verify: { client: { ...peer, name: "remote" }, targets: ["10.166.2.10"], seconds: 5, rollbackOnFailure: true },
        });
        const routes = s.returnRoute!.routes;
        assert.strictEqual(routes.length, 2);
        await registeredAll([...routes, s.pathCheck!]);
        await drained();
        const check = registeredInputs("rb-verify")!;
        for (const name of ["rb-return-peer", "rb-return-router-10.166.0.0_16"]) {
            const probe = registeredInputs(name)!.probe;
            assert.deepStrictEqual([probe.client.name, probe.targets, probe.seconds], ["remote", ["10.166.2.10"], 5], name);
            const args = (v: Record<string, unknown>) => Object.fromEntries(["client", "targets", "port", "seconds", "via", "nodes"].map((k) => [k, v[k]]));
            assert.deepStrictEqual(args(probe), args(check), `${name}: the probe is the PathCheck's own args`);
        }
        const plain = new ExternalReturnRoute("plain2", { ...clone(BASELINE.ExternalReturnRoute), verify: { client: peer, targets: ["10.166.2.10"] } });
        await registeredAll(plain.routes);
        await drained();
        assert.deepStrictEqual(plain.routes.length, 1);
        assert.strictEqual(registeredInputs(`plain2-${(BASELINE.ExternalReturnRoute.targets as { name: string }[])[0].name}`)!.probe, undefined);
        assert.match(problems(() => new RoutedSubnet("rb2", { ...clone(BASELINE.RoutedSubnet), subnetName: "rb2", verify: { client: peer, targets: ["10.166.0.5"], rollbackOnFailure: "yes" } as never })),
            /args\.verify\.rollbackOnFailure: must be true or false: "yes"/);
    });
});
