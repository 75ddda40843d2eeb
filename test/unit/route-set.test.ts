/**
 * The RouteSet's state format (provider/kinds/route-text.ts): a route per
 * string in `ip route` words, locked by golden values, and the batches the
 * kind sends for it, against a scripted host; and the rules a set holds.
 */
import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import type { RunOptions, Transport } from "../../provider/transport";
import { compactRoute, groupRoutes, parseRouteEntry, routeEntryText, routeGroup, ungroupRoutes, UNGROUPED } from "../../provider/kinds/route-text";
import { normalizeRouteSet, RouteSetState, routeSetKind } from "../../provider/kinds/route";
import { normalizeRule, ruleKind } from "../../provider/kinds/rule";
import { lifecycle } from "../../provider/runtime";
import { keyedRoutes, keyedRules } from "../../provider/wire";
import { claimsDir, ClaimsDir } from "../support/claims-host";
import { ClaimedElsewhere } from "../../provider/kinds/claims";

import { CONNECTION as CONN } from "../support/bad-input";

/** The inputs check returns, which must pass. */
async function checkedInputs(olds: Record<string, unknown>, news: Record<string, unknown>) {
    const r = await lifecycle(routeSetKind).check(olds, news);
    assert.deepStrictEqual(r.failures ?? [], []);
    return r.inputs;
}

function normalized(raw: Record<string, unknown>): RouteSetState {
    const errs: Problem[] = [];
    const v = normalizeRouteSet(raw, errs);
    assert.deepStrictEqual(errs, []);
    return v!;
}

function refused(raw: Record<string, unknown>): string {
    const errs: Problem[] = [];
    assert.strictEqual(normalizeRouteSet(raw, errs), undefined);
    return errs.map((e) => (typeof e === "string" ? e : formatProblem(e))).join("\n");
}

type RuleListing = { 4?: Record<string, unknown>[]; 6?: Record<string, unknown>[] };

/**
 * A host whose table listing is `table` and whose `ip rule show` lists `rules` per family (ip -j
 * shapes), and that records every command and its input; `batch` answers an ip -batch (default: success).
 */
function host(table: Record<string, unknown>[] = [], batch?: (input: string) => { code: number; stderr: string }, claims?: ClaimsDir, rules: RuleListing = {}): Transport & { sent: { argv: string[]; input?: string }[] } {
    const sent: { argv: string[]; input?: string }[] = [];
    return {
        name: "root@198.18.0.200:22",
        get calls() { return sent.length; },
        sent,
        async run(argv: readonly string[], o?: RunOptions) {
            sent.push({ argv: [...argv], input: o?.input });
            const claimed = claims?.run(argv, o?.input, (list) => {
                const fam = (f: string) => (e: Record<string, unknown>) => String(e.dst ?? "").includes(":") === (f === "6");
                // `ip route show exact DST`: ip -j writes a host route's dst without its /32 or /128.
                const at = (d: string) => (e: Record<string, unknown>) => [d, d.replace(/\/(32|128)$/, "")].includes(String(e.dst));
                const listed = list.length > 7 ? list.slice(7).map((d) => `routes ${d.includes(":") ? 6 : 4}\n${JSON.stringify(table.filter(at(d)))}\n`)
                    : list[5].split(" ").filter(Boolean).map((f) => `routes ${f}\n${JSON.stringify(table.filter(fam(f)))}\n`);
                const out = [...listed,
                    ...list[6].split(" ").filter(Boolean).map((f) => `rules ${f}\n${JSON.stringify(rules[Number(f) as 4 | 6] ?? [])}\n`)];
                return { code: 0, stdout: out.join(""), stderr: "" };
            });
            if (claimed) return claimed;
            if (argv.includes("-batch") && batch) return { stdout: "", ...batch(o?.input ?? "") };
            if (argv.includes("rule") && argv.includes("show")) return { code: 0, stdout: JSON.stringify(rules[argv.includes("-6") ? 6 : 4] ?? []), stderr: "" };
            return { code: 0, stdout: argv.includes("show") ? JSON.stringify(table) : "", stderr: "" };
        },
    };
}

const GOLDEN_IN = [
    { dst: "10.128.0.0/24", gateway: "192.168.2.10", dev: "eth0" },
    { dst: "10.129.0.0/24", gateway: "192.168.2.10", dev: "eth0", proto: 214, metric: 0, type: "unicast" },
    { dst: "10.9.0.0/16", type: "blackhole", metric: 20, proto: 4 },
    { dst: "10.8.0.0/16", dev: "rovx0", gateway: "10.80.0.3", onlink: true, scope: "global", src: "10.80.0.1" },
    { dst: "2001:0db8:0000::/48", dev: "eth0" },
    { dst: "2001:db8:1::/48", dev: "eth0", metric: 100 },
];

const GOLDEN_OUT: Record<string, string> = {
    "10.128.0.0/24": "via 192.168.2.10 dev eth0",
    "10.129.0.0/24": "via 192.168.2.10 dev eth0",
    "10.9.0.0/16 metric 20": "blackhole proto 4",
    "10.8.0.0/16": "via 10.80.0.3 dev rovx0 scope global src 10.80.0.1 onlink",
    "2001:db8::/48": "dev eth0",
    "2001:db8:1::/48 metric 100": "dev eth0",
};

