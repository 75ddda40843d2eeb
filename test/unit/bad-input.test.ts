/**
 * Runs the bad-input corpus (test/support/bad-input.ts) the way a program
 * meets it: components through their constructors, resources through their
 * classes and then the dynamic provider's check, which is what `pulumi
 * preview` calls. Both under pulumi.runtime.setMocks, so nothing leaves the
 * process.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ExternalReturnRoute, GatewayVip, RoutedSubnet, TunnelFabric } from "../../components";
import { resetRegistry } from "../../components/registry";
import * as resources from "../../provider/resources";
import { Kind, kinds } from "../../provider/runtime";
import { BadInputCase, BASELINE, ComponentTarget, COMPONENTS, Construction, CORPUS, ResourceTarget, RESOURCES, Target } from "../support/bad-input";

type Ctor = new (name: string, args: any, opts?: any) => pulumi.Resource;

const COMPONENT_CLASSES: Record<ComponentTarget, Ctor> = { RoutedSubnet, ExternalReturnRoute, GatewayVip, TunnelFabric };
const RESOURCE_CLASSES: Record<ResourceTarget, Ctor> = {
    Route: resources.Route,
    RouteSet: resources.RouteSet,
    Rule: resources.Rule,
    FdbEntry: resources.FdbEntry,
    FdbSet: resources.FdbSet,
    VxlanLink: resources.VxlanLink,
    ForwardAccept: resources.ForwardAccept,
    ConntrackInvalidAccept: resources.ConntrackInvalidAccept,
    Sysctl: resources.Sysctl,
    FrrStaticRoute: resources.FrrStaticRoute,
    Keepalived: resources.Keepalived,
};
const isComponent = (t: Target): t is ComponentTarget => (COMPONENTS as readonly string[]).includes(t);

/** What the mock engine was asked to register, by resource name. */
const registered = new Map<string, pulumi.runtime.MockResourceArgs>();

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The engine hands dynamic providers plain values (they do not accept secrets): unwrap the mocks' secret envelopes. */
function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (SECRET_SIG in o) return unwrapSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

const settled = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

/** A resource's inputs as its dynamic provider receives them, and the provider's check of them. */
async function check(target: ResourceTarget, name: string, args: Record<string, unknown>): Promise<{ kind: Kind; reasons: string[] }> {
    const r = new RESOURCE_CLASSES[target](name, args) as pulumi.CustomResource;
    await settled(r.urn);
    const reg = registered.get(name);
    assert.ok(reg, `the mock engine never saw ${name}`);
    const kind = reg.type.split(":").pop() as Kind;
    const res = await kinds[kind].check({}, unwrapSecrets(reg.inputs) as Record<string, unknown>);
    return { kind, reasons: (res.failures ?? []).map((f) => f.reason) };
}

/** `new <component>(name, args)`; throws what the constructor throws. */
function construct(c: Construction & { target: ComponentTarget }): void {
    new COMPONENT_CLASSES[c.target](c.name, c.args);
}

/** Constructs a case's setup and then the case; returns every message it produced. */
async function messagesOf(c: BadInputCase): Promise<string> {
    for (const s of c.setup ?? []) {
        const t = s.target;
        if (isComponent(t)) assert.doesNotThrow(() => construct({ ...s, target: t }), `setup ${t} ${s.name} must construct`);
        else assert.deepStrictEqual((await check(t, s.name, s.args)).reasons, [], `setup ${t} ${s.name} must pass check`);
    }
    const name = c.name ?? c.id;
    const t = c.target;
    if (!isComponent(t)) return (await check(t, name, c.args)).reasons.join("\n");
    try {
        construct({ target: t, name, args: c.args });
    } catch (e) {
        return (e as Error).message;
    }
    return "";
}

describe("bad-input corpus", function () {
    // Each resource case serializes its dynamic provider, as a real program does.
    this.timeout(20000);

    before(() =>
        pulumi.runtime.setMocks(
            {
                newResource(a) {
                    registered.set(a.name, a);
                    return { id: `${a.name}-id`, state: a.inputs };
                },
                call: (a) => a.inputs,
            },
            "bad-input",
            "corpus",
            true,
        ));
    beforeEach(() => resetRegistry());
    // Later suites construct their own programs: leave no claims behind.
    after(() => resetRegistry());

    describe("the corpus itself", () => {
        it("holds at least 60 cases and at least one for every component and resource", () => {
            assert.ok(CORPUS.length >= 60, `${CORPUS.length} cases`);
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
                assert.match(said, c.expect, `${c.id}: no message matched`);
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
