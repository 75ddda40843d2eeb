import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { hostExec, LabInfo, restartFrr } from "../../lab/lab";

/**
 * Faults a production host goes through, injected into the lab while a stack
 * is up: each must show in `refresh`, and one `up` must repair it.
 */
describe("e2e: faults on hosts (refresh shows them, up repairs them)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    describe("FRR restarted on the router (examples/seed-subnet-gateway)", () => {
        const stack = useStack("seed-subnet-gateway", () => lab, { example: true });
        let t: TestStack;
        let stop: () => void = () => undefined;
        let before0: Record<string, string>;
        const reach = () => sourceSeenBy(lab, "remote", "100.64.2.11");
        before(async () => {
            t = stack();
            before0 = await labSnapshot(lab);
            stop = await whoAmIServer("ro-node2-p1");
        });
        after(() => stop());

        it("the route configured at run time is gone after the restart; refresh shows it, up brings it back", async () => {
            await t.stack.up();
            assert.strictEqual(await reach(), "192.168.3.100");
            await restartFrr(lab);
            const config = (await hostExec(lab, "router", ["vtysh", "-c", "show running-config"])).stdout;
            assert.doesNotMatch(config, /tag 214/, "the restart lost the route");
            assert.strictEqual(await reach(), undefined);
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), { update: 1 });
            assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
            assert.strictEqual(await reach(), "192.168.3.100");
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("destroy leaves the lab as it was", async () => {
            await t.stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });

    describe("hosts rebooted: the peer's routes flushed, a node's forwarding and firewall reset (examples/seed-routed-distributed)", () => {
        const stack = useStack("seed-routed-distributed", () => lab, { example: true });
        let t: TestStack;
        let stop: () => void = () => undefined;
        let before0: Record<string, string>;
        const reach = () => sourceSeenBy(lab, "peer", "10.166.2.10");
        before(async () => {
            t = stack();
            before0 = await labSnapshot(lab);
            stop = await whoAmIServer("ro-node2-p0");
        });
        after(() => stop());

        it("after the reboots nothing answers; refresh shows every lost object; one up repairs them all", async () => {
            // The node's own boot-time firewall (the seed's DROP policy and INVALID drop), which a reboot restores.
            const boot = (await hostExec(lab, "node1", ["iptables", "-S", "FORWARD"])).stdout.split("\n").filter((l) => l.startsWith("-A "));
            await t.stack.up();
            assert.strictEqual(await reach(), "192.168.2.100");
            // What a reboot leaves: no routes but the connected ones, ip_forward 0, only the boot-time FORWARD rules.
            await hostExec(lab, "peer", ["ip", "route", "flush", "proto", "214"]);
            await hostExec(lab, "node1", ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
            await hostExec(lab, "node1", ["iptables", "-F", "FORWARD"]);
            for (const rule of boot) await hostExec(lab, "node1", ["iptables", ...rule.split(" ")]);
            assert.strictEqual(await reach(), undefined);
            // The peer's route set, node1's ip_forward and its two accepts.
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), { update: 4 });
            assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 4 });
            assert.strictEqual(await reach(), "192.168.2.100");
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("destroy leaves the lab as it was", async () => {
            await t.stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });
});
