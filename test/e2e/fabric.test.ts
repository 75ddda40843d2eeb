import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo, startSshd, stopSshd } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";
import { renderRouteConfiguration } from "../../components/render/routeconfiguration";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { spawn } from "child_process";

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
            // Stack, kubernetes provider, component, 3 x (link, FDB set, route set with its rules), and 3 RouteConfigurations.
            assert.strictEqual(up.summary.resourceChanges?.create, 3 + 3 * 3 + 3, JSON.stringify(up.summary.resourceChanges));
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

        const GW = "172.29.0.254";
        const mac = async (node: string) => JSON.parse((await hostExec(lab, node, ["ip", "-j", "link", "show", "dev", "liqo.vxlan"])).stdout)[0].address as string;
        const neighbour = async (node: string) =>
            (JSON.parse((await hostExec(lab, node, ["ip", "-j", "neigh", "show", "to", GW, "dev", "liqo.vxlan"])).stdout)[0] ?? {}).lladdr as string | undefined;
        const holds = async (node: string) => (await hostExec(lab, node, ["ip", "-j", "addr", "show", "dev", "liqo.vxlan"])).stdout.includes(`"${GW}"`);

        it("adding gatewayAddress takes one up: node2 holds it, the other nodes route through it", async () => {
            await t.stack.setConfig("gatewayAddress", { value: GW });
            const up = await t.stack.up();
            assert.strictEqual(changes(up.summary.resourceChanges).replace, undefined, JSON.stringify(up.summary.resourceChanges));
            assert.deepStrictEqual([await holds("node1"), await holds("node2")], [false, true]);
            assert.match((await hostExec(lab, "node3", ["ip", "route", "get", REMOTE])).stdout, new RegExp(`via ${GW.replace(/\./g, "\\.")} dev liqo\\.vxlan table 18952`));
            const rx0 = await rx("node2");
            assert.strictEqual(await pingRemote(), true);
            assert.ok((await rx("node2")) >= rx0 + 2, "the echo requests arrived on node2's liqo.vxlan");
            assert.strictEqual(await neighbour("node3"), await mac("node2"));
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("with it, a move changes node1's and node2's resources only, preview --diff names each entry, and the nodes' neighbour entries follow at once", async () => {
            await t.stack.setConfig("activeGateway", { value: "node1" });
            const pv = await t.stack.preview({ diff: true });
            // The engine's property diff of the two holds on the address: node2 lets it go, node1 takes it; the links do not change.
            // One block of the preview per resource, from its urn line to the next resource's header.
            const block = (name: string) => pv.stdout.split(/\n(?=\s*[~+-]+ \S+: \()/).find((b) => b.includes(`::${name}]`)) ?? "";
            assert.match(block("fabric-node1-gateway-address"), /~ held\s*: false => true/);
            assert.match(block("fabric-node2-gateway-address"), /~ held\s*: true => false/);
            assert.doesNotMatch(pv.stdout, /fabric-node\d+-link\]/, "the links do not change");
            // node3's entry is fresh (REACHABLE) at node2's MAC: without an announcement it would stay so for 15-45 s.
            assert.strictEqual(await pingRemote(), true);
            assert.strictEqual(await neighbour("node3"), await mac("node2"));
            await remoteOn("node2", false);
            await remoteOn("node1", true);
            const changed: string[] = [];
            const up = await t.stack.up({
                onEvent: (e) => {
                    const m = e.resOutputsEvent?.metadata;
                    if (m && m.op !== "same" && m.type !== "pulumi:pulumi:Stack" && !m.type.startsWith("pulumi:providers:")) changed.push(m.urn.split("::").pop()!);
                },
            });
            process.stderr.write(`      measured: the move changed ${changed.length} resources: ${changed.sort().join(", ")}\n`);
            assert.ok(changed.length > 0);
            assert.deepStrictEqual(changed.filter((n) => !/node[12]\b|node[12]-/.test(n)), [], "only the two gateways' resources change");
            assert.strictEqual(changes(up.summary.resourceChanges).replace, undefined);
            assert.deepStrictEqual([await holds("node1"), await holds("node2")], [true, false]);
            // The announcement runs in the background of node1's link update; the up's later steps leave it time.
            let seen: string | undefined;
            for (let i = 0; i < 30 && (seen = await neighbour("node3")) !== (await mac("node1")); i++) await new Promise((r) => setTimeout(r, 100));
            assert.strictEqual(seen, await mac("node1"), "node3 learnt the gateway address at node1's MAC from the gratuitous ARP");
            const rx0 = await rx("node1");
            assert.strictEqual(await pingRemote(), true);
            assert.ok((await rx("node1")) >= rx0 + 2, "the echo requests arrived on node1's liqo.vxlan");
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("with it, a move to node2 while node1 cannot be reached takes effect on node2; the up names node1, and a rerun converges", async () => {
            await t.stack.setConfig("activeGateway", { value: "node2" });
            await remoteOn("node1", false);
            await remoteOn("node2", true);
            await stopSshd(lab, "node1");
            try {
                await assert.rejects(t.stack.up({ continueOnError: true }), /root@198\.18\.0\.11:22: cannot connect over SSH/);
                assert.strictEqual(await holds("node2"), true, "node2 took the address although node1 could not give it up");
                let seen: string | undefined;
                for (let i = 0; i < 30 && (seen = await neighbour("node3")) !== (await mac("node2")); i++) await new Promise((r) => setTimeout(r, 100));
                assert.strictEqual(seen, await mac("node2"));
                const rx0 = await rx("node2");
                assert.strictEqual(await pingRemote(), true);
                assert.ok((await rx("node2")) >= rx0 + 2, "the echo requests arrived on node2's liqo.vxlan");
            } finally {
                await startSshd(lab, "node1");
            }
            await t.stack.up();
            assert.deepStrictEqual([await holds("node1"), await holds("node2")], [false, true]);
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("destroy leaves the lab as it was", async () => {
            await remoteOn("node2", false);
            await t.stack.removeConfig("gatewayAddress");
            await t.stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });

    describe("an upgrade from version 0.1 (a Rule resource per rule): the RouteSets take the rules over, and no rule leaves a host", () => {
        const stack = useStack("fabric-upgrade", () => lab);
        let t: TestStack;
        let before0: Record<string, string>;
        const REMOTE = "10.200.0.1";
        const fabricRules = async (node: string) =>
            (JSON.parse((await hostExec(lab, node, ["ip", "-j", "rule", "show", "table", "18952"])).stdout) as any[]).map((r) => `${r.src}/${r.srclen ?? 0} ${r.dst ?? "all"}/${r.dstlen ?? 0} proto ${r.protocol}`).sort();
        const claimFiles = async (node: string) =>
            (await hostExec(lab, node, ["sh", "-c", "grep -r -l -x -F 'rule 4/priority 18952 to 10.200.0.0/16 table 18952' /run/routed-overlay/claims || true"])).stdout.split("\n").filter(Boolean);
        before(async () => {
            t = stack();
            before0 = await labSnapshot(lab);
            await t.stack.setConfig("variant", { value: "0.1" });
        });
        after(async () => {
            await hostExec(lab, "node1", ["ip", "addr", "del", `${REMOTE}/32`, "dev", "lo"], { allowFailure: true });
        });

        it("0.1's layout: a Rule resource per rule; node3 reaches the remote cluster through node1", async () => {
            const up = await t.stack.up();
            assert.strictEqual(changes(up.summary.resourceChanges).create, 1 + 1 + 3 * 4, JSON.stringify(up.summary.resourceChanges));
            await hostExec(lab, "node1", ["ip", "addr", "add", `${REMOTE}/32`, "dev", "lo"]);
            assert.strictEqual((await hostExec(lab, "node3", ["ping", "-n", "-c", "2", "-W", "1", REMOTE], { allowFailure: true })).code, 0);
            assert.strictEqual((await claimFiles("node3")).length, 1);
        });

        it("the upgrade's up: the Rule resources go, the RouteSets hold the rules, and no host saw a rule deleted", async () => {
            await t.stack.setConfig("variant", { value: "current" });
            const pv = await t.stack.preview({ diff: true });
            // Each rule a set takes over is named in the diff by its selector.
            assert.match(pv.stdout, /\+ rules\s*: \{\s*\n\s*\+ priority 18952 to 10\.200\.0\.0\/16: "lookup 18952"/);
            const rules0 = await Promise.all(["node1", "node2", "node3"].map(fabricRules));
            // `ip monitor rule` on every node for the length of the up: a rule deleted and added back would show.
            const monitors = ["node1", "node2", "node3"].map((n) => {
                const p = spawn("nsenter", ["-t", String(lab.hosts[n].keeperPid), "-n", "--", "ip", "monitor", "rule"]);
                let out = "";
                p.stdout.on("data", (d) => (out += d));
                return { p, out: () => out };
            });
            let up;
            try {
                await new Promise((r) => setTimeout(r, 300));
                up = await t.stack.up();
            } finally {
                for (const m of monitors) m.p.kill();
            }
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { delete: 3, update: 3 });
            assert.deepStrictEqual(monitors.map((m) => m.out()), ["", "", ""], "no rule was deleted or added on any node");
            assert.deepStrictEqual(await Promise.all(["node1", "node2", "node3"].map(fabricRules)), rules0);
            const files = await claimFiles("node3");
            assert.strictEqual(files.length, 1, "one claim holds the rule: the RouteSet's");
            assert.strictEqual((await hostExec(lab, "node3", ["ping", "-n", "-c", "2", "-W", "1", REMOTE], { allowFailure: true })).code, 0);
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
        });

        it("a move after it is updates of the two gateways' sets, each naming the rules it swaps; destroy leaves the lab as it was", async () => {
            await t.stack.setConfig("activeGateway", { value: "node2" });
            const pv = await t.stack.preview({ diff: true });
            const block = (name: string) => pv.stdout.split(/\n(?=\s*[~+-]+ \S+: \()/).find((b) => b.includes(`::${name}]`)) ?? "";
            assert.match(block("fabric-node2-routes"), /- priority 18952 to 10\.200\.0\.0\/16\s*: "lookup 18952"/);
            assert.match(block("fabric-node2-routes"), /\+ priority 18952 from 10\.200\.0\.0\/16\s*: "lookup 18952"/);
            assert.match(block("fabric-node1-routes"), /- priority 18952 from 10\.200\.0\.0\/16\s*: "lookup 18952"/);
            const up = await t.stack.up();
            const c = changes(up.summary.resourceChanges);
            assert.deepStrictEqual([c.create, c.delete, c.replace], [undefined, undefined, undefined], JSON.stringify(c));
            assert.deepStrictEqual(await fabricRules("node2"), ["10.200.0.0/16 all/0 proto 214"]);
            assert.deepStrictEqual(await fabricRules("node1"), ["all/0 10.200.0.0/16 proto 214"]);
            await hostExec(lab, "node1", ["ip", "addr", "del", `${REMOTE}/32`, "dev", "lo"]);
            await hostExec(lab, "node2", ["ip", "addr", "add", `${REMOTE}/32`, "dev", "lo"]);
            try {
                assert.strictEqual((await hostExec(lab, "node3", ["ping", "-n", "-c", "2", "-W", "1", REMOTE], { allowFailure: true })).code, 0);
            } finally {
                await hostExec(lab, "node2", ["ip", "addr", "del", `${REMOTE}/32`, "dev", "lo"]);
            }
            await t.stack.destroy();
            assert.deepStrictEqual(await labSnapshot(lab), before0);
        });
    });

    describe("examples/liqo-route-configurations: seed 004's Rome tables on the API server", () => {
        const stack = useStack("liqo-route-configurations", () => lab, { example: true });
        const FIXTURES = path.resolve(__dirname, "../../../test/fixtures/seed-004");
        const kubectlList = async () => {
            const r = await execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, "get", "routeconfigurations", "-A", "-o", "json"]);
            return (JSON.parse(r.stdout).items as any[]).map((o) => ({
                name: o.metadata.name,
                namespace: o.metadata.namespace,
                labels: o.metadata.labels,
                spec: o.spec,
            })).sort((a, b) => a.name.localeCompare(b.name));
        };
        let t: TestStack;
        before(() => {
            t = stack();
        });

        it("up creates the eight objects of the seed; the API server holds them exactly as the seed shows them", async () => {
            assert.deepStrictEqual(await kubectlList(), []);
            const up = await t.stack.up();
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 1 + 1 + 8 });
            const want = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml")).map((f) => YAML.parse(fs.readFileSync(path.join(FIXTURES, f), "utf8")))
                .map((o) => ({ name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels, spec: o.spec }))
                .sort((a, b) => a.name.localeCompare(b.name));
            assert.deepStrictEqual(await kubectlList(), want);
            const tables = up.outputs.kernelTables.value as Record<string, number>;
            assert.strictEqual(Object.keys(tables).length, 8);
            for (const id of Object.values(tables)) assert.ok(id > 255 && id < 2 ** 31, `table ${id} is outside the range Liqo derives`);
        });

        it("a second preview and a refresh show no changes", async () => {
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
            assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
        });

        it("the API server refuses what the CRD refuses, and so does the renderer the program calls", async () => {
            // An IPv6 gw: the CRD says format ipv4. The API server's own verdict, on a copy of a seed object.
            const bad = YAML.parse(fs.readFileSync(path.join(FIXTURES, "rome-worker-extcidr.yaml"), "utf8"));
            bad.metadata.name = "bad-gw";
            bad.spec.table.rules[0].routes[0].gw = "fd00::1";
            const r = await execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, "apply", "--dry-run=server", "-f", "-"],
                { input: YAML.stringify(bad), allowFailure: true });
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stderr, /gw/);
            assert.throws(() => renderRouteConfiguration({ name: "bad-gw", namespace: "liqo", tableName: "t", rules: [{ iif: "liqo-tunnel", routes: [{ dst: "10.60.0.1/32", gw: "fd00::1" }] }] }),
                /rules\[0\]\.routes\[0\]\.gw.*fd00::1/);
        });

        it("destroy removes every object", async () => {
            await t.stack.destroy();
            assert.deepStrictEqual(await kubectlList(), []);
        });
    });
});
