import * as assert from "assert";
import { Problem } from "../../common/problems";
import type { RunOptions, Transport } from "../../provider/transport";
import { routeKind } from "../../provider/kinds/route";
import { ruleKind } from "../../provider/kinds/rule";
import { frrRouteKind } from "../../provider/kinds/frr";
import { fdbKind } from "../../provider/kinds/fdb";
import { fdbSetKind } from "../../provider/kinds/sets";
import { ClaimedElsewhere } from "../../provider/kinds/claims";
import type { ExecResult } from "../../provider/transport/exec";
import { claimsDir, ClaimsDir } from "../support/claims-host";

/** A host that answers listings from a script and records every command it is sent. */
function scripted(answer: (argv: readonly string[]) => string, claims?: ClaimsDir, batch?: (input: string) => ExecResult | undefined): Transport & { sent: string[][] } {
    const sent: string[][] = [];
    return {
        name: "root@host:22",
        get calls() { return sent.length; },
        sent,
        async run(argv: readonly string[], o?: RunOptions) {
            sent.push([...argv]);
            const claimed = claims?.run(argv, o?.input);
            if (claimed) return claimed;
            const b = argv.includes("-batch") ? batch?.(o?.input ?? "") : undefined;
            if (b) return b;
            return { code: 0, stdout: answer(argv), stderr: "" };
        },
    };
}

const norm = <T>(k: { normalize(raw: Record<string, unknown>, errs: Problem[]): T | undefined }, raw: Record<string, unknown>): T => {
    const errs: Problem[] = [];
    const v = k.normalize(raw, errs);
    assert.deepStrictEqual(errs, []);
    return v!;
};

/**
 * A create that pulumi died in leaves the object on the host without a
 * record in the state; the next up creates it again. Routes and rules carry
 * our protocol (one number for every stack), so the host's claims tell whose
 * they are: this resource's own claim takes them back; another resource's,
 * or none, stops the create (ClaimedElsewhere) unless adopt. Objects of
 * another owner (another protocol or tag) always stop it.
 */