describe("RouteSet state: one string of ip route words per route", () => {
    it("canonical texts: defaults (unicast, proto 214, the family's metric) left out, IPv6 compressed", () => {
        assert.deepStrictEqual(normalized({ table: 18952, routes: GOLDEN_IN }), { table: 18952, routes: GOLDEN_OUT });
    });

    it("the canonical map reads back as itself, and so does the map the resource class sends", () => {
        assert.deepStrictEqual(normalized({ table: 7, routes: GOLDEN_OUT }).routes, GOLDEN_OUT);
        const sent = Object.fromEntries(GOLDEN_IN.map((r) => { const c = compactRoute(r)!; return [c.key, c.text]; }));
        assert.deepStrictEqual(normalized({ table: 7, routes: sent }).routes, GOLDEN_OUT);
    });

    it("a state of the object form (before texts) is read as today's, so an upgrade shows no change", async () => {
        const objects = Object.fromEntries(GOLDEN_IN.map((r) => [r.dst, r]));
        assert.deepStrictEqual(routeSetKind.stored!({ table: 7, routes: objects }), { table: 7, routes: GOLDEN_OUT });
        const impl = lifecycle(routeSetKind);
        const news = await checkedInputs({}, { connection: CONN, table: 7, routes: GOLDEN_OUT });
        const d = await impl.diff("id", { connection: CONN, adopt: false, present: true, table: 7, routes: objects }, news);
        assert.strictEqual(d.changes, false);
    });

    it("compacts only what survives as text; the rest travels as the object, for check to name", () => {
        assert.deepStrictEqual(compactRoute({ dst: "10.1.0.0/16", gateway: "192.168.2.1", metric: 5 }), { key: "10.1.0.0/16 metric 5", text: "via 192.168.2.1" });
        assert.strictEqual(compactRoute({ dst: "10.1.0.0/16", dev: "eth0; reboot" }), undefined);
        assert.strictEqual(compactRoute({ dst: "10.1.0.0/16", gateway: 7 }), undefined);
        assert.strictEqual(compactRoute({ dst: "10.1.0.0/16", dev: "eth0", table: 9 }), undefined);
        assert.strictEqual(compactRoute({ dst: "10.1.0.0/16", dev: "eth0", onlink: "yes" }), undefined);
        assert.strictEqual(routeEntryText({ type: "unreachable" }), "unreachable");
    });

    it("the resource class sends texts, and a route that would not survive as text as the object it was", async () => {
        const sent = await new Promise<Record<string, unknown>>((resolve) => keyedRoutes([
            { dst: "10.1.0.0/16", gateway: "192.168.2.10", dev: "eth0" },
            { dst: "10.2.0.0/16", dev: "eth0", metric: 5 },
            { dst: "10.3.0.0/16", dev: "eth0; reboot" },
            { dst: "10.1.0.0/16", dev: "eth1" },
        ]).apply(resolve));
        assert.deepStrictEqual(sent, {
            "10.0.0.0/8": {
                "10.1.0.0/16": "via 192.168.2.10 dev eth0",
                "10.2.0.0/16 metric 5": "dev eth0",
                "10.3.0.0/16": { dst: "10.3.0.0/16", dev: "eth0; reboot" },
                "10.1.0.0/16 (#3)": { dst: "10.1.0.0/16", dev: "eth1" },
            },
        });
        assert.match(refused({ routes: sent }), /routes\["10\.3\.0\.0\/16"\]\.dev: not a Linux interface name/);
        assert.match(refused({ routes: sent }), /routes\["10\.1\.0\.0\/16 \(#3\)"\].dst: appears twice \(metric 0\): "10\.1\.0\.0\/16"/);
    });

    it("a text that is not ip route words is refused naming the entry and the word", () => {
        assert.match(refused({ routes: { "10.1.0.0/16": "via 192.168.2.1 mtu 1400" } }), /routes\["10\.1\.0\.0\/16"\]: unknown word "mtu": "via 192\.168\.2\.1 mtu 1400"/);
        assert.match(refused({ routes: { "10.1.0.0/16": "dev" } }), /routes\["10\.1\.0\.0\/16"\]: "dev" needs a value: "dev"/);
        assert.match(refused({ routes: { "10.1.0.0/16": "dev eth0 dev eth1" } }), /"dev" given twice/);
        assert.match(refused({ routes: { "10.1.0.0/16 metric": "dev eth0" } }), /routes\["10\.1\.0\.0\/16 metric"\]: the key is not "DST" or "DST metric N": "10\.1\.0\.0\/16 metric"/);
        // Values inside a text are checked as fields, with the same messages as the object form.
        assert.match(refused({ routes: { "10.1.0.0/16": "via 192.168.2.300" } }), /routes\["10\.1\.0\.0\/16"\]\.gateway: not an IP address: "192\.168\.2\.300"/);
        assert.match(refused({ routes: { "10.1.0.1/16": "dev eth0" } }), /routes\["10\.1\.0\.1\/16"\]\.dst: host bits set; .*: "10\.1\.0\.1\/16"/);
        assert.match(refused({ routes: { "10.1.0.0/16 metric x": "dev eth0" } }), /routes\["10\.1\.0\.0\/16 metric x"\]\.metric: .*"x"/);
        assert.match(refused({ routes: { "10.1.0.0/16": "dev eth0 proto boot" } }), /routes\["10\.1\.0\.0\/16"\]\.proto: .*"boot"/);
        assert.deepStrictEqual(parseRouteEntry("r", "10.1.0.0/16 metric 3", "blackhole", []), { dst: "10.1.0.0/16", metric: 3, type: "blackhole" });
    });

    it("create sends one batch of `ip route add` and reads nothing when no route is in the way", async () => {
        const t = host();
        await routeSetKind.create(t, normalized({ table: 18952, routes: GOLDEN_IN }), false);
        assert.deepStrictEqual(t.sent.map((c) => c.argv), [["ip", "-batch", "-"]]);
        assert.strictEqual(t.sent[0].input, [
            "route add 10.128.0.0/24 via 192.168.2.10 dev eth0 table 18952 metric 0 proto 214",
            "route add 10.129.0.0/24 via 192.168.2.10 dev eth0 table 18952 metric 0 proto 214",
            "route add blackhole 10.9.0.0/16 table 18952 metric 20 proto 4",
            "route add 10.8.0.0/16 via 10.80.0.3 dev rovx0 table 18952 metric 0 proto 214 scope global src 10.80.0.1 onlink",
            "route add 2001:db8::/48 dev eth0 table 18952 metric 1024 proto 214",
            "route add 2001:db8:1::/48 dev eth0 table 18952 metric 100 proto 214",
        ].join("\n") + "\n");
    });

    const three = () => normalized({ table: 100, routes: [{ dst: "10.1.0.0/16", dev: "eth0" }, { dst: "10.2.0.0/16", dev: "eth0" }, { dst: "10.3.0.0/16", dev: "eth0" }] });
    const clashAt2 = (input: string) => (input.startsWith("route add")
        ? { code: 1, stderr: "RTNETLINK answers: File exists\nCommand failed -:2\n" } : { code: 0, stderr: "" });

    describe("a route of ours (proto 214) in the way of a create", () => {
        let claims: ClaimsDir;
        beforeEach(() => { claims = claimsDir(); });
        afterEach(() => claims.dispose());
        const ours = [{ dst: "10.2.0.0/16", dev: "eth0", protocol: "214", type: "unicast" }];
        const mine = () => ({ ...three(), owner: "aaaa1111bbbb2222" });

        it("held by this resource's own claim (a create pulumi died in): the table is read once and the rest replaced", async () => {
            claims.put("aaaa1111bbbb2222", ["route 100 10.2.0.0/16"]);
            const t = host(ours, clashAt2, claims);
            await routeSetKind.create(t, mine(), false);
            assert.deepStrictEqual(t.sent.map((c) => c.argv.slice(0, 2)), [["sh", "-c"], ["ip", "-batch"], ["ip", "-N"], ["ip", "-batch"]]);
            assert.strictEqual(t.sent[3].input, "route replace 10.2.0.0/16 dev eth0 table 100 metric 0 proto 214\nroute replace 10.3.0.0/16 dev eth0 table 100 metric 0 proto 214\n");
            assert.deepStrictEqual(claims.read(), { aaaa1111bbbb2222: ["route 100 10.1.0.0/16", "route 100 10.2.0.0/16", "route 100 10.3.0.0/16"] });
        });

        it("held by another stack's claim: refused with a typed error naming the route and the owner; what it added and claimed is taken back", async () => {
            claims.put("cccc3333dddd4444", ["route 100 10.2.0.0/16"]);
            const t = host(ours, clashAt2, claims);
            const err = await routeSetKind.create(t, mine(), false).then(() => undefined, (e) => e);
            assert.ok(err instanceof ClaimedElsewhere, String(err));
            assert.deepStrictEqual(err.owners, ["cccc3333dddd4444"]);
            assert.match(err.message, /^root@198\.18\.0\.200:22: a route to 10\.2\.0\.0\/16 in table 100 metric 0 carries routed-overlay's mark but this resource does not hold it: the host records it for cccc3333dddd4444 .*set adopt: true/);
            assert.strictEqual(t.sent.find((c) => c.argv.includes("-force"))!.input, "route del 10.1.0.0/16 table 100 metric 0 proto 214\n");
            assert.deepStrictEqual(claims.read(), { cccc3333dddd4444: ["route 100 10.2.0.0/16"] });
        });

        it("claimed by no one: refused, saying an interrupted run or another stack may own it; adopt takes it", async () => {
            const err = await routeSetKind.create(host(ours, clashAt2, claims), mine(), false).then(() => undefined, (e) => e);
            assert.ok(err instanceof ClaimedElsewhere);
            assert.match(err.message, /no resource on the host claims it \(another stack, or an interrupted run/);
            assert.ok(claims.gone(), "the claims directory is left as it was found (absent)");
            const t = host(ours, clashAt2, claims);
            await routeSetKind.create(t, mine(), true);
            assert.match(t.sent.at(-1)!.input!, /^route replace 10\.2\.0\.0\/16 /);
            const d = host([], undefined, claims);
            await routeSetKind.remove(d, mine());
            assert.ok(claims.gone(), "delete takes its claims, and the directories with the last one");
        });
    });

    it("a create that meets another owner's route refuses, naming it, and takes back what it added", async () => {
        const t = host([{ dst: "10.2.0.0/16", dev: "eth0", protocol: "4", type: "unicast" }], clashAt2);
        await assert.rejects(routeSetKind.create(t, three(), false), /root@198\.18\.0\.200:22: a route to 10\.2\.0\.0\/16 in table 100 metric 0 already exists \(proto 4\)/);
        assert.deepStrictEqual(t.sent.map((c) => c.argv), [["ip", "-batch", "-"], ["ip", "-N", "-d", "-j", "-4", "route", "show", "table", "100"], ["ip", "-force", "-batch", "-"]]);
        assert.strictEqual(t.sent[2].input, "route del 10.1.0.0/16 table 100 metric 0 proto 214\n", "only the route it added");
    });

    it("a create that fails for another reason takes back what it added and names the route", async () => {
        const t = host([], (input) => (input.startsWith("route add") ? { code: 1, stderr: "Error: Nexthop device is not up.\nCommand failed -:3\n" } : { code: 0, stderr: "" }));
        await assert.rejects(routeSetKind.create(t, three(), false), /routes\["10\.3\.0\.0\/16"\]: Error: Nexthop device is not up/);
        assert.strictEqual(t.sent.at(-1)!.input, "route del 10.1.0.0/16 table 100 metric 0 proto 214\nroute del 10.2.0.0/16 table 100 metric 0 proto 214\n");
    });

    it("update sends only the routes whose text or key changed; delete removes by proto", async () => {
        const olds = normalized({ table: 100, routes: [{ dst: "10.1.0.0/16", gateway: "192.168.2.10" }, { dst: "10.2.0.0/16", gateway: "192.168.2.10" }, { dst: "10.3.0.0/16", gateway: "192.168.2.10" }] });
        const news = normalized({ table: 100, routes: [{ dst: "10.1.0.0/16", gateway: "192.168.2.11" }, { dst: "10.2.0.0/16", gateway: "192.168.2.10" }, { dst: "10.4.0.0/16", gateway: "192.168.2.10" }] });
        const t = host();
        await routeSetKind.update(t, olds, news, false);
        assert.strictEqual(t.sent.at(-1)!.input, [
            "route del 10.3.0.0/16 table 100 metric 0 proto 214",
            "route replace 10.1.0.0/16 via 192.168.2.11 table 100 metric 0 proto 214",
            "route replace 10.4.0.0/16 via 192.168.2.10 table 100 metric 0 proto 214",
        ].join("\n") + "\n");
        const d = host();
        await routeSetKind.remove(d, news);
        assert.deepStrictEqual(d.sent.map((s) => s.argv), [["ip", "-force", "-batch", "-"]]);
        assert.match(d.sent[0].input!, /^route del 10\.1\.0\.0\/16 table 100 metric 0 proto 214\n/);
    });

    it("read reports drift in the same words: another next hop, another owner's protocol", async () => {
        const want = normalized({ table: 100, routes: [{ dst: "10.1.0.0/16", gateway: "192.168.2.10", dev: "eth0" }, { dst: "10.2.0.0/16", gateway: "192.168.2.10", dev: "eth0" }, { dst: "10.3.0.0/16", gateway: "192.168.2.10", dev: "eth0" }] });
        const t = host([
            { dst: "10.1.0.0/16", gateway: "192.168.2.10", dev: "eth0", protocol: "214", type: "unicast" },
            { dst: "10.2.0.0/16", gateway: "192.168.2.12", dev: "eth0", protocol: "214", type: "unicast" },
            { dst: "10.5.0.0/16", gateway: "192.168.2.10", dev: "eth0", protocol: "4", type: "unicast" },
        ]);
        assert.deepStrictEqual(await routeSetKind.read(t, want), {
            table: 100,
            routes: { "10.1.0.0/16": "via 192.168.2.10 dev eth0", "10.2.0.0/16": "via 192.168.2.12 dev eth0" },
        });
    });
});

// ---- Groups: what the engine holds (check's inputs, the outputs) is the routes in groups of a few
// hundred at most, because the engine copies a map whole per key it sets; the provider works flat.

describe("RouteSet on the wire: routes grouped by the network of their destination", () => {
    it("a route's group is its network cut to the multiple of 8 bits below its prefix length", () => {
        const golden: Record<string, string> = {
            "10.129.5.0/24": "10.129.0.0/16",
            "10.1.0.0/17 metric 5": "10.1.0.0/16",
            "10.1.2.3/32": "10.1.2.0/24",
            "10.1.2.3": "10.1.2.0/24",
            "10.1.2.128/25": "10.1.2.0/24",
            "10.0.0.0/16": "10.0.0.0/8",
            "10.0.0.0/9": "10.0.0.0/8",
            "10.0.0.0/8": "0.0.0.0/0",
            "0.0.0.0/0": "0.0.0.0/0",
            "2001:db8::/48": "2001:db8::/40",
            "2001:0db8:0000::/48": "2001:db8::/40",
            "2001:db8::1/128": "2001:db8::/120",
            "fd00:1:2:3::/64": "fd00:1:2::/56",
            "::/0": "::/0",
            "#3": UNGROUPED,
            "10.1.0.0/33": UNGROUPED,
            "10.1.0.0/x": UNGROUPED,
        };
        for (const [key, group] of Object.entries(golden)) assert.strictEqual(routeGroup(key), group, key);
    });

    it("a group holds destinations of at most 8 more bits inside it, so at most 510 per metric, for any set", function () {
        // About 100,000 keys: a second on an idle machine, more beside a build.
        this.timeout(30_000);
        // Every prefix length, at addresses spread over the space, and the two dense shapes of real sets
        // (a /9 in /24s, a pod /16 in host routes).
        let seed = 7;
        const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
        const keys: string[] = [];
        for (let len = 0; len <= 32; len++) {
            for (let i = 0; i < 40; i++) {
                const n = len === 0 ? 0 : Number((BigInt(rnd()) << 1n) & (((1n << BigInt(len)) - 1n) << BigInt(32 - len)));
                keys.push(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${len}`);
            }
        }
        for (let i = 0; i < 32768; i++) keys.push(`10.${128 + (i >> 8)}.${i & 255}.0/24`);
        for (let i = 0; i < 65536; i++) keys.push(`10.244.${i >> 8}.${i & 255}/32`);
        const groups = groupRoutes(Object.fromEntries(keys.map((k) => [k, "dev eth0"])));
        const toNum = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
        for (const [g, members] of Object.entries(groups)) {
            const [gAddr, gLen] = g.split("/");
            assert.ok(Object.keys(members).length <= 510, `${g}: ${Object.keys(members).length} routes`);
            for (const k of Object.keys(members)) {
                const [addr, len] = k.split("/");
                assert.ok(Number(len) === 0 ? Number(gLen) === 0 : Number(gLen) < Number(len) && Number(len) <= Number(gLen) + 8, `${k} in ${g}`);
                const span = 2 ** (32 - Number(gLen));
                assert.strictEqual(Math.floor(toNum(addr) / span) * span, toNum(gAddr), `${k} in ${g}`);
            }
        }
        assert.deepStrictEqual(Object.keys(ungroupRoutes(groups) as object).sort(), [...new Set(keys)].sort());
        assert.strictEqual(Object.keys(groups["10.244.7.0/24"]).length, 256);
        assert.strictEqual(Object.keys(groups["10.129.0.0/16"]).length, 256);
    });

    it("check and the outputs hold the groups; the provider reads them flat", async () => {
        const impl = lifecycle(routeSetKind);
        const checked = await checkedInputs({}, { connection: CONN, table: 7, routes: groupRoutes(GOLDEN_OUT) });
        assert.deepStrictEqual(checked.routes, {
            "10.128.0.0/16": { "10.128.0.0/24": "via 192.168.2.10 dev eth0" },
            "10.129.0.0/16": { "10.129.0.0/24": "via 192.168.2.10 dev eth0" },
            "10.0.0.0/8": { "10.9.0.0/16 metric 20": "blackhole proto 4", "10.8.0.0/16": "via 10.80.0.3 dev rovx0 scope global src 10.80.0.1 onlink" },
            "2001:db8::/40": { "2001:db8::/48": "dev eth0", "2001:db8:1::/48 metric 100": "dev eth0" },
        });
        // The class's keys are the user's spelling: check regroups the canonical ones.
        const given = await checkedInputs({}, { connection: CONN, table: 7, routes: { [UNGROUPED]: { "2001:0db8:0000::/48": "dev eth0" } } });
        assert.deepStrictEqual(given.routes, { "2001:db8::/40": { "2001:db8::/48": "dev eth0" } });

        // What create, read and update write into the outputs: the same groups, read back flat.
        const v = normalized({ table: 7, routes: GOLDEN_IN });
        assert.deepStrictEqual(routeSetKind.wire!(v), { table: 7, routes: checked.routes });
        assert.deepStrictEqual(routeSetKind.stored!(routeSetKind.wire!(v)), v);
    });

    it("a state of 0.2 (one flat map) reads as today's: an upgrade shows no change, and a change is one route", async () => {
        const impl = lifecycle(routeSetKind);
        const flat = { connection: CONN, adopt: false, present: true, table: 7, routes: GOLDEN_OUT };
        const news = await checkedInputs(flat, { connection: CONN, table: 7, routes: groupRoutes(GOLDEN_OUT) });
        assert.strictEqual((await impl.diff("id", flat, news)).changes, false);
        assert.strictEqual((await impl.diff("id", { ...news, present: true }, news)).changes, false);
        const moved = await checkedInputs(flat, { connection: CONN, table: 7, routes: groupRoutes({ ...GOLDEN_OUT, "10.128.0.0/24": "via 192.168.2.11 dev eth0" }) });
        assert.strictEqual((await impl.diff("id", flat, moved)).changes, true);
        assert.strictEqual((await impl.diff("id", { ...news, present: true }, moved)).changes, true);
    });

    it("problems name a route by its key, not by the group the class put it in", () => {
        assert.match(refused({ routes: { "10.0.0.0/8": { "10.1.0.0/16": "via 192.168.2.300" } } }), /^routes\["10\.1\.0\.0\/16"\]\.gateway: not an IP address: "192\.168\.2\.300"$/m);
        assert.match(refused({ routes: { [UNGROUPED]: { "#0": 7 } } }), /^routes\["#0"\]: not a route: 7$/m);
    });
});

// ---- Rules of a set: keyed by selector in the state, added after the table's routes and deleted
// before them, claimed on the host as a Rule's, and handed over from Rule resources without a
// moment without the rule.

const ruleHost = (rules: RuleListing, claims: ClaimsDir) => host([], undefined, claims, rules);

const SET = "aaaa1111bbbb2222";
const OLD_RULE = "cccc3333dddd4444";
const outbound = { priority: 18952, to: "10.200.0.0/16" };
const inbound = { priority: 18952, from: "10.200.0.0/16" };
const liveRule = (sel: Record<string, unknown>, proto = "214") => ({ priority: 18952, src: "all", ...sel, table: "18952", protocol: proto });
const kinds = (t: { sent: { argv: string[] }[] }) => t.sent.map((c) => (c.argv[0] === "sh" ? "claims" : c.argv.filter((w) => w !== "-N" && w !== "-j").join(" ")));

describe("RouteSet rules: the table and the rules that select it, as one resource", () => {
    let claims: ClaimsDir;
    beforeEach(() => { claims = claimsDir(); });
    afterEach(() => claims.dispose());

    it("keys each rule by its selector, without the table, and reads its own state and the class's map back as themselves", async () => {
        const v = normalized({
            table: 18952, routes: [],
            rules: [inbound, { priority: 100, from: "10.166.0.0/16", to: "10.200.0.0/16" }, { priority: 7, iif: "liqo-tunnel", family: 6 }, { priority: 9, fwmark: 16, fwmask: 255 }, { priority: 8, to: "2001:db8::/32" }],
        });
        assert.deepStrictEqual(v.rules, {
            "priority 18952 from 10.200.0.0/16": "lookup 18952",
            "priority 100 from 10.166.0.0/16 to 10.200.0.0/16": "lookup 18952",
            "ipv6 priority 7 iif liqo-tunnel": "lookup 18952",
            "priority 9 fwmark 0x10/0xff": "lookup 18952",
            "priority 8 to 2001:db8::/32": "lookup 18952",
        });
        assert.deepStrictEqual(normalized({ ...v }).rules, v.rules);
        const sent = await new Promise((ok) => keyedRules([inbound, { priority: 7, iif: "liqo-tunnel", family: 6 }]).apply(ok));
        assert.deepStrictEqual(Object.keys(sent as object), ["priority 18952 from 10.200.0.0/16", "ipv6 priority 7 iif liqo-tunnel"]);
        assert.deepStrictEqual(normalized({ table: 18952, routes: [], rules: sent }).rules, { "priority 18952 from 10.200.0.0/16": "lookup 18952", "ipv6 priority 7 iif liqo-tunnel": "lookup 18952" });
        // A set without rules keeps a state without them: a set of an earlier version shows no change.
        assert.ok(!("rules" in normalized({ table: 7, routes: [] })));
    });

    it("refuses a rule's own table, a rule twice, a bad selector and a state entry that is not one of the table's rules, naming each", () => {
        assert.match(refused({ table: 7, routes: [], rules: [{ priority: 5, to: "10.1.0.0/16", table: 8 }] }), /rules\[0\]\.table: a set's rules look up its table/);
        assert.match(refused({ table: 7, routes: [], rules: [{ priority: 5, to: "10.1.0.0/16" }, { priority: 5, to: "10.1.0.0/16" }] }), /rules\[1\]: appears twice/);
        assert.match(refused({ table: 7, routes: [], rules: [{ priority: 0, to: "10.1.0.0/16" }] }), /rules\[0\]\.priority/);
        assert.match(refused({ table: 7, routes: [], rules: { "priority 5 to 10.1.0.0/16": "lookup 8" } }), /rules\["priority 5 to 10\.1\.0\.0\/16"\]: not a rule of table 7/);
        assert.match(refused({ table: 7, routes: [], rules: "to 10.1.0.0/16" }), /rules: must be a list of rules/);
    });

    it("create: the routes' batch, then the rules read, claimed and added in one batch per family", async () => {
        const t = ruleHost({}, claims);
        await routeSetKind.create(t, normalized({ table: 18952, routes: [{ dst: "10.200.0.0/16", gateway: "172.29.0.254", dev: "liqo.vxlan" }], rules: [outbound, { priority: 7, iif: "eth0", family: 6 }], owner: SET }), false);
        assert.deepStrictEqual(kinds(t), ["claims", "ip -batch -", "ip -4 rule show", "ip -6 rule show", "claims", "ip -4 -batch -", "ip -6 -batch -"]);
        assert.strictEqual(t.sent[5].input, "rule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
        assert.strictEqual(t.sent[6].input, "rule add priority 7 iif eth0 table 18952 protocol 214\n");
        assert.deepStrictEqual(claims.read()[SET].filter((k) => k.startsWith("rule")), ["rule 4/priority 18952 to 10.200.0.0/16 table 18952", "rule 6/priority 7 iif eth0 table 18952"]);
    });

    it("update (a gateway move): the rules that go are deleted before the routes change, the new ones added after", async () => {
        claims.put(SET, ["rule 4/priority 18952 from 10.200.0.0/16 table 18952", "route 18952 10.166.1.10/32"]);
        const t = ruleHost({ 4: [liveRule({ src: "10.200.0.0", srclen: 16 })] }, claims);
        const olds = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.2", dev: "liqo.vxlan" }], rules: [inbound], owner: SET });
        const news = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.2", dev: "liqo.vxlan" }, { dst: "10.200.0.0/16", gateway: "172.29.0.254", dev: "liqo.vxlan" }], rules: [outbound], owner: SET });
        await routeSetKind.update(t, olds, news, false);
        // Two round trips: the claims with the listings, then one batch.
        assert.deepStrictEqual(kinds(t), ["claims", "ip -batch -"]);
        // The listing reads the one destination that changes, not the table, and the IPv4 rules.
        const listing = (c: { argv: string[] }) => c.argv.slice(7 + 5);
        assert.deepStrictEqual(listing(t.sent[0]), ["4", "4", "10.200.0.0/16"]);
        assert.strictEqual(t.sent[1].input, [
            "rule del priority 18952 from 10.200.0.0/16 table 18952 protocol 214",
            "route replace 10.200.0.0/16 via 172.29.0.254 dev liqo.vxlan table 18952 metric 0 proto 214",
            "rule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214",
        ].join("\n") + "\n");
        assert.deepStrictEqual(claims.read()[SET], ["route 18952 10.166.1.10/32", "route 18952 10.200.0.0/16", "rule 4/priority 18952 to 10.200.0.0/16 table 18952"]);
        // Rules that stay are not touched.
        const again = ruleHost({ 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 })] }, claims);
        await routeSetKind.update(again, news, { ...news, routes: {} }, false);
        assert.ok(!again.sent.some((c) => c.argv.includes("rule")), kinds(again).join(", "));
    });

    it("update: deletes only what is there as ours and not held by another claim; IPv6 rules go in batches of their own", async () => {
        const v6 = { priority: 18952, iif: "eth1", family: 6 as const };
        claims.put(SET, ["route 18952 10.200.0.0/16", "route 18952 10.201.0.0/16", "rule 4/priority 18952 from 10.200.0.0/16 table 18952",
            "rule 4/priority 18952 to 10.200.0.0/16 table 18952", "rule 4/priority 18952 from 10.201.0.0/16 table 18952"]);
        claims.put(OLD_RULE, ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"]);
        const t = host([{ dst: "10.200.0.0/16", gateway: "172.29.0.254", dev: "liqo.vxlan", protocol: "214", type: "unicast" }], undefined, claims,
            { 4: [liveRule({ src: "10.200.0.0", srclen: 16 }), liveRule({ dst: "10.200.0.0", dstlen: 16 })] });
        const route = (dst: string) => ({ dst, gateway: "172.29.0.254", dev: "liqo.vxlan" });
        const olds = normalized({ table: 18952, routes: [route("10.200.0.0/16"), route("10.201.0.0/16")], rules: [inbound, outbound, { priority: 18952, from: "10.201.0.0/16" }], owner: SET });
        const news = normalized({ table: 18952, routes: [], rules: [v6], owner: SET });
        await routeSetKind.update(t, olds, news, false);
        assert.deepStrictEqual(kinds(t), ["claims", "ip -batch -", "ip -6 -batch -"]);
        // 10.201.0.0/16 and its rule are gone from the host already; the outbound rule is another claim's too.
        assert.strictEqual(t.sent[1].input, "rule del priority 18952 from 10.200.0.0/16 table 18952 protocol 214\nroute del 10.200.0.0/16 table 18952 metric 0 proto 214\n");
        assert.strictEqual(t.sent[2].input, "rule add priority 18952 iif eth1 table 18952 protocol 214\n");
        assert.deepStrictEqual(claims.read(), { [OLD_RULE]: ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"], [SET]: ["rule 6/priority 18952 iif eth1 table 18952"] });
    });

    it("update: what is in the way stops it before the kernel changes, and the claims are as they were", async () => {
        const before = { [SET]: ["route 18952 10.166.1.10/32", "rule 4/priority 18952 from 10.200.0.0/16 table 18952"], [OLD_RULE]: ["route 18952 10.202.0.0/16"] };
        const olds = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", dev: "liqo.vxlan" }], rules: [inbound], owner: SET });
        const cases: [string, Record<string, unknown>[], RuleListing, Record<string, unknown>, RegExp | ((e: unknown) => boolean)][] = [
            ["another tool's route", [{ dst: "10.201.0.0/16", dev: "eth0", protocol: "4", type: "unicast" }], {}, { routes: [{ dst: "10.201.0.0/16", dev: "liqo.vxlan" }] }, /a route to 10\.201\.0\.0\/16 in table 18952 metric 0 already exists \(proto 4\)/],
            ["another tool's rule", [], { 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 }, "4")] }, { rules: [outbound] }, /a rule "priority 18952 to 10\.200\.0\.0\/16 table 18952" already exists \(protocol 4\)/],
            ["a route of ours another resource claims", [{ dst: "10.202.0.0/16", dev: "eth0", protocol: "214", type: "unicast" }], {}, { routes: [{ dst: "10.202.0.0/16", dev: "liqo.vxlan" }] },
                (e) => e instanceof ClaimedElsewhere && e.owners.join() === OLD_RULE],
        ];
        for (const [what, table, rules, change, why] of cases) {
            for (const [o, keys] of Object.entries(before)) claims.put(o, keys);
            const t = host(table, undefined, claims, rules);
            const news = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", dev: "liqo.vxlan" }], rules: [], owner: SET, ...change });
            await assert.rejects(routeSetKind.update(t, olds, news, false), why as RegExp, what);
            assert.ok(!t.sent.some((c) => c.argv.includes("-batch")), `${what}: no batch`);
            assert.deepStrictEqual(claims.read(), before, `${what}: the claims as they were`);
        }
    });

    it("update: more than 16 destinations changed are read with the whole table, in their families", async () => {
        claims.put(SET, []);
        const many = Array.from({ length: 17 }, (_, i) => ({ dst: `10.166.${i}.10/32`, dev: "liqo.vxlan" }));
        const inTheWay = { dst: "10.166.16.10", dev: "eth0", protocol: "4", type: "unicast" };
        const t = host([inTheWay], undefined, claims);
        const olds = normalized({ table: 18952, routes: many.slice(0, 15), owner: SET });
        // 16 destinations (15 out, 1 in): one by one.
        await routeSetKind.update(t, olds, normalized({ table: 18952, routes: [{ dst: "2001:db8::/48", dev: "eth0" }], owner: SET }), false);
        // The claims' argv, then the listing's: sh -c SCRIPT $0 TABLE ROUTE-FAMILIES RULE-FAMILIES DESTINATIONS...
        const listing = (c: { argv: string[] }) => c.argv.slice(7 + 5);
        assert.deepStrictEqual(listing(t.sent[0]).slice(0, 2), ["4 6", ""]);
        assert.deepStrictEqual(listing(t.sent[0]).slice(2).sort(), ["2001:db8::/48", ...many.slice(0, 15).map((r) => r.dst)].sort());
        // 17: the table, and the route in the way is still found.
        const t2 = host([inTheWay], undefined, claims);
        await assert.rejects(routeSetKind.update(t2, normalized({ table: 18952, routes: [], owner: SET }), normalized({ table: 18952, routes: many, owner: SET }), false),
            /a route to 10\.166\.16\.10\/32 in table 18952 metric 0 already exists \(proto 4\)/);
        assert.deepStrictEqual(listing(t2.sent[0]), ["4", ""]);
    });

    it("update: next hops changed in place are one batch, without claims or a listing", async () => {
        claims.put(SET, ["route 18952 10.166.1.10/32"]);
        const t = host([], undefined, claims);
        const olds = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.2", dev: "liqo.vxlan" }], owner: SET });
        await routeSetKind.update(t, olds, normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.3", dev: "liqo.vxlan" }], owner: SET }), false);
        assert.deepStrictEqual(kinds(t), ["ip -batch -"]);
        assert.strictEqual(t.sent[0].input, "route replace 10.166.1.10/32 via 172.29.0.3 dev liqo.vxlan table 18952 metric 0 proto 214\n");
    });

    it("update: a failing line of the batch is named by its entry", async () => {
        claims.put(SET, ["route 18952 10.166.1.10/32"]);
        const t = host([], () => ({ code: 2, stderr: "Error: Nexthop device is not up.\nCommand failed -:1\n" }), claims);
        const olds = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", dev: "liqo.vxlan" }], owner: SET });
        await assert.rejects(routeSetKind.update(t, olds, normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", dev: "eth9" }], owner: SET }), false),
            /routes\["10\.166\.1\.10\/32"\]: Error: Nexthop device is not up/);
    });

    it("takes a Rule resource's rule over without deleting it, and the Rule's delete then leaves it; without takeOverFrom it is another's", async () => {
        const rule = normalizeRule({ ...outbound, table: 18952, owner: OLD_RULE }, [])!;
        claims.put(OLD_RULE, ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"]);
        const live = { 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 })] };
        const spec = { table: 18952, routes: [], rules: [outbound], owner: SET };

        const err = await routeSetKind.create(ruleHost(live, claims), normalized(spec), false).then(() => undefined, (e) => e);
        assert.ok(err instanceof ClaimedElsewhere && err.owners.join() === OLD_RULE, String(err));
        assert.deepStrictEqual(claims.read(), { [OLD_RULE]: ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"] }, "the failed create took its claim back");

        const t = ruleHost(live, claims);
        await routeSetKind.create(t, normalized({ ...spec, takeOverFrom: [OLD_RULE] }), false);
        assert.ok(!t.sent.some((c) => c.argv.includes("-batch") && c.input?.startsWith("rule")), "the rule is there: nothing to add");
        const d = ruleHost(live, claims);
        await ruleKind.remove(d, rule);
        assert.deepStrictEqual(kinds(d), ["claims"], "the Rule's delete let go of its claim and ran no ip rule del");
        assert.deepStrictEqual(claims.read(), { [SET]: ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"] });

        // The set's delete, the last claim, deletes the rule (before the routes).
        const last = ruleHost(live, claims);
        await routeSetKind.remove(last, normalized({ ...spec, takeOverFrom: [OLD_RULE] }));
        assert.deepStrictEqual(kinds(last), ["claims", "ip -4 -force -batch -"]);
        assert.strictEqual(last.sent[1].input, "rule del priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
        assert.ok(claims.gone());
    });

    it("a twin of another tool (another protocol) stops the create, naming it; adopt re-stamps it", async () => {
        const live = { 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 }, "4")] };
        const spec = normalized({ table: 18952, routes: [], rules: [outbound], owner: SET });
        await assert.rejects(routeSetKind.create(ruleHost(live, claims), spec, false), /a rule "priority 18952 to 10\.200\.0\.0\/16 table 18952" already exists \(protocol 4\)/);
        const t = ruleHost(live, claims);
        await routeSetKind.create(t, spec, true);
        assert.strictEqual(t.sent.at(-1)!.input, "rule del priority 18952 to 10.200.0.0/16 table 18952 protocol 4\nrule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
    });

    it("read reports the rules of ours that are there; drift is a rule gone or another owner's", async () => {
        const v = normalized({ table: 18952, routes: [], rules: [outbound, inbound], owner: SET });
        const read = await routeSetKind.read(ruleHost({ 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 }), liveRule({ src: "10.200.0.0", srclen: 16 }, "3")] }, claims), v);
        assert.deepStrictEqual(read!.rules, { "priority 18952 to 10.200.0.0/16": "lookup 18952" });
    });
});
