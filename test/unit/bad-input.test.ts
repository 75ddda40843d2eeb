/**
 * Runs the bad-input corpus (test/support/bad-input.ts) the way a program
 * meets it: components through their constructors, resources through their
 * classes and then the dynamic provider's check, which is what `pulumi
 * preview` calls. Both under pulumi.runtime.setMocks, so nothing leaves the
 * process.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { resetRegistry } from "../../components/registry";
import { BadInputCase, BASELINE, COMPONENTS, CORPUS, leakedSecret, RESOURCES, withMarkers } from "../support/bad-input";
import { check, construct as build, isComponent, useMocks } from "../support/mock-program";
import { InvalidArgumentsError } from "../../common/problems";

const construct = (c: { target: string; name: string; args: unknown }) => build(c.target as never, c.name, c.args);

/** Constructs a case's setup and then the case; returns every message it produced. */
async function messagesOf(c: BadInputCase): Promise<string> {
    for (const s of c.setup ?? []) {
        const t = s.target;
        if (isComponent(t)) assert.doesNotThrow(() => construct({ ...s, target: t }), `setup ${t} ${s.name} must construct`);
        else assert.deepStrictEqual((await check(t, s.name, s.args)).reasons, [], `setup ${t} ${s.name} must pass check`);
    }
    const name = c.name ?? c.id;
    const t = c.target;
    try {
        if (!isComponent(t)) return (await check(t, name, c.args)).reasons.join("\n");
        construct({ target: t, name, args: c.args });
    } catch (e) {
        // A refusal is an InvalidArgumentsError; anything else (a TypeError) is a crash, and fails the case.
        if (!(e instanceof InvalidArgumentsError)) throw e;
        return e.message;
    }
    return "";
}

describe("bad-input corpus", function () {
    // Each resource case serializes its dynamic provider, as a real program does.
    this.timeout(20000);

    before(useMocks);
    beforeEach(() => resetRegistry());
    // Later suites construct their own programs: leave no claims behind.
    after(() => resetRegistry());

    describe("the corpus itself", () => {
        it("holds at least 238 cases and at least one for every component and resource", () => {
            assert.ok(CORPUS.length >= 238, `${CORPUS.length} cases`);
            for (const t of [...COMPONENTS, ...RESOURCES]) assert.ok(CORPUS.some((c) => c.target === t), `no case for ${t}`);
        });

        it("has unique ids and plain, JSON-serialisable arguments", () => {
            assert.strictEqual(new Set(CORPUS.map((c) => c.id)).size, CORPUS.length);
            for (const c of CORPUS) {
                assert.match(c.id, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, c.id);
                assert.deepStrictEqual(JSON.parse(JSON.stringify(c.args)), c.args, `${c.id}: args do not survive JSON`);
                for (const s of c.setup ?? []) assert.deepStrictEqual(JSON.parse(JSON.stringify(s)), s, `${c.id}: setup does not survive JSON`);
            }
        });
    });

    describe("the baselines the cases start from are valid", () => {
        for (const t of COMPONENTS) {
            it(`${t} constructs`, () => assert.doesNotThrow(() => construct({ target: t, name: `baseline-${t.toLowerCase()}`, args: BASELINE[t] })));
        }
        for (const t of RESOURCES) {
            it(`${t} passes its provider's check`, async () => {
                assert.deepStrictEqual((await check(t, `baseline-${t.toLowerCase()}`, BASELINE[t])).reasons, []);
            });
        }
    });

    describe("every case is refused, naming the argument and the value", () => {
        for (const c of CORPUS) {
            it(`${c.target}: ${c.id}`, async () => {
                const said = await messagesOf(c);
                assert.ok(said, `${c.id}: accepted, expected ${c.expect}`);
                assert.match(said, c.expect, `${c.id}: no message matched ${c.expect}:\n${said}`);
            });
        }
    });

    describe("no message holds a secret", () => {
        // Every connection's privateKey, password and privateKeyPassword, every authPass and
        // keepalived config carry the marker: whatever a case gets wrong, the marker stays hidden.
        for (const c of CORPUS) {
            it(`${c.target}: ${c.id}`, async () => {
                const marked: BadInputCase = {
                    ...c,
                    args: withMarkers(c.args, c.target),
                    setup: c.setup?.map((s) => ({ ...s, args: withMarkers(s.args, s.target) as Record<string, unknown> })),
                };
                const said = await messagesOf(marked);
                assert.strictEqual(leakedSecret(said), undefined, `${c.id}: a secret is in the message:\n${said}`);
            });
        }
    });

    describe("cross-object checks", () => {
        it("accept the same constructions in separate programs (the registry is reset)", async () => {
            for (const c of CORPUS.filter((x) => x.setup?.length)) {
                resetRegistry();
                assert.strictEqual(await messagesOf({ ...c, setup: [] }), "", `${c.id} alone`);
            }
        });

        it("do not let a refused construction claim anything", () => {
            const args = BASELINE.RoutedSubnet;
            assert.throws(() => construct({ target: "RoutedSubnet", name: "broken", args: { ...args, natOutgoing: true } }), /natOutgoing/);
            assert.doesNotThrow(() => construct({ target: "RoutedSubnet", name: "fine", args }));
            assert.throws(() => construct({ target: "RoutedSubnet", name: "again", args: { ...args, subnetName: "again" } }), /overlaps cidrBlock "10\.166\.0\.0\/16" of RoutedSubnet "fine"/);
        });

        // Last: a run leaves its Stack resource behind as the current one.
        it("keep one book per program run, so a program run twice in one process does not meet itself", async () => {
            for (const run of [1, 2]) {
                await pulumi.runtime.runInPulumiStack(async () => {
                    construct({ target: "RoutedSubnet", name: "routed", args: BASELINE.RoutedSubnet });
                    assert.throws(() => construct({ target: "RoutedSubnet", name: "twin", args: BASELINE.RoutedSubnet }), /of RoutedSubnet "routed"/, `run ${run}`);
                    return {};
                });
            }
        });
    });
});
