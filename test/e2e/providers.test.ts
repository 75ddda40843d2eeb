import * as assert from "assert";
import * as fs from "fs";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { hostExec, LabInfo, startSshd, stopSshd } from "../../lab/lab";
import { routeGroup } from "../../provider/kinds/route-text";

/**
 * Issue 3's acceptance on the real CLI: every kernel object kind is created
 * over SSH, reads back without changes, shows out-of-band changes in refresh,
 * is repaired by up, and destroy leaves objects of other owners alone.
 */
describe("e2e: kernel object providers (real CLI, lab over SSH)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: false });
    });

    describe("one stack of every kind on node1 and the peer", () => {
    const stack = useStack("kernel", () => lab);
    let t: TestStack;
    const on = async (host: string, ...argv: string[]) => (await hostExec(lab, host, argv)).stdout;
    const onJson = async (host: string, ...argv: string[]) => JSON.parse((await on(host, ...argv)) || "[]");
    const pingPod = async () => (await hostExec(lab, "peer", ["ping", "-c", "1", "-W", "1", "10.166.1.10"], { allowFailure: true })).code === 0;

    const ours = async () => ({
        peerRoute: (await onJson("peer", "ip", "-j", "route", "show", "10.166.0.0/16", "proto", "214")).length,
        rule: (await onJson("node1", "ip", "-j", "rule", "show", "priority", "1000")).filter((r: any) => r.protocol === "214").length,
        link: (await hostExec(lab, "node1", ["ip", "link", "show", "rovx0"], { allowFailure: true })).code === 0,
        fdbOnForeignLink: (await onJson("node1", "bridge", "-j", "fdb", "show", "dev", "vxf")).filter((e: any) => e.dst === "192.168.2.11").length,
        tableRoutes: (await onJson("node1", "ip", "-j", "route", "show", "table", "18952", "proto", "214")).length,
        forwardRules: (await on("node1", "iptables", "-S", "FORWARD")).split("\n").filter((l) => /routed-overlay:[0-9a-f]{16}:10\.166\.0\.0\/16:/.test(l)).length,
        ipForward: (await on("node1", "sysctl", "-n", "net.ipv4.ip_forward")).trim(),
    });
    const foreign = async () => ({
        tableRoute: (await onJson("node1", "ip", "-j", "route", "show", "table", "18952", "10.250.0.0/16")).length,
        rule: (await onJson("node1", "ip", "-j", "rule", "show", "priority", "1001")).length,
        link: (await hostExec(lab, "node1", ["ip", "link", "show", "vxf"], { allowFailure: true })).code === 0,
        fdb: (await onJson("node1", "bridge", "-j", "fdb", "show", "dev", "vxf")).filter((e: any) => e.dst === "192.168.2.99").length,
        forward: (await on("node1", "iptables", "-S", "FORWARD")).includes("-s 10.99.0.0/16 -j ACCEPT"),
        peerRoute: (await onJson("peer", "ip", "-j", "route", "show", "10.250.0.0/16")).length,
    });
    const FOREIGN = { tableRoute: 1, rule: 1, link: true, fdb: 1, forward: true, peerRoute: 1 };

    before(async () => {
        t = stack();
        // Objects of other owners, in the same tables, chains and devices the stack uses.
        await on("node1", "ip", "link", "add", "vxf", "type", "vxlan", "id", "77", "dstport", "4791", "local", "192.168.2.10", "dev", "eth0", "nolearning");
        await on("node1", "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vxf", "dst", "192.168.2.99", "permanent");
        await on("node1", "ip", "route", "add", "10.250.0.0/16", "via", "192.168.2.1", "table", "18952", "proto", "static");
        await on("node1", "ip", "rule", "add", "priority", "1001", "to", "10.250.0.0/16", "table", "18952");
        await on("node1", "iptables", "-A", "FORWARD", "-s", "10.99.0.0/16", "-j", "ACCEPT");
        await on("peer", "ip", "route", "add", "10.250.0.0/16", "via", "192.168.2.1", "proto", "static");
    });

    after(async () => {
        if (!lab) return;
        for (const [h, argv] of [
            ["node1", ["ip", "link", "del", "vxf"]], ["node1", ["ip", "route", "del", "10.250.0.0/16", "table", "18952"]],
            ["node1", ["ip", "rule", "del", "priority", "1001"]], ["node1", ["iptables", "-D", "FORWARD", "-s", "10.99.0.0/16", "-j", "ACCEPT"]],
            ["peer", ["ip", "route", "del", "10.250.0.0/16"]], ["peer", ["ip", "route", "del", "10.166.0.0/16"]],
        ] as [string, string[]][]) await hostExec(lab, h, argv, { allowFailure: true });
    });

    it("up creates every kind, and the peer reaches a pod on node1 only afterwards", async () => {
        assert.strictEqual(await pingPod(), false, "the pod must not be reachable before up");
        const up = await t.stack.up();
        assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 10 });
        assert.deepStrictEqual(await ours(), { peerRoute: 1, rule: 1, link: true, fdbOnForeignLink: 1, tableRoutes: 3, forwardRules: 4, ipForward: "1" });
        const bh = await onJson("node1", "ip", "-j", "route", "show", "table", "18952", "type", "blackhole");
        assert.deepStrictEqual(bh.map((r: any) => r.dst), ["10.202.0.0/16"]);
        const fdb = await onJson("node1", "bridge", "-j", "fdb", "show", "dev", "rovx0");
        assert.deepStrictEqual(fdb.filter((e: any) => e.dst).map((e: any) => e.dst).sort(), ["192.168.2.11", "192.168.2.12"]);
        assert.strictEqual(await pingPod(), true, "the peer must reach 10.166.1.10 after up");
    });

    it("a second preview and a refresh show no changes", async () => {
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
    });

    it("out-of-band changes to each kind show in refresh, and the next up repairs them", async () => {
        await on("peer", "ip", "route", "del", "10.166.0.0/16");
        await on("node1", "ip", "rule", "del", "priority", "1000", "to", "10.200.0.0/16", "table", "18952", "protocol", "214");
        await on("node1", "ip", "link", "set", "rovx0", "mtu", "1400");
        await on("node1", "bridge", "fdb", "del", "00:00:00:00:00:00", "dev", "vxf", "dst", "192.168.2.11");
        await on("node1", "bridge", "fdb", "del", "00:00:00:00:00:00", "dev", "rovx0", "dst", "192.168.2.12");
        await on("node1", "ip", "route", "del", "10.201.0.0/16", "table", "18952");
        // Our rules as iptables -S prints them ("-A FORWARD ... --comment routed-overlay:<hash>:<cidr>:<kind>:<dir> ..."), deleted as listed.
        const ruleOf = async (tail: string) => (await on("node1", "iptables", "-S", "FORWARD")).split("\n").find((l) => l.includes(tail))!.replace(/"/g, "").split(" ").slice(2);
        await on("node1", "iptables", "-D", "FORWARD", ...(await ruleOf(":10.166.0.0/16:accept:src")));
        await on("node1", "iptables", "-D", "FORWARD", ...(await ruleOf(":10.166.0.0/16:invalid:dst")));
        await on("node1", "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
        assert.strictEqual(await pingPod(), false);

        const r = await t.stack.refresh();
        assert.deepStrictEqual(changes(r.summary.resourceChanges), { update: 9 });
        const up = await t.stack.up();
        assert.deepStrictEqual(changes(up.summary.resourceChanges), { update: 9 });
        assert.deepStrictEqual(await ours(), { peerRoute: 1, rule: 1, link: true, fdbOnForeignLink: 1, tableRoutes: 3, forwardRules: 4, ipForward: "1" });
        const mtu = (await onJson("node1", "ip", "-j", "link", "show", "rovx0"))[0].mtu;
        assert.strictEqual(mtu, 1450);
        assert.strictEqual(await pingPod(), true);
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    });

    it("preview --diff names the one route that changes in a route set", async () => {
        await t.stack.setConfig("extraRoute", { value: "true" });
        const pv = await t.stack.preview({ diff: true });
        assert.deepStrictEqual(changes(pv.changeSummary), { update: 1 });
        // The engine's own property diff of the keyed map, in the route's group: the new route carries "+" and its
        // ip route words, the others no marker.
        assert.match(pv.stdout, /^\s*~ 10\.0\.0\.0\/8: \{\n(?:\s+10\.20[012]\.0\.0\/16: [^\n]*\n)*\s*\+ 10\.203\.0\.0\/16: "via 172\.32\.0\.3 dev rovx0"$/m);
        assert.doesNotMatch(pv.stdout, /^\s*[-+~] 10\.20[012]\.0\.0\/16/m, "routes that do not change are not marked");
        await t.stack.removeConfig("extraRoute");
    });

    it("rejects bad input at preview, naming the argument and the value, and applies nothing", async () => {
        await t.stack.setConfig("peerDst", { value: "10.166.0.1/16" });
        await assert.rejects(t.stack.preview(), /dst: host bits set; the network is 10\.166\.0\.0\/16: "10\.166\.0\.1\/16"/);
        await t.stack.setConfig("peerDst", { value: "10.166.0.0/16" });
        await t.stack.setConfig("peerDev", { value: "eth0;reboot" });
        await assert.rejects(t.stack.up(), /dev: not a Linux interface name[^\n]*eth0;reboot/);
        await t.stack.removeConfig("peerDst");
        await t.stack.removeConfig("peerDev");
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    });

    it("a host whose sshd is down fails with its name, the other hosts converge, and a rerun converges", async () => {
        await t.stack.setConfig("peerVia", { value: "192.168.2.11" });
        await t.stack.setConfig("extraRoute", { value: "true" });
        await stopSshd(lab, "peer");
        try {
            await assert.rejects(t.stack.up({ continueOnError: true }), /root@198\.18\.0\.200:22: cannot connect over SSH: connect ECONNREFUSED/);
            const table = await onJson("node1", "ip", "-j", "route", "show", "table", "18952", "proto", "214");
            assert.ok(table.some((r: any) => r.dst === "10.203.0.0/16"), "node1's change is applied although the peer is down");
        } finally {
            await startSshd(lab, "peer");
        }
        const up = await t.stack.up();
        assert.deepStrictEqual(changes(up.summary.resourceChanges), { update: 1 });
        const peer = await onJson("peer", "ip", "-j", "route", "show", "10.166.0.0/16");
        assert.strictEqual(peer[0].gateway, "192.168.2.11");
        await t.stack.removeConfig("peerVia");
        await t.stack.removeConfig("extraRoute");
        assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 2 });
    });

    it("keeps the SSH private key out of `pulumi stack export`", async () => {
        const exported = await exportAsUser(t);
        const key = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
        const body = key.split("\n").filter((l) => l && !l.startsWith("-----")).slice(-3);
        for (const l of body) assert.ok(!exported.includes(l), "a line of the private key appears in the export");
    });

    it("the state holds each route set's routes in the groups of routeGroup, in the inputs and the outputs", async () => {
        const exported = JSON.parse(await exportAsUser(t));
        const sets = exported.deployment.resources.filter((r: any) => r.outputs?.routes !== undefined);
        assert.ok(sets.length > 0, "a resource with routes in the state");
        for (const r of sets) {
            for (const routes of [r.inputs.routes, r.outputs.routes]) {
                for (const [group, members] of Object.entries(routes as Record<string, Record<string, string>>)) {
                    for (const k of Object.keys(members)) assert.strictEqual(routeGroup(k), group, `${r.urn}: ${k}`);
                    assert.ok(Object.values(members).every((v) => typeof v === "string"), `${r.urn}: ${group}`);
                }
            }
        }
    });

    it("destroy removes exactly the package's objects; other owners' survive", async () => {
        const d = await t.stack.destroy();
        assert.deepStrictEqual(changes(d.summary.resourceChanges), { delete: 10 });
        assert.deepStrictEqual(await ours(), { peerRoute: 0, rule: 0, link: false, fdbOnForeignLink: 0, tableRoutes: 0, forwardRules: 0, ipForward: "0" });
        assert.deepStrictEqual(await foreign(), FOREIGN);
        assert.strictEqual(await pingPod(), false);
    });

    it("an identical route of another owner stops up, unless adopt takes it over", async () => {
        await on("peer", "ip", "route", "add", "10.166.0.0/16", "via", "192.168.2.10", "dev", "eth0", "proto", "static");
        await assert.rejects(t.stack.up(), /root@198\.18\.0\.200:22: a route to 10\.166\.0\.0\/16 in table 254 metric 0 already exists \(proto 4\)[^\n]*adopt: true/);
        await t.stack.setConfig("adoptPeer", { value: "true" });
        await t.stack.up();
        const peer = await onJson("peer", "ip", "-j", "route", "show", "10.166.0.0/16");
        assert.strictEqual(peer.length, 1);
        assert.strictEqual(peer[0].protocol, "214", "adopted routes carry the package's mark");
        await t.stack.destroy();
        assert.deepStrictEqual(await onJson("peer", "ip", "-j", "route", "show", "10.166.0.0/16"), []);
        assert.deepStrictEqual(await foreign(), FOREIGN);
    });
});
});
