import * as assert from "assert";
import * as fs from "fs";
import { ensureLab, requireRoot } from "../support/lab";
import { hostExec, LabInfo } from "../../lab/lab";
import { kinds, KindImpl } from "../../provider/runtime";
import { closeTransports, Connection, transportFor } from "../../provider/transport";

/**
 * The provider lifecycle as the dynamic-provider process runs it, over real
 * SSH to a lab host, for what the CLI suite does not cover: the nftables
 * backend, IPv6 routes and rules, and a bulk set's round trips.
 */
describe("lab: provider lifecycle over SSH (nftables, IPv6, bulk)", function () {
    this.timeout(120_000);
    let lab: LabInfo;
    let conn: Record<string, unknown>;
    const on = async (...argv: string[]) => (await hostExec(lab, "remote", argv)).stdout;

    async function lifecycle(k: KindImpl, props: Record<string, unknown>) {
        const c = await k.check({}, { ...props, connection: conn });
        assert.strictEqual(c.failures, undefined, JSON.stringify(c.failures));
        const created = await k.create(c.inputs!);
        const read = async () => (await k.read(created.id, created.outs)).props;
        return { inputs: c.inputs!, created, read, diff: async () => k.diff(created.id, await read(), c.inputs!) };
    }

    after(() => closeTransports());

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: false });
        const h = lab.hosts.remote;
        conn = { host: h.ssh.host, user: "root", privateKey: fs.readFileSync(lab.ssh.privateKeyPath, "utf8"), hostKey: h.ssh.hostKey };
    });

    describe("FORWARD accept on an nftables-only firewall", () => {
        before(async () => {
            await on("nft", "add", "table", "inet", "rofilter");
            await on("nft", "add", "chain", "inet", "rofilter", "forward", "{ type filter hook forward priority 0 ; policy drop ; }");
            await on("nft", "add", "rule", "inet", "rofilter", "forward", "ip", "saddr", "10.99.0.0/16", "accept", "comment", '"foreign"');
        });
        after(async () => { await hostExec(lab, "remote", ["nft", "delete", "table", "inet", "rofilter"], { allowFailure: true }); });

        it("inserts both rules, sees one deleted out of band, repairs it, and deletes only its own", async () => {
            const k = kinds.FirewallAccept;
            const r = await lifecycle(k, { cidr: "10.166.0.0/16", marker: "nft-test", backend: "nft", nftChain: "inet rofilter forward" });
            const listing = () => on("nft", "-a", "list", "chain", "inet", "rofilter", "forward");
            assert.match(await listing(), /ip saddr 10\.166\.0\.0\/16 accept comment "routed-overlay:nft-test:10\.166\.0\.0\/16:accept:src"/);
            assert.match(await listing(), /ip daddr 10\.166\.0\.0\/16 accept comment "routed-overlay:nft-test:10\.166\.0\.0\/16:accept:dst"/);
            assert.strictEqual((await r.diff()).changes, false);

            const handle = /accept:src" # handle (\d+)/.exec(await listing())![1];
            await on("nft", "delete", "rule", "inet", "rofilter", "forward", "handle", handle);
            const drifted = await r.read();
            assert.deepStrictEqual(drifted.directions, ["dst"]);
            assert.strictEqual((await k.diff(r.created.id, drifted, r.inputs)).changes, true);
            await k.update(r.created.id, drifted, r.inputs);
            assert.deepStrictEqual((await r.read()).directions, ["dst", "src"]);

            await k.delete(r.created.id, r.created.outs);
            const after = await listing();
            assert.doesNotMatch(after, /routed-overlay/);
            assert.match(after, /comment "foreign"/);
        });
    });

    describe("a multi-value sysctl", () => {
        it("sets, reads back without drift (the kernel prints a tab), and restores the value it found", async () => {
            const key = "net.ipv4.ip_local_port_range";
            const before = (await on("sysctl", "-n", key)).trim();
            const want = before.split(/\s+/).join(" ") === "40000 50000" ? "40001 50001" : "40000 50000";
            const r = await lifecycle(kinds.Sysctl, { key, value: want.replace(" ", "   ") });
            assert.strictEqual(r.inputs.value, want);
            assert.strictEqual((await on("cat", `/proc/sys/${key.replace(/\./g, "/")}`)).trim(), want.replace(" ", "\t"));
            assert.strictEqual((await r.diff()).changes, false);
            await kinds.Sysctl.delete(r.created.id, r.created.outs);
            assert.strictEqual((await on("sysctl", "-n", key)).trim(), before);
        });
    });

    describe("IPv6 routes and rules", () => {
        after(async () => {
            await hostExec(lab, "remote", ["ip", "-6", "rule", "del", "priority", "2001"], { allowFailure: true });
            await hostExec(lab, "remote", ["ip", "-6", "route", "flush", "table", "2001"], { allowFailure: true });
        });
        it("creates, reads back without changes, and deletes an IPv6 route and rule", async () => {
            const route = await lifecycle(kinds.Route, { dst: "2001:db8:66::/64", dev: "eth0", table: 2001 });
            const rule = await lifecycle(kinds.Rule, { priority: 2001, from: "2001:db8:66::/64", table: 2001 });
            assert.strictEqual((await route.diff()).changes, false);
            assert.strictEqual((await rule.diff()).changes, false);
            assert.match(await on("ip", "-6", "route", "show", "table", "2001"), /2001:db8:66::\/64 dev eth0 proto 214/);
            assert.match(await on("ip", "-6", "rule", "show", "priority", "2001"), /from 2001:db8:66::\/64 lookup 2001 proto 214/);
            await kinds.Rule.delete(rule.created.id, rule.created.outs);
            await kinds.Route.delete(route.created.id, route.created.outs);
            assert.strictEqual((await route.read()).present, false);
            assert.strictEqual((await rule.read()).present, false);
        });
    });

    describe("a dual-stack route set", () => {
        it("applies, reads and removes 500 routes of two families, leaving a foreign route of its table", async () => {
            await on("ip", "route", "add", "10.250.0.0/16", "dev", "eth0", "table", "3000", "proto", "static");
            const routes = [];
            for (let i = 0; i < 250; i++) routes.push({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, gateway: "192.168.3.1", dev: "eth0" });
            for (let i = 0; i < 250; i++) routes.push({ dst: `2001:db8:${i.toString(16)}::/48`, dev: "eth0" });
            const calls = () => transportFor(conn as unknown as Connection).calls;
            let n = calls();
            const s = await lifecycle(kinds.RouteSet, { table: 3000, routes, owner: "5e75e75e75e75e75" });
            assert.strictEqual(calls() - n, 2, "create: the claim, then one ip -batch of `route add` (the table is read only on a clash)");
            assert.strictEqual((await on("wc", "-l", "/run/routed-overlay/claims/5e75e75e75e75e75")).trim().split(" ")[0], "500", "one claim per route");
            n = calls();
            const read = await s.read();
            assert.strictEqual(calls() - n, 1, "refresh: one read of the table, both families");
            // The outputs hold the routes in groups (provider/kinds/route-text.ts: routeGroup).
            const flat = (routes: Record<string, Record<string, string>>) => Object.assign({}, ...Object.values(routes)) as Record<string, string>;
            assert.strictEqual(Object.keys(flat(read.routes)).length, 500);
            assert.ok(Object.keys(read.routes).length < 500);
            assert.strictEqual((await kinds.RouteSet.diff(s.created.id, read, s.inputs)).changes, false);

            // An update that takes 50 routes away, adds 50, and moves 50 to another next hop: the claims and the
            // listing, then one batch.
            const next = [...routes.slice(50, 100).map((r) => ({ ...r, gateway: "192.168.3.2" })), ...routes.slice(100),
                ...routes.slice(0, 50).map((r, i) => ({ ...r, dst: `10.110.${i}.0/24` }))];
            const c = await kinds.RouteSet.check(s.created.outs, { table: 3000, routes: next, owner: "5e75e75e75e75e75", connection: conn });
            assert.strictEqual(c.failures, undefined, JSON.stringify(c.failures));
            n = calls();
            const updated = await kinds.RouteSet.update(s.created.id, s.created.outs, c.inputs!);
            assert.strictEqual(calls() - n, 2, "update: the claims with the listing, then one ip -batch");
            const after = await on("ip", "-N", "route", "show", "table", "3000", "proto", "214");
            assert.strictEqual(after.split("\n").filter(Boolean).length, 250);
            assert.match(after, /^10\.100\.50\.0\/24 via 192\.168\.3\.2 dev eth0/m);
            assert.match(after, /^10\.110\.49\.0\/24 via 192\.168\.3\.1 dev eth0/m);
            assert.doesNotMatch(after, /^10\.100\.49\.0\/24/m);
            assert.strictEqual((await on("wc", "-l", "/run/routed-overlay/claims/5e75e75e75e75e75")).trim().split(" ")[0], "500", "the claims follow the routes");
            assert.strictEqual((await kinds.RouteSet.diff(s.created.id, (await kinds.RouteSet.read(s.created.id, updated.outs!)).props, c.inputs!)).changes, false);

            // A small update reads only the destinations it changes (`ip route show exact`), not the 250-route
            // table: another tool's route at one of them still stops it before the kernel changes.
            const small = async (from: Record<string, unknown>, rs: Record<string, unknown>[]) => {
                const ck = await kinds.RouteSet.check(from, { table: 3000, routes: rs, owner: "5e75e75e75e75e75", connection: conn });
                assert.strictEqual(ck.failures, undefined, JSON.stringify(ck.failures));
                return kinds.RouteSet.update(s.created.id, from, ck.inputs!);
            };
            await on("ip", "route", "add", "10.111.0.0/24", "dev", "eth0", "table", "3000", "metric", "7", "proto", "static");
            await on("ip", "route", "add", "10.111.0.0/24", "dev", "eth0", "table", "3000", "proto", "static");
            await assert.rejects(small(updated.outs!, [...next, { dst: "10.111.0.0/24", dev: "eth0" }]), /a route to 10\.111\.0\.0\/24 in table 3000 metric 0 already exists \(proto 4\)/);
            assert.doesNotMatch(await on("ip", "route", "show", "table", "3000", "proto", "214", "exact", "10.111.0.0/24"), /\S/);
            await on("ip", "route", "del", "10.111.0.0/24", "table", "3000", "metric", "0");
            n = calls();
            const grown = await small(updated.outs!, [...next, { dst: "10.111.0.0/24", dev: "eth0" }]);
            assert.strictEqual(calls() - n, 2, "a small update: the claims with the listing of one destination, then one ip -batch");
            const shrunk = await small(grown.outs!, next);
            // Its own route goes; another tool's at the same prefix and another metric stays.
            assert.strictEqual(await on("ip", "-N", "route", "show", "table", "3000", "exact", "10.111.0.0/24"), "10.111.0.0/24 dev eth0 proto 4 scope 253 metric 7 \n");
            await on("ip", "route", "del", "10.111.0.0/24", "table", "3000", "metric", "7");

            n = calls();
            await kinds.RouteSet.delete(s.created.id, shrunk.outs!);
            assert.strictEqual(calls() - n, 2, "delete: one ip -batch, then the claims");
            assert.strictEqual(await on("sh", "-c", "test -e /run/routed-overlay/claims && echo present || echo absent"), "absent\n", "the last claim takes the directory with it");
            assert.strictEqual(Object.keys(flat((await kinds.RouteSet.read(s.created.id, shrunk.outs!)).props!.routes)).length, 0);
            assert.match(await on("ip", "route", "show", "table", "3000"), /^10\.250\.0\.0\/16 dev eth0 proto static/);
            await on("ip", "route", "del", "10.250.0.0/16", "table", "3000");
        });
    });
});
