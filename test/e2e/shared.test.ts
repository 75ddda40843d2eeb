/**
 * Several stacks against one fleet: shared prerequisites recorded on the
 * host, ownership marks that tell one stack's firewall rules from another's.
 */
import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { hostExec, LabInfo } from "../../lab/lab";

describe("e2e: two stacks on the same hosts", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const on = async (host: string, ...argv: string[]) => (await hostExec(lab, host, argv)).stdout;
    const ipForward = async (host: string) => (await on(host, "sysctl", "-n", "net.ipv4.ip_forward")).trim();
    /** Our FORWARD rules for 10.166.0.0/16 on node1, by their comments' owner hash. */
    const rulesByOwner = async () => {
        const out: Record<string, number> = {};
        for (const m of (await on("node1", "iptables", "-S", "FORWARD")).matchAll(/routed-overlay:([0-9a-f]{16}):10\.166\.0\.0\/16:/g)) out[m[1]] = (out[m[1]] ?? 0) + 1;
        return out;
    };

    describe("the same prerequisites in two stacks of one program (programs/prereqs)", () => {
        const a = useStack("prereqs", () => lab, { stackName: "team-a" });
        const b = useStack("prereqs", () => lab, { stackName: "team-b" });
        let before0: Record<string, string>;
        let original: string;

        it("both up: one ip_forward with two owners recorded on the host, and each stack's own FORWARD rules", async () => {
            before0 = await labSnapshot(lab);
            original = await ipForward("node1");
            assert.deepStrictEqual(changes((await a().stack.up()).summary.resourceChanges), { create: 4 });
            assert.deepStrictEqual(changes((await b().stack.up()).summary.resourceChanges), { create: 4 });
            assert.strictEqual(await ipForward("node1"), "1");
            const owners = (await on("node1", "ls", "/run/routed-overlay/sysctl/net.ipv4.ip_forward/owners")).split("\n").filter(Boolean);
            assert.strictEqual(owners.length, 2, `two owners recorded: ${owners}`);
            assert.strictEqual((await on("node1", "cat", "/run/routed-overlay/sysctl/net.ipv4.ip_forward/original")).trim(), original);
            const rules = await rulesByOwner();
            assert.deepStrictEqual(Object.values(rules).sort(), [2, 2, 2, 2], `each stack's FORWARD and INVALID accepts, both directions: ${JSON.stringify(rules)}`);
        });

        it("refresh of either shows no change; destroy of one keeps ip_forward and the other's rules", async () => {
            assert.deepStrictEqual(changes((await a().stack.refresh()).summary.resourceChanges), {});
            const rules = await rulesByOwner();
            await a().stack.destroy();
            assert.strictEqual(await ipForward("node1"), "1", "the other stack still owns ip_forward");
            const left = await rulesByOwner();
            assert.strictEqual(Object.keys(left).length, 2, `only the destroyed stack's rules are gone: ${JSON.stringify(left)}`);
            for (const [owner, n] of Object.entries(left)) assert.strictEqual(rules[owner], n);
            assert.deepStrictEqual(changes((await b().stack.refresh()).summary.resourceChanges), {});
        });

        it("destroy of the last owner restores the original value and leaves the host as it was", async () => {
            await b().stack.destroy();
            assert.strictEqual(await ipForward("node1"), original);
            assert.deepStrictEqual(await labSnapshot(lab), before0);
            assert.strictEqual((await hostExec(lab, "node1", ["test", "-e", "/run/routed-overlay/sysctl/net.ipv4.ip_forward"], { allowFailure: true })).code, 1);
        });
    });

    describe("two RoutedSubnets of two stacks on the same nodes (examples seed-routed-distributed and seed-subnet-gateway)", () => {
        const routed = useStack("seed-routed-distributed", () => lab, { example: true });
        const gateway = useStack("seed-subnet-gateway", () => lab, { example: true });
        let before0: Record<string, string>;
        let t: [TestStack, TestStack];
        const stops: (() => void)[] = [];
        after(() => stops.forEach((s) => s()));

        it("both up; destroying one leaves the other's pods answering the peer", async () => {
            t = [routed(), gateway()];
            before0 = await labSnapshot(lab);
            stops.push(await whoAmIServer("ro-node2-p0"), await whoAmIServer("ro-node2-p1"));
            await t[0].stack.up();
            await t[1].stack.up();
            assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), "192.168.2.100");
            assert.strictEqual(await sourceSeenBy(lab, "remote", "100.64.2.11"), "192.168.3.100");
            await t[1].stack.destroy();
            for (const n of ["node1", "node2", "node3"]) assert.strictEqual(await ipForward(n), "1", `${n} still forwards for the other stack`);
            assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), "192.168.2.100");
            assert.deepStrictEqual(changes((await t[0].stack.preview()).changeSummary), {});
        });

        it("destroying both leaves the hosts as they were", async () => {
            await t[0].stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
            assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), undefined);
        });
    });
});