describe("creates repeated after a crash", () => {
    let claims: ClaimsDir;
    beforeEach(() => { claims = claimsDir(); });
    afterEach(() => claims.dispose());
    const OWNER = "0123456789abcdef";
    const route = norm(routeKind, { dst: "10.166.0.0/16", gateway: "192.168.2.10", owner: OWNER });
    const routeListing = (protocol: string) => (argv: readonly string[]) =>
        argv.includes("show") ? JSON.stringify([{ dst: "10.166.0.0/16", gateway: "192.168.2.10", dev: "eth0", protocol, metric: 0, type: "1" }]) : "";
    const exists = (input: string): ExecResult | undefined =>
        (input.startsWith("route add") ? { code: 2, stdout: "", stderr: "RTNETLINK answers: File exists\nCommand failed -:1\n" } : undefined);

    it("a route: ours under its own claim taken back with one replace; unclaimed or another stack's refused, typed; another owner's refused untouched", async () => {
        claims.put(OWNER, ["route 254 10.166.0.0/16"]);
        const t = scripted(routeListing("214"), claims, exists);
        await routeKind.create(t, route, false);
        assert.deepStrictEqual(t.sent.map((a) => a.slice(0, 3)), [["sh", "-c", t.sent[0][2]], ["ip", "-batch", "-"], ["ip", "-N", "-d"], ["ip", "-batch", "-"]]);
        claims.dispose();
        claims = claimsDir();
        claims.put("fedcba9876543210", ["route 254 10.166.0.0/16"]);
        const theirs = await routeKind.create(scripted(routeListing("214"), claims, exists), route, false).then(() => undefined, (e) => e);
        assert.ok(theirs instanceof ClaimedElsewhere);
        assert.match(theirs.message, /a route to 10\.166\.0\.0\/16 in table 254 metric 0 carries routed-overlay's mark .*fedcba9876543210/);
        assert.deepStrictEqual(claims.read(), { fedcba9876543210: ["route 254 10.166.0.0/16"] }, "its claim taken back, the other's kept");
        const foreign = scripted(routeListing("4"), claims, exists);
        await assert.rejects(routeKind.create(foreign, route, false), /a route to 10\.166\.0\.0\/16 .*already exists \(proto 4\)/);
        assert.deepStrictEqual(foreign.sent.map((a) => a.slice(0, 2).join(" ")), ["sh -c", "ip -batch", "ip -N", "sh -c"], "claim, add (refused), listing, claim taken back: nothing replaced");
    });

    const rule = norm(ruleKind, { priority: 1000, from: "10.166.0.0/16", table: 18952, owner: OWNER });
    const ruleListing = (...protocols: string[]) => () => JSON.stringify(protocols.map((protocol) => ({ priority: 1000, src: "10.166.0.0", srclen: 16, table: "18952", protocol })));

    it("a rule: our twin under its own claim is kept as it is; unclaimed, refused unless adopt; a foreign twin beside it refuses and names the foreign protocol", async () => {
        claims.put(OWNER, ["rule 4/priority 1000 from 10.166.0.0/16 table 18952"]);
        const t = scripted(ruleListing("214"), claims);
        await ruleKind.create(t, rule, false);
        assert.deepStrictEqual(t.sent.map((a) => a[0]), ["ip", "sh"], "a listing and the claim: nothing to add");
        claims.dispose();
        claims = claimsDir();
        await assert.rejects(ruleKind.create(scripted(ruleListing("214"), claims), rule, false), ClaimedElsewhere);
        assert.ok(claims.gone(), "the refused create leaves no claim");
        await ruleKind.create(scripted(ruleListing("214"), claims), rule, true);
        const mixed = scripted(ruleListing("214", "4"), claims);
        await assert.rejects(ruleKind.create(mixed, rule, false), /already exists \(protocol 4\)/);
        assert.strictEqual(mixed.sent.length, 1);
    });

    const frr = norm(frrRouteKind, { dst: "10.166.0.0/16", nexthop: "192.168.2.10" });
    const running = (tag: number) => () => `frr defaults traditional\n!\nip route 10.166.0.0/16 192.168.2.10 tag ${tag}\n!\n`;

    it("an FRR static route: ours (tag 214) re-entered, another tag refused", async () => {
        const t = scripted(running(214));
        await frrRouteKind.create(t, frr, false);
        assert.strictEqual(t.sent.length, 2);
        await assert.rejects(frrRouteKind.create(scripted(running(7)), frr, false), /already exists \(tag 7\)/);
    });

    it("an FRR static route's next hop changes in place: one vtysh call, the old line out and the new one in; another owner's route at the new next hop refused", async () => {
        assert.deepStrictEqual(frrRouteKind.identity, ["dst"]);
        const moved = { ...frr, nexthop: "192.168.2.11" };
        const t = scripted(running(214));
        await frrRouteKind.update(t, frr, moved, false);
        assert.deepStrictEqual(t.sent.at(-1), ["vtysh", "-c", "configure terminal", "-c", "no ip route 10.166.0.0/16 192.168.2.10 tag 214", "-c", "ip route 10.166.0.0/16 192.168.2.11 tag 214"]);
        const foreign = scripted(() => "ip route 10.166.0.0/16 192.168.2.11 tag 7\n");
        await assert.rejects(frrRouteKind.update(foreign, frr, moved, false), /the FRR static route 10\.166\.0\.0\/16 via 192\.168\.2\.11 already exists \(tag 7\)/);
        assert.ok(!foreign.sent.some((a) => a.includes("configure terminal")), "nothing configured");
    });

    const fdbListing = (alias: string) => (argv: readonly string[]) =>
        argv[0] === "bridge" && argv.includes("show")
            ? JSON.stringify([{ mac: "00:00:00:00:00:00", dst: "192.168.2.11", flags: ["self"], state: "permanent" }])
            : argv.includes("link") ? JSON.stringify([{ ifname: "liqo.vxlan", ...(alias ? { ifalias: alias } : {}) }]) : "";

    it("FDB entries (no mark of their own): taken back on a device with our alias, refused on another's", async () => {
        const set = norm(fdbSetKind, { dev: "liqo.vxlan", entries: { x: { dst: "192.168.2.11" } } });
        const ours = scripted(fdbListing("routed-overlay"));
        await fdbSetKind.create(ours, set, false);
        assert.deepStrictEqual(ours.sent.map((a) => a.slice(0, 2)), [["bridge", "-j"], ["ip", "-j"], ["bridge", "-batch"]]);
        const theirs = scripted(fdbListing("flannel"));
        await assert.rejects(fdbSetKind.create(theirs, set, false), /the FDB entry 00:00:00:00:00:00@192\.168\.2\.11 on liqo\.vxlan already exists/);
        assert.ok(!theirs.sent.some((a) => a.includes("-batch")), "nothing written");

        const one = norm(fdbKind, { dev: "liqo.vxlan", dst: "192.168.2.11" });
        await fdbKind.create(scripted(fdbListing("routed-overlay")), one, false);
        await assert.rejects(fdbKind.create(scripted(fdbListing("")), one, false), /already exists/);
    });
});
