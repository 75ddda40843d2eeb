/**
 * No crash on any args value: every component and every resource, given
 * arguments of the wrong shape anywhere (the whole args, any property, any
 * list entry, any field of a connection), either accepts them or refuses
 * them with InvalidArgumentsError or check failures that name an argument.
 * Never a JavaScript TypeError, never a stack trace, and never a secret:
 * every connection and password carries a marker that no message may show.
 */
import * as assert from "assert";
import { resetRegistry } from "../../components/registry";
import { InvalidArgumentsError } from "../../common/problems";
import { BASELINE, COMPONENTS, leakedSecret, RESOURCES, Target, withMarkers } from "../support/bad-input";
import { check, construct, isComponent, useMocks } from "../support/mock-program";

/** Values of the wrong shape, as a typo or a YAML slip produces them. */
const ODD: unknown[] = [undefined, null, "x", "", 7, -1, 1.5, true, [], {}, [null], [{}], ["x"], { a: 1 }];

type Path = (string | number)[];

/** Every property and list entry of a value, depth first. */
function paths(v: unknown, at: Path = []): Path[] {
    if (Array.isArray(v)) return v.flatMap((x, i) => [[...at, i], ...paths(x, [...at, i])]);
    if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])]);
    return [];
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
    const out = JSON.parse(JSON.stringify(root));
    let o = out;
    for (const p of path.slice(0, -1)) o = o[p];
    const last = path[path.length - 1];
    if (value === undefined && !Array.isArray(o)) delete o[last];
    else o[last] = value;
    return out;
}

const show = (p: Path) => p.map((x) => (typeof x === "number" ? `[${x}]` : `.${x}`)).join("");

/** What the target said about these args: "" when it accepted them. Throws on anything but a refusal. */
async function outcome(t: Target, name: string, args: unknown): Promise<string> {
    resetRegistry();
    try {
        if (isComponent(t)) {
            construct(t, name, args);
            return "";
        }
        return (await check(t, name, args)).reasons.join("\n");
    } catch (e) {
        if (e instanceof InvalidArgumentsError) {
            assert.ok(e.problems.length > 0);
            return e.message;
        }
        throw e;
    }
}

function assertClean(said: string, where: string) {
    assert.strictEqual(leakedSecret(said), undefined, `${where}: a secret in the message:\n${said}`);
    assert.ok(!/\n\s+at .*\(.*:\d+:\d+\)/.test(said), `${where}: a stack trace in the message:\n${said}`);
    assert.ok(!/TypeError|Cannot read|undefined is not|\[object Object\]|Calling \[toJSON\]/.test(said), `${where}: ${said}`);
}

describe("arguments of any shape", function () {
    this.timeout(120000);
    before(useMocks);
    after(() => resetRegistry());

    for (const t of [...COMPONENTS, ...RESOURCES]) {
        describe(t, () => {
            it("refuses args that are not an object, naming args", async () => {
                for (const [i, v] of [undefined, null, "args", 42, [], [BASELINE[t]], true].entries()) {
                    const said = await outcome(t, `${t.toLowerCase()}-args-${i}`, v);
                    assert.match(said, /args: must be an object/, `${t} with args ${JSON.stringify(v)}`);
                    assertClean(said, `${t} args ${JSON.stringify(v)}`);
                }
            });

            it("refuses or accepts a wrong shape at every property and list entry, without crashing or leaking", async () => {
                const base = withMarkers(BASELINE[t]);
                let n = 0, refused = 0;
                for (const p of paths(base)) {
                    for (const v of ODD) {
                        const args = setAt(base, p, v);
                        let said: string;
                        try {
                            said = await outcome(t, `${t.toLowerCase()}-${n++}`, args);
                        } catch (e) {
                            assert.fail(`${t} with args${show(p)} = ${JSON.stringify(v)} crashed: ${(e as Error).stack}`);
                        }
                        assertClean(said, `${t} args${show(p)} = ${JSON.stringify(v)}`);
                        if (said) refused++;
                    }
                }
                // The sweep must mostly hit refusals, or it tests nothing.
                assert.ok(refused > n / 2, `${refused} of ${n} variants refused`);
            });
        });
    }
});
