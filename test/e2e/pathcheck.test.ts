import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { hostExec, LabInfo } from "../../lab/lab";

/**
 * test/e2e/programs/pathcheck: a RoutedSubnet with `verify` from the peer to
 * a pod on node2 (through node1, the next hop). Each break is one the check's
 * own refresh sees while the resources that own the broken object are not
 * refreshed, so `up` leaves it broken and the check has to name it; then a
 * full refresh and `up` repair what the stack owns, or the test undoes what
 * it does not.
 */
describe("e2e: PathCheck (RoutedSubnet verify): up fails naming the first failing hop", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    const stack = useStack("pathcheck", () => lab);
    let t: TestStack;
    let stop: () => void = () => undefined;
    let before0: Record<string, string>;
    let checkUrn: string;
    const POD = "10.166.2.10";

    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stop = await whoAmIServer("ro-node2-p0");
    });
    after(() => stop());

    /** Refreshes the check alone: the route set, sysctls and firewall keep what their state says. */
    const refreshCheck = async () => changes((await t.stack.refresh({ target: [checkUrn] })).summary.resourceChanges);
    const upFails = async (hop: string, detail: RegExp) => {
        await assert.rejects(t.stack.up(), (e: Error) => {
            assert.match(e.message, new RegExp(`path check from peer \\(root@198\\.18\\.0\\.200:22\\) failed after 5 s, first failing hop "${hop}": `));
            assert.match(e.message, detail);
            const line = e.message.split("\n").find((l) => l.includes("first failing hop"));
            process.stderr.write(`      message: ${line?.trim()}\n`);
            return true;
        });
    };
    const upPasses = async () => {
        const up = await t.stack.up();
        assert.strictEqual(up.outputs.ok.value, true);
        assert.deepStrictEqual(up.outputs.failures.value, []);
        assert.strictEqual(await sourceSeenBy(lab, "peer", POD), "192.168.2.100");
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    };

    it("up checks the path after the routes and passes; a refresh of a working path shows nothing", async () => {
        await upPasses();
        const state = await t.stack.exportStack();
        checkUrn = (state.deployment.resources as { urn: string; type: string }[]).find((r) => r.type.endsWith(":PathCheck"))!.urn;
        assert.ok(checkUrn, "the stack has a PathCheck");
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
    });

    it("route removed on the client: refresh shows drift, up fails at the route; a full refresh and up put the route back and pass", async () => {
        await hostExec(lab, "peer", ["ip", "route", "del", "10.166.0.0/16"]);
        assert.deepStrictEqual(await refreshCheck(), { update: 1 });
        // The peer's default route sends the pods to the router: the route exists, but not via the next hop.
        await upFails("route", /no route on the client peer to 10\.166\.2\.10 via 192\.168\.2\.10: it routes it 10\.166\.2\.10 via 192\.168\.2\.1 dev eth0/);
        await t.stack.refresh();
        await upPasses();
    });

    it("next hop down (node1's eth0): up fails at the next hop; back up, up passes", async () => {
        await hostExec(lab, "node1", ["ip", "link", "set", "eth0", "down"]);
        try {
            assert.deepStrictEqual(await refreshCheck(), { update: 1 });
            await upFails("next-hop", /the next hop 192\.168\.2\.10 \(node1\) of the client peer does not answer: no ping reply/);
        } finally {
            await hostExec(lab, "node1", ["ip", "link", "set", "eth0", "up"]);
            // The kernel dropped node1's default route with the link; put back the lab's own.
            await hostExec(lab, "node1", ["ip", "route", "replace", "default", "via", "192.168.2.1"]);
        }
        await upPasses();
    });

    it("forwarding off on node1: up fails beyond the next hop, with node1's counters; a full refresh and up restore ip_forward and pass", async () => {
        await hostExec(lab, "node1", ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
        assert.deepStrictEqual(await refreshCheck(), { update: 1 });
        await upFails("beyond-next-hop",
            /the next hop 192\.168\.2\.10 \(node1\) answers the client peer but 10\.166\.2\.10 does not \(forwarding, firewall or overlay beyond it\): forwarding is off on node1 \(net\.ipv4\.ip_forward = 0\); during 3 probes: .*ForwDatagrams \+0, InAddrErrors \+[1-9]/);
        // The Sysctl owns ip_forward: refreshed, it shows drift, and up sets it again before the check runs.
        assert.ok((changes((await t.stack.refresh()).summary.resourceChanges).update ?? 0) >= 1);
        await upPasses();
        assert.strictEqual((await hostExec(lab, "node1", ["cat", "/proc/sys/net/ipv4/ip_forward"])).stdout.trim(), "1");
    });

    it("destroy leaves the lab as it was", async () => {
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
