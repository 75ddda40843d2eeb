import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { hostExec, LabInfo } from "../../lab/lab";

/**
 * Probe and roll back (test/e2e/programs/rollback): a RoutedSubnet's return
 * route on the FRR router, checked from the host behind it with
 * rollbackOnFailure. A wrong next hop breaks the path: the router's route
 * update is undone, `up` fails with the diagnosis, and the router's FRR and
 * kernel state are exactly as before.
 */
describe("e2e: probe and roll back a router's return route (rollbackOnFailure)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const stack = useStack("rollback", () => lab);
    let t: TestStack;
    let stop: () => void = () => undefined;
    let before0: Record<string, string>;
    const POD = "10.166.2.10";
    const router = async () => {
        const run = async (...argv: string[]) => (await hostExec(lab, "router", argv)).stdout;
        return { frr: await run("vtysh", "-c", "show running-config"), kernel: await run("ip", "route", "show", "table", "all") };
    };

    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stop = await whoAmIServer("ro-node2-p0");
    });
    after(() => stop());

    it("up puts the route on the router and checks the path: the host behind the router reaches the pod", async () => {
        const up = await t.stack.up();
        assert.strictEqual(up.outputs.ok.value, true);
        assert.strictEqual(await sourceSeenBy(lab, "remote", POD), "192.168.3.100");
        assert.match((await router()).frr, /^ip route 10\.166\.0\.0\/16 192\.168\.2\.10 tag 214$/m);
    });

    it("a wrong next hop on the router: up fails with the diagnosis, the router is exactly as before, and packets pass", async () => {
        const good = await router();
        await t.stack.setConfig("nextHop", { value: "192.168.2.99" });
        await assert.rejects(t.stack.up(), (e: Error) => {
            assert.match(e.message, /root@198\.18\.0\.201:22: frr\/10\.166\.0\.0\/16\/192\.168\.2\.99: the change made the path check fail, so the previous state was restored on the host; path check from remote \(root@198\.18\.0\.202:22\) failed after 5 s, first failing hop "beyond-next-hop": /);
            process.stderr.write(`      message: ${e.message.split("\n").find((l) => l.includes("previous state was restored"))?.trim()}\n`);
            return true;
        });
        assert.deepStrictEqual(await router(), good, "FRR's running config and the router's kernel routes are as before the change");
        assert.strictEqual(await sourceSeenBy(lab, "remote", POD), "192.168.3.100");
    });

    it("the state still holds the route that is on the router: with the right next hop back, nothing changes; destroy leaves the lab as it was", async () => {
        await t.stack.setConfig("nextHop", { value: "192.168.2.10" });
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
