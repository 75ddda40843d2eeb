import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import type { RunOptions, Transport } from "../../provider/transport";
import { routeKind } from "../../provider/kinds/route";
import { ruleKind } from "../../provider/kinds/rule";
import { frrRouteKind } from "../../provider/kinds/frr";
import { fdbKind } from "../../provider/kinds/fdb";
import { fdbSetKind } from "../../provider/kinds/sets";

/** A host that answers listings from a script and records every command it is sent. */
function scripted(answer: (argv: readonly string[]) => string): Transport & { sent: string[][] } {
    const sent: string[][] = [];
    return {
        name: "root@host:22",
        get calls() { return sent.length; },
        sent,
        async run(argv: readonly string[], _o?: RunOptions) {
            sent.push([...argv]);
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
 * record in the state; the next up creates it again. Objects that carry our
 * mark (protocol or tag 214) are taken back; another owner's still stop it.
 */
describe("creates repeated after a crash", () => {
    const route = norm(routeKind, { dst: "10.166.0.0/16", gateway: "192.168.2.10" });
    const routeListing = (protocol: string) => (argv: readonly string[]) =>
        argv.includes("show") ? JSON.stringify([{ dst: "10.166.0.0/16", gateway: "192.168.2.10", dev: "eth0", protocol, metric: 0, type: "1" }]) : "";

    it("a route: ours taken back with one replace, another owner's refused untouched", async () => {
        const t = scripted(routeListing("214"));
        await routeKind.create(t, route, false);
        assert.strictEqual(t.sent.length, 2);
        assert.deepStrictEqual(t.sent[1].slice(0, 4), ["ip", "route", "replace", "10.166.0.0/16"]);
        const foreign = scripted(routeListing("4"));
        await assert.rejects(routeKind.create(foreign, route, false), /a route to 10\.166\.0\.0\/16 .*already exists \(proto 4\)/);
        assert.strictEqual(foreign.sent.length, 1, "only the listing");
    });

    const rule = norm(ruleKind, { priority: 1000, from: "10.166.0.0/16", table: 18952 });
    const ruleListing = (...protocols: string[]) => () => JSON.stringify(protocols.map((protocol) => ({ priority: 1000, src: "10.166.0.0", srclen: 16, table: "18952", protocol })));

    it("a rule: our twin alone is kept as it is, a foreign twin beside it refuses and names the foreign protocol", async () => {
        const t = scripted(ruleListing("214"));
        await ruleKind.create(t, rule, false);
        assert.strictEqual(t.sent.length, 1, "nothing to add: the rule is there");
        const mixed = scripted(ruleListing("214", "4"));
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
