import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { holdersOf, sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo } from "../../lab/lab";

const VIP = "192.168.2.250";
const POD = { netns: "ro-node3-p0", address: "10.166.3.10" };
const NODES = ["node1", "node2", "node3"];

/**
 * examples/vip-return-route: the peer's return route points at a keepalived
 * VIP. Failover is proved with packets; the outage is measured and printed
 * (figures, not thresholds: benchmarks measure, tests check behaviour).
 */
describe("e2e: GatewayVip as next hop (examples/vip-return-route, keepalived, packets)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    describe("failover", () => {
        const stack = useStack("vip-return-route", () => lab, { example: true, config: { vrrpPass: { value: "lab-vrrp", secret: true } } });
        let t: TestStack;
        let before0: Record<string, string>;
        let stop: () => void;
        let budget: number;

        const holders = () => holdersOf(lab, NODES, VIP);
        const pollUntilAll = async (ok: () => Promise<boolean>) => {
            for (let i = 0; i < 100 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 100));
            assert.ok(await ok(), "every node holds the VIP");
        };
        const waitForHolder = async (node: string) => {
            for (let i = 0; i < 100; i++) {
                const h = await holders();
                if (h.length === 1 && h[0] === node) return;
                await new Promise((r) => setTimeout(r, 100));
            }
            assert.deepStrictEqual(await holders(), [node]);
        };
        /** Pings the pod through the VIP at 10 per second while `fault` runs; the longest gap, in seconds. */
        const outageDuring = async (fault: () => Promise<unknown>) => {
            const ping = hostExec(lab, "peer", ["ping", "-n", "-i", "0.1", "-W", "1", "-w", "10", POD.address], { allowFailure: true });
            await new Promise((r) => setTimeout(r, 2000));
            await fault();
            // Answers only: an ICMP error ("From ... icmp_seq=N Destination Host Unreachable") carries a sequence number too.
            const seqs = [...(await ping).stdout.matchAll(/bytes from .* icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
            assert.ok(seqs.length > 0, "no answer at all");
            let gap = 1;
            for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, seqs[i] - seqs[i - 1]);
            const last = seqs[seqs.length - 1];
            return { outage: (gap - 1) * 0.1, lastSeq: last, received: seqs.length };
        };
        const restore = async () => {
            // keepalived not running on node1; the election records node2 as the holder, which is no drift.
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), { update: 1 }, "refresh shows keepalived not running");
            assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
            await waitForHolder("node1");
        };

        before(async () => {
            t = stack();
            before0 = await labSnapshot(lab);
            stop = await whoAmIServer(POD.netns);
        });
        after(() => stop?.());

        it("up puts the VIP on the highest-priority node and the peer reaches pods through it", async () => {
            const up = await t.stack.up();
            // Stack, k8s provider, 2 components + GatewayVip, 3 keepalived, the election, Subnet, 9 node prerequisites, the peer's route set, return component.
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 20 });
            // Read back by the election before up returned: no wait here.
            assert.deepStrictEqual(await holders(), ["node1"]);
            assert.strictEqual(up.outputs.holder.value, "node1");
            budget = up.outputs.failoverSeconds.value;
            assert.ok(budget > 3 && budget <= 3 * 1 + 1, `the defaults' budget (${budget} s) is within 3 x advertInt + 1 s`);
            const route = JSON.parse((await hostExec(lab, "peer", ["ip", "-j", "route", "show", "10.166.0.0/16"])).stdout);
            assert.strictEqual(route[0].gateway, VIP);
            assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("keeps the VRRP password secret: 0600 files, nothing in the export", async () => {
            for (const n of NODES) {
                assert.strictEqual((await hostExec(lab, n, ["stat", "-c", "%a", "/etc/keepalived/keepalived.conf"])).stdout.trim(), "600");
                assert.match((await hostExec(lab, n, ["cat", "/etc/keepalived/keepalived.conf"])).stdout, /auth_pass lab-vrrp/);
            }
            assert.ok(!(await exportAsUser(t)).includes("lab-vrrp"), "the VRRP password appears in `pulumi stack export`");
        });

        it("the master's keepalived killed with SIGKILL: the backup takes over and the peer still reaches the pod", async () => {
            const r = await outageDuring(() => hostExec(lab, "node1", ["pkill", "-KILL", "-F", "/run/keepalived.pid"]));
            process.stderr.write(`      measured: SIGKILL failover outage ${r.outage.toFixed(1)} s (${r.received} of ~100 pings answered)\n`);
            assert.ok(r.lastSeq >= 95, `the pod stopped answering after the failover (last seq ${r.lastSeq})`);
            assert.ok((await holders()).includes("node2"), "node2 took the VIP");
            assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
            await restore();
        });

        it("the master's keepalived stopped gracefully: the backup takes over at once", async () => {
            const r = await outageDuring(() => hostExec(lab, "node1", ["pkill", "-TERM", "-F", "/run/keepalived.pid"]));
            process.stderr.write(`      measured: graceful-stop failover outage ${r.outage.toFixed(1)} s (${r.received} of ~100 pings answered)\n`);
            assert.ok(r.lastSeq >= 95, `the pod stopped answering after the failover (last seq ${r.lastSeq})`);
            await waitForHolder("node2");
            await restore();
        });

        it("the master's link cut: the VIP moves, and the outage is the VRRP detection time", async () => {
            const r = await outageDuring(() => hostExec(lab, "node1", ["ip", "link", "set", "eth0", "down"]));
            process.stderr.write(`      measured: link-cut failover outage ${r.outage.toFixed(1)} s against a budget of ${budget} s (${r.received} of ~100 pings answered)\n`);
            try {
                // One ping interval (0.1 s) is the measurement's resolution: a gap of n lost pings is an outage of n x 0.1 s, give or take one.
                assert.ok(r.outage <= budget + 0.1, `the outage ${r.outage.toFixed(1)} s exceeds the computed budget ${budget} s`);
                assert.ok(r.outage <= 3 * 1 + 1, "at most 3 x advertInt + 1 s with the defaults");
                assert.ok(r.lastSeq >= 95, `the pod stopped answering after the failover (last seq ${r.lastSeq})`);
                assert.ok(r.outage > 0, "with the master's link down, some packets must be lost until the backup notices");
                assert.ok((await holders()).includes("node2"), "node2 took the VIP");
            } finally {
                await hostExec(lab, "node1", ["ip", "link", "set", "eth0", "up"]);
                // The kernel dropped node1's default route with the link; put back the lab's own.
                await hostExec(lab, "node1", ["ip", "route", "replace", "default", "via", "192.168.2.1"], { allowFailure: true });
            }
            await waitForHolder("node1");
        });

        it("a config edited on a host shows in refresh and up puts it back", async () => {
            await hostExec(lab, "node3", ["sed", "-i", "s/priority 130/priority 200/", "/etc/keepalived/keepalived.conf"]);
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), { update: 1 });
            assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
            assert.match((await hostExec(lab, "node3", ["cat", "/etc/keepalived/keepalived.conf"])).stdout, /priority 130/);
        });

        it("split brain (VRRP blocked between the nodes): refresh records every holder, up fails naming them; unblocked, up converges", async () => {
            const block = (op: "-I" | "-D") => Promise.all(NODES.map((n) => hostExec(lab, n, ["iptables", op, "INPUT", "-p", "vrrp", "-j", "DROP"])));
            await block("-I");
            try {
                await pollUntilAll(async () => (await holders()).length === NODES.length);
                assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), { update: 1 }, "the election's read-back found no single holder");
                await assert.rejects(t.stack.up(), (e: Error) => {
                    assert.match(e.message, /the VIP 192\.168\.2\.250 is held by node1 and node2 and node3 at once after \d+ s \(split brain\)/);
                    return true;
                });
            } finally {
                await block("-D");
            }
            await waitForHolder("node1");
            assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("destroy stops keepalived, removes the VIP and leaves the lab as it was", async () => {
            await t.stack.destroy();
            assert.deepStrictEqual(await holders(), []);
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });
});
