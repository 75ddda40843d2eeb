import * as assert from "assert";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo, REPO_ROOT } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

/** examples/adopt-existing: a hand-made Subnet and peer route come under Pulumi without being clobbered by surprise. */
describe("e2e: adoption of existing objects (examples/adopt-existing)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    let t: TestStack;
    let before0: Record<string, string>;
    const kubectl = (...a: string[]) => execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, ...a], { allowFailure: true });
    const peerRoute = async () => (await hostExec(lab, "peer", ["ip", "-j", "-N", "route", "show", "10.166.0.0/16"])).stdout;

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const stack = useStack("adopt-existing", () => lab, { example: true });
    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        // The hand-made state the example starts from.
        const made = await kubectl("apply", "-f", path.join(REPO_ROOT, "examples/adopt-existing/legacy-subnet.yaml"));
        assert.strictEqual(made.code, 0, made.stderr);
        await hostExec(lab, "peer", ["ip", "route", "add", "10.166.0.0/16", "via", "192.168.2.10", "dev", "eth0"]);
    });
    after(async () => {
        if (!lab) return;
        await kubectl("delete", "subnet", "legacy", "--ignore-not-found", "--cascade=background");
        await hostExec(lab, "peer", ["ip", "route", "del", "10.166.0.0/16"], { allowFailure: true });
    });

    it("without adopt, up stops at the existing route, names the host and says how to take it over", async () => {
        await t.stack.setConfig("adopt", { value: "false" });
        await assert.rejects(t.stack.up(), /198\.18\.0\.200[\s\S]*already exists[\s\S]*adopt/);
        await t.stack.removeConfig("adopt");
        const r = JSON.parse(await peerRoute());
        // iproute2's JSON leaves out the protocol of a "boot" route (the default of `ip route add`).
        assert.deepStrictEqual([r.length, r[0].protocol, r[0].gateway], [1, undefined, "192.168.2.10"], "the hand-made route is untouched");
    });

    it("with adopt, up takes over the route and the Subnet: routing replaces the NAT, the route carries the mark", async () => {
        const up = await t.stack.up();
        assert.strictEqual(changes(up.summary.resourceChanges).delete, undefined);
        const route = JSON.parse(await peerRoute());
        assert.strictEqual(route.length, 1);
        assert.strictEqual(String(route[0].protocol), "214");
        assert.strictEqual(route[0].gateway, "192.168.2.10");
        const subnet = JSON.parse((await kubectl("get", "subnet", "legacy", "-o", "json", "--show-managed-fields")).stdout);
        assert.strictEqual(subnet.spec.natOutgoing, false);
        assert.ok((subnet.metadata.managedFields as { manager: string }[]).some((m) => m.manager.startsWith("pulumi")), JSON.stringify(subnet.metadata.managedFields.map((m: any) => m.manager)));
    });

    it("then a preview and a refresh show no changes", async () => {
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
    });

    it("destroy removes what was adopted (it is owned now) and leaves the rest of the lab as it was", async () => {
        await t.stack.destroy();
        assert.strictEqual(JSON.parse(await peerRoute()).length, 0);
        assert.match((await kubectl("get", "subnet", "legacy")).stderr, /NotFound/);
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
