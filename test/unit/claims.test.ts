/**
 * The host's claims (provider/kinds/claims.ts), run as the very scripts the
 * kinds send, on a temporary directory standing in for
 * /run/routed-overlay/claims.
 */
import * as assert from "assert";
import type { RunOptions, Transport } from "../../provider/transport";
import { claim, ClaimedElsewhere, moveClaims, release, takeBack, unclaim } from "../../provider/kinds/claims";
import { claimsDir, ClaimsDir } from "../support/claims-host";

function host(c: ClaimsDir): Transport {
    return {
        name: "root@h:22",
        calls: 0,
        async run(argv: readonly string[], o?: RunOptions) {
            const r = c.run(argv, o?.input);
            assert.ok(r, `not a claims command: ${argv.join(" ")}`);
            return r;
        },
    };
}

describe("claims on a host", () => {
    let c: ClaimsDir;
    beforeEach(() => { c = claimsDir(); });
    afterEach(() => c.dispose());
    const A = "aaaaaaaaaaaaaaaa";
    const B = "bbbbbbbbbbbbbbbb";

    it("a claim returns who held its keys before it (itself included), and adds to what the owner holds", async () => {
        const t = host(c);
        assert.deepStrictEqual(await claim(t, A, ["route 254 10.1.0.0/16", "route 254 10.2.0.0/16 metric 20"]), new Map());
        assert.deepStrictEqual(await claim(t, B, ["route 254 10.2.0.0/16 metric 20", "route 254 10.3.0.0/16"]), new Map([["route 254 10.2.0.0/16 metric 20", [A]]]));
        assert.deepStrictEqual(await claim(t, A, ["route 254 10.1.0.0/16", "rule 4/priority 100 from 10.1.0.0/16 table 7"]), new Map([["route 254 10.1.0.0/16", [A]]]));
        assert.deepStrictEqual(c.read(), {
            [A]: ["route 254 10.1.0.0/16", "route 254 10.2.0.0/16 metric 20", "rule 4/priority 100 from 10.1.0.0/16 table 7"],
            [B]: ["route 254 10.2.0.0/16 metric 20", "route 254 10.3.0.0/16"],
        });
    });

    it("a key matches whole lines only: 10.1.0.0/16 is not 10.1.0.0/16 metric 5, nor 10.1.0.0/1", async () => {
        const t = host(c);
        await claim(t, A, ["route 254 10.1.0.0/16 metric 5", "route 254 10.1.0.0/1"]);
        assert.deepStrictEqual(await claim(t, B, ["route 254 10.1.0.0/16"]), new Map());
    });

    it("unclaim removes keys, not the file, until the last; the directories go with the last claim of all", async () => {
        const t = host(c);
        await claim(t, A, ["route 254 10.1.0.0/16", "route 254 10.2.0.0/16"]);
        await claim(t, B, ["route 254 10.9.0.0/16"]);
        await unclaim(t, A, ["route 254 10.1.0.0/16"]);
        assert.deepStrictEqual(c.read()[A], ["route 254 10.2.0.0/16"]);
        await unclaim(t, A, ["route 254 10.2.0.0/16", "route 254 10.5.0.0/16"]);
        assert.deepStrictEqual(Object.keys(c.read()), [B]);
        await unclaim(t, A, ["route 254 10.2.0.0/16"]);
        await unclaim(t, B, ["route 254 10.9.0.0/16"]);
        assert.ok(c.gone());
    });

    it("release: the command runs (stdin its own) when no other claim holds a key; a held key keeps the object, and its owner's claim goes alone", async () => {
        const t = host(c);
        await claim(t, A, ["rule 4/priority 100 table 7", "rule 4/priority 200 table 7"]);
        await claim(t, B, ["rule 4/priority 200 table 7"]);
        // `cat` would eat the keys were stdin the command's.
        const ok = await release(t, A, ["rule 4/priority 100 table 7"], ["cat"]);
        assert.deepStrictEqual([ok.held.size, ok.result?.code, ok.result?.stdout], [0, 0, ""]);
        assert.deepStrictEqual(c.read()[A], ["rule 4/priority 200 table 7"]);
        const kept = await release(t, A, ["rule 4/priority 200 table 7"], ["sh", "-c", "echo ran; exit 9"]);
        assert.deepStrictEqual([[...kept.held], kept.result], [["rule 4/priority 200 table 7"], undefined]);
        assert.deepStrictEqual(c.read(), { [B]: ["rule 4/priority 200 table 7"] });
        const failed = await release(t, B, ["rule 4/priority 200 table 7"], ["sh", "-c", "echo 'RTNETLINK answers: No such file or directory' >&2; exit 2"]);
        assert.deepStrictEqual([failed.result?.code, failed.result?.stderr.trim()], [2, "RTNETLINK answers: No such file or directory"]);
        assert.ok(c.gone(), "the last claim took the directories with it");
        // Without a command: the keys still held, of several.
        await claim(t, A, ["route 254 10.1.0.0/16", "route 254 10.2.0.0/16"]);
        await claim(t, B, ["route 254 10.2.0.0/16"]);
        assert.deepStrictEqual([...(await release(t, A, ["route 254 10.1.0.0/16", "route 254 10.2.0.0/16"])).held], ["route 254 10.2.0.0/16"]);
        assert.deepStrictEqual(c.read(), { [B]: ["route 254 10.2.0.0/16"] });
    });

    it("takeBack: its own earlier claim, or adopt; otherwise ClaimedElsewhere naming the other owners, or none", () => {
        const found = [{ key: "route 254 10.1.0.0/16", what: "a route to 10.1.0.0/16 in table 254 metric 0" }];
        takeBack("h", A, found, new Map([["route 254 10.1.0.0/16", [B, A]]]), false);
        takeBack("h", A, found, new Map(), true);
        assert.throws(() => takeBack("h", A, found, new Map([["route 254 10.1.0.0/16", [B]]]), false),
            (e: unknown) => e instanceof ClaimedElsewhere && e.owners.join() === B && /the host records it for bbbbbbbbbbbbbbbb/.test(e.message));
        assert.throws(() => takeBack("h", A, found, new Map(), false), /no resource on the host claims it/);
        assert.throws(() => takeBack("h", undefined, found, new Map([["route 254 10.1.0.0/16", [A]]]), false), ClaimedElsewhere, "a resource without an owner holds no claim");
    });

    it("moveClaims: a state without an owner gets one; a new owner name takes the old one's keys; the same owner moves nothing", async () => {
        const t = host(c);
        await moveClaims(t, { keys: ["rule 4/priority 9 table 7"] }, { owner: A, keys: ["rule 4/priority 9 table 7"] });
        assert.deepStrictEqual(c.read(), { [A]: ["rule 4/priority 9 table 7"] });
        await moveClaims(t, { owner: A, keys: ["rule 4/priority 9 table 7"] }, { owner: B, keys: ["rule 4/priority 9 table 7"] });
        assert.deepStrictEqual(c.read(), { [B]: ["rule 4/priority 9 table 7"] });
        await moveClaims(t, { owner: B, keys: ["x"] }, { owner: B, keys: ["y"] });
        assert.deepStrictEqual(c.read(), { [B]: ["rule 4/priority 9 table 7"] });
    });
});
