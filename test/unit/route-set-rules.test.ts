/**
 * A RouteSet's rules (provider/kinds/route.ts, rule.ts): keyed by selector in
 * the state, added after the table's routes and deleted before them, claimed
 * on the host as a Rule's, and handed over from Rule resources without a
 * moment without the rule. Against a scripted host that lists rules and runs
 * the very claim scripts on a temporary directory.
 */
import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import type { RunOptions, Transport } from "../../provider/transport";
import { normalizeRouteSet, RouteSetState, routeSetKind } from "../../provider/kinds/route";
import { normalizeRule, ruleKind } from "../../provider/kinds/rule";
import { ClaimedElsewhere } from "../../provider/kinds/claims";
import { keyedRules } from "../../provider/wire";
import { claimsDir, ClaimsDir } from "../support/claims-host";

function normalized(raw: Record<string, unknown>): RouteSetState {
    const errs: Problem[] = [];
    const v = normalizeRouteSet(raw, errs);
    assert.deepStrictEqual(errs, []);
    return v!;
}

function refused(raw: Record<string, unknown>): string {
    const errs: Problem[] = [];
    assert.strictEqual(normalizeRouteSet(raw, errs), undefined);
    return errs.map(formatProblem).join("\n");
}

/** A host whose `ip rule show` lists `rules` (ip -j shape, per family) and that records what it is sent. */
function host(rules: { 4?: Record<string, unknown>[]; 6?: Record<string, unknown>[] }, claims: ClaimsDir): Transport & { sent: { argv: string[]; input?: string }[] } {
    const sent: { argv: string[]; input?: string }[] = [];
    return {
        name: "root@198.18.0.200:22",
        get calls() { return sent.length; },
        sent,
        async run(argv: readonly string[], o?: RunOptions) {
            sent.push({ argv: [...argv], input: o?.input });
            const claimed = claims.run(argv, o?.input);
            if (claimed) return claimed;
            if (argv.includes("rule") && argv.includes("show")) return { code: 0, stdout: JSON.stringify(rules[argv.includes("-6") ? 6 : 4] ?? []), stderr: "" };
            return { code: 0, stdout: "", stderr: "" };
        },
    };
}

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
        const t = host({}, claims);
        await routeSetKind.create(t, normalized({ table: 18952, routes: [{ dst: "10.200.0.0/16", gateway: "172.29.0.254", dev: "liqo.vxlan" }], rules: [outbound, { priority: 7, iif: "eth0", family: 6 }], owner: SET }), false);
        assert.deepStrictEqual(kinds(t), ["claims", "ip -batch -", "ip -4 rule show", "ip -6 rule show", "claims", "ip -4 -batch -", "ip -6 -batch -"]);
        assert.strictEqual(t.sent[5].input, "rule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
        assert.strictEqual(t.sent[6].input, "rule add priority 7 iif eth0 table 18952 protocol 214\n");
        assert.deepStrictEqual(claims.read()[SET].filter((k) => k.startsWith("rule")), ["rule 4/priority 18952 to 10.200.0.0/16 table 18952", "rule 6/priority 7 iif eth0 table 18952"]);
    });

    it("update (a gateway move): the rules that go are deleted before the routes change, the new ones added after", async () => {
        claims.put(SET, ["rule 4/priority 18952 from 10.200.0.0/16 table 18952"]);
        const t = host({}, claims);
        const olds = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.2", dev: "liqo.vxlan" }], rules: [inbound], owner: SET });
        const news = normalized({ table: 18952, routes: [{ dst: "10.166.1.10/32", gateway: "172.29.0.2", dev: "liqo.vxlan" }, { dst: "10.200.0.0/16", gateway: "172.29.0.254", dev: "liqo.vxlan" }], rules: [outbound], owner: SET });
        await routeSetKind.update(t, olds, news, false);
        assert.deepStrictEqual(kinds(t), ["claims", "ip -4 -force -batch -", "claims", "ip -d -4 route show table 18952 exact 10.200.0.0/16", "ip -batch -", "ip -4 rule show", "claims", "ip -4 -batch -"]);
        assert.strictEqual(t.sent[1].input, "rule del priority 18952 from 10.200.0.0/16 table 18952 protocol 214\n");
        assert.strictEqual(t.sent[7].input, "rule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
        assert.deepStrictEqual(claims.read()[SET].filter((k) => k.startsWith("rule")), ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"]);
        // Rules that stay are not touched.
        const again = host({ 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 })] }, claims);
        await routeSetKind.update(again, news, { ...news, routes: {} }, false);
        assert.ok(!again.sent.some((c) => c.argv.includes("rule")), kinds(again).join(", "));
    });

    it("takes a Rule resource's rule over without deleting it, and the Rule's delete then leaves it; without takeOverFrom it is another's", async () => {
        const rule = normalizeRule({ ...outbound, table: 18952, owner: OLD_RULE }, [])!;
        claims.put(OLD_RULE, ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"]);
        const live = { 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 })] };
        const spec = { table: 18952, routes: [], rules: [outbound], owner: SET };

        const err = await routeSetKind.create(host(live, claims), normalized(spec), false).then(() => undefined, (e) => e);
        assert.ok(err instanceof ClaimedElsewhere && err.owners.join() === OLD_RULE, String(err));
        assert.deepStrictEqual(claims.read(), { [OLD_RULE]: ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"] }, "the failed create took its claim back");

        const t = host(live, claims);
        await routeSetKind.create(t, normalized({ ...spec, takeOverFrom: [OLD_RULE] }), false);
        assert.ok(!t.sent.some((c) => c.argv.includes("-batch") && c.input?.startsWith("rule")), "the rule is there: nothing to add");
        const d = host(live, claims);
        await ruleKind.remove(d, rule);
        assert.deepStrictEqual(kinds(d), ["claims"], "the Rule's delete let go of its claim and ran no ip rule del");
        assert.deepStrictEqual(claims.read(), { [SET]: ["rule 4/priority 18952 to 10.200.0.0/16 table 18952"] });

        // The set's delete, the last claim, deletes the rule (before the routes).
        const last = host(live, claims);
        await routeSetKind.remove(last, normalized({ ...spec, takeOverFrom: [OLD_RULE] }));
        assert.deepStrictEqual(kinds(last), ["claims", "ip -4 -force -batch -"]);
        assert.strictEqual(last.sent[1].input, "rule del priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
        assert.ok(claims.gone());
    });

    it("a twin of another tool (another protocol) stops the create, naming it; adopt re-stamps it", async () => {
        const live = { 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 }, "4")] };
        const spec = normalized({ table: 18952, routes: [], rules: [outbound], owner: SET });
        await assert.rejects(routeSetKind.create(host(live, claims), spec, false), /a rule "priority 18952 to 10\.200\.0\.0\/16 table 18952" already exists \(protocol 4\)/);
        const t = host(live, claims);
        await routeSetKind.create(t, spec, true);
        assert.strictEqual(t.sent.at(-1)!.input, "rule del priority 18952 to 10.200.0.0/16 table 18952 protocol 4\nrule add priority 18952 to 10.200.0.0/16 table 18952 protocol 214\n");
    });

    it("read reports the rules of ours that are there; drift is a rule gone or another owner's", async () => {
        const v = normalized({ table: 18952, routes: [], rules: [outbound, inbound], owner: SET });
        const read = await routeSetKind.read(host({ 4: [liveRule({ dst: "10.200.0.0", dstlen: 16 }), liveRule({ src: "10.200.0.0", srclen: 16 }, "3")] }, claims), v);
        assert.deepStrictEqual(read!.rules, { "priority 18952 to 10.200.0.0/16": "lookup 18952" });
    });
});
