/**
 * The host's claims (provider/kinds/claims.ts), run as the very scripts the
 * kinds send, on a temporary directory standing in for
 * /run/routed-overlay/claims.
 */
import * as assert from "assert";
import type { RunOptions, Transport } from "../../provider/transport";
import { claim, ClaimedElsewhere, moveClaims, runThenUnclaim, takeBack, unclaim } from "../../provider/kinds/claims";
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

    it("runThenUnclaim: the claim goes with a command that succeeds, stays with one that fails, whose status and stderr come back", async () => {
        const t = host(c);
        await claim(t, A, ["rule 4/priority 100 table 7", "rule 4/priority 200 table 7"]);
        // `cat` would eat the keys were stdin the command's: the claim's removal reads them after it.
        const ok = await runThenUnclaim(t, A, ["rule 4/priority 100 table 7"], ["cat"]);
        assert.deepStrictEqual([ok.code, ok.stdout], [0, ""]);
        assert.deepStrictEqual(c.read()[A], ["rule 4/priority 200 table 7"]);
        const failed = await runThenUnclaim(t, A, ["rule 4/priority 200 table 7"], ["sh", "-c", "echo 'RTNETLINK answers: No such file or directory' >&2; exit 2"]);
        assert.deepStrictEqual([failed.code, failed.stderr.trim()], [2, "RTNETLINK answers: No such file or directory"]);
        assert.deepStrictEqual(c.read()[A], ["rule 4/priority 200 table 7"]);
        await runThenUnclaim(t, A, ["rule 4/priority 200 table 7"], ["true"]);
        assert.ok(c.gone(), "the last claim took the directories with it");
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
