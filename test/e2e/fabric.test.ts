import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

/**
 * examples/liqo-vxlan-fabric. The remote cluster is stood in for by an
 * address of 10.200.0.0/16 on the active gateway (where Liqo's tunnel to the
 * other cluster would start): a ping to it from a non-gateway node must
 * cross the VXLAN overlay, and must again after the gateway moves.
 */
describe("e2e: TunnelFabric (examples/liqo-vxlan-fabric, VXLAN overlay, packets)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    describe("cross-cluster traffic and gateway moves", () => {
        const stack = useStack("liqo-vxlan-fabric", () => lab, { example: true });
        let t: TestStack;
        let before0: Record<string, string>;
        const REMOTE = "10.200.0.1";
        const rx = async (node: string) =>
            JSON.parse((await hostExec(lab, node, ["ip", "-j", "-s", "link", "show", "dev", "liqo.vxlan"])).stdout)[0].stats64.rx.packets as number;
        const pingRemote = async () => (await hostExec(lab, "node3", ["ping", "-n", "-c", "2", "-W", "1", REMOTE], { allowFailure: true })).code === 0;
        const remoteOn = async (node: string, add: boolean) =>
            hostExec(lab, node, ["ip", "addr", add ? "add" : "del", `${REMOTE}/32`, "dev", "lo"], { allowFailure: !add });

        before(async () => {
            t = stack();
            before0 = await labSnapshot(lab);
        });
        after(async () => {
            for (const n of ["node1", "node2"]) await remoteOn(n, false).catch(() => undefined);
        });

        it("up builds the fabric; node3 reaches the remote cluster through node1 over the overlay", async () => {
            const up = await t.stack.up();
            // Stack, provider, component, 3 x (link, FDB set, route set, rule), and the RouteConfigurations.
            assert.ok((up.summary.resourceChanges?.create ?? 0) > 15, JSON.stringify(up.summary.resourceChanges));
            await remoteOn("node1", true);
            const rx0 = await rx("node1");
            assert.strictEqual(await pingRemote(), true);
            assert.ok((await rx("node1")) >= rx0 + 2, "the echo requests arrived on node1's liqo.vxlan");
            const via = (await hostExec(lab, "node3", ["ip", "route", "get", REMOTE])).stdout;
            assert.match(via, /via 172\.29\.0\.1 dev liqo\.vxlan table 18952/);
            const fdb = JSON.parse((await hostExec(lab, "node3", ["bridge", "-j", "fdb", "show", "dev", "liqo.vxlan"])).stdout);
            assert.deepStrictEqual(fdb.filter((e: any) => e.dst).map((e: any) => e.dst).sort(), ["192.168.2.10", "192.168.2.11"]);
            const back = (await hostExec(lab, "node1", ["ip", "route", "show", "table", "18952"])).stdout;
            assert.match(back, /10\.166\.3\.10 via 172\.29\.0\.3 dev liqo\.vxlan/, "the gateway routes the way back per pod");
        });

        it("the RouteConfiguration objects are accepted by the API server with the upstream CRD", async () => {
            const got = await execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, "get", "routeconfigurations", "-n", "liqo", "-o", "json"]);
            assert.ok(JSON.parse(got.stdout).items.length > 0);
        });

        it("a second preview and a refresh show no changes", async () => {
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
        });

        it("moving activeGateway to node2 takes one up, and the ping works again through node2", async () => {
            await remoteOn("node1", false);
            await remoteOn("node2", true);
            await t.stack.setConfig("activeGateway", { value: "node2" });
            const up = await t.stack.up();
            // Rules and routes move; links and FDB entries stay (nothing is replaced).
            const moved = changes(up.summary.resourceChanges);
            assert.strictEqual(moved.replace, undefined, JSON.stringify(moved));
            assert.ok((moved.update ?? 0) > 0, JSON.stringify(moved));
            const rx0 = await rx("node2");
            assert.strictEqual(await pingRemote(), true);
            assert.ok((await rx("node2")) >= rx0 + 2, "the echo requests arrived on node2's liqo.vxlan");
            assert.match((await hostExec(lab, "node3", ["ip", "route", "get", REMOTE])).stdout, /via 172\.29\.0\.2 dev liqo\.vxlan/);
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("destroy leaves the lab as it was", async () => {
            await remoteOn("node2", false);
            await t.stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });
});