describe("e2e: a foreign route at our destination (programs/peer-routes)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const stack = useStack("peer-routes", () => lab);
    const on = (...argv: string[]) => hostExec(lab, "peer", argv);
    let before0: Record<string, string>;

    it("another tool replacing our routes shows in refresh, and up stops naming them instead of overwriting them", async () => {
        before0 = await labSnapshot(lab);
        assert.deepStrictEqual(changes((await stack().stack.up()).summary.resourceChanges), { create: 3 });
        // Someone else's routes, same destinations, another next hop and protocol.
        await on("ip", "route", "replace", "10.170.0.0/16", "via", "192.168.2.11", "dev", "eth0", "proto", "static");
        await on("ip", "route", "replace", "10.172.0.0/16", "via", "192.168.2.11", "dev", "eth0", "proto", "static");
        assert.deepStrictEqual(changes((await stack().stack.refresh()).summary.resourceChanges), { update: 2 });
        await assert.rejects(stack().stack.up(), (e: Error) => {
            assert.match(e.message, /a route to 10\.170\.0\.0\/16 in table 254 metric 0 already exists \(proto \w+\) and was not created by routed-overlay/);
            assert.match(e.message, /a route to 10\.172\.0\.0\/16 in table 254 metric 0 already exists \(proto \w+\) and was not created by routed-overlay/);
            return true;
        });
        const live = JSON.parse((await on("ip", "-j", "route", "show", "10.170.0.0/16")).stdout);
        assert.strictEqual(live[0].gateway, "192.168.2.11", "the foreign route is left as it was");
    });

    it("once the other tool's routes are gone, up puts ours back; destroy leaves the peer as it was", async () => {
        await on("ip", "route", "del", "10.170.0.0/16", "proto", "static");
        await on("ip", "route", "del", "10.172.0.0/16", "proto", "static");
        assert.deepStrictEqual(changes((await stack().stack.up()).summary.resourceChanges), { update: 2 });
        assert.strictEqual(JSON.parse((await on("ip", "-j", "route", "show", "10.172.0.0/16", "proto", "214")).stdout)[0].gateway, "192.168.2.10");
        await stack().stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});

describe("e2e: two stacks declare the same routes (programs/peer-routes, stacks team-a and team-b)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const a = useStack("peer-routes", () => lab, { stackName: "team-a" });
    const b = useStack("peer-routes", () => lab, { stackName: "team-b" });
    const on = async (...argv: string[]) => (await hostExec(lab, "peer", argv)).stdout;
    let before0: Record<string, string>;

    it("the second stack's up stops at the first's routes (same mark, another stack's claim), naming them, and leaves them", async () => {
        before0 = await labSnapshot(lab);
        assert.deepStrictEqual(changes((await a().stack.up()).summary.resourceChanges), { create: 3 });
        const routes = await on("ip", "route", "show", "proto", "214");
        await assert.rejects(b().stack.up(), (e: Error) => {
            for (const dst of ["10.170.0.0/16", "10.171.0.0/16|10.172.0.0/16"]) {
                assert.match(e.message, new RegExp(`a route to (${dst.replace(/\./g, "\\.").replace(/\//g, "\\/")}) in table 254 metric 0 carries routed-overlay's mark but this resource does not hold it: the host records it for [0-9a-f]{16} \\(another stack or resource`));
            }
            assert.match(e.message, /set adopt: true to take it over/);
            return true;
        });
        assert.strictEqual(await on("ip", "route", "show", "proto", "214"), routes, "the first stack's routes are untouched");
        assert.strictEqual((await on("ls", "/run/routed-overlay/claims")).split("\n").filter(Boolean).length, 2, "the refused creates took their claims back");
        assert.deepStrictEqual(changes((await a().stack.preview()).changeSummary), {});
    });

    it("once the first stack is destroyed the second one's up creates them; destroy leaves the peer as it was", async () => {
        await a().stack.destroy();
        // The refused up recorded the stack resource already: the Route and the RouteSet are what is left.
        assert.deepStrictEqual(changes((await b().stack.up()).summary.resourceChanges), { create: 2 });
        await b().stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
