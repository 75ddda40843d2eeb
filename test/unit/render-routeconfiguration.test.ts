import { threeNodes } from "../support/fabric-fixture";
import { formatProblem, Problem } from "../../common/problems";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { Validator } from "ip-num";
import * as YAML from "yaml";
import { planTunnelFabric, TunnelFabricSpec } from "../../components/render/fabric";
import {
    fabricRouteConfigurations,
    liqoTableId,
    renderRouteConfiguration,
    RouteConfigurationInput,
    validateRouteConfiguration,
} from "../../components/render/routeconfiguration";
import { expectGolden } from "../support/golden";

// Tests run from dist/test/unit.
const ROOT = path.resolve(__dirname, "../../..");
const CRD = path.join(ROOT, "lab/crds/liqo-routeconfigurations.yaml");
const FIXTURES = path.join(ROOT, "test/fixtures/seed-004");
// The seed's eight YAML blocks, copied verbatim into the repository (the seed itself is not shipped with it).
const SEED_004_BLOCKS = path.join(ROOT, "test/fixtures/seed-004-blocks.yaml");

type Obj = Record<string, any>;

function crdSchema(): Obj {
    const crd = YAML.parse(fs.readFileSync(CRD, "utf8"));
    return crd.spec.versions.find((v: Obj) => v.name === "v1beta1").schema.openAPIV3Schema;
}

/** Ajv with the CRD's formats, as the API server reads them (Go's net.ParseCIDR / net.ParseIP). */
function validator() {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat("cidr", (s: string) => Validator.isValidIPv4CidrNotation(s)[0] || Validator.isValidIPv6CidrNotation(s)[0]);
    ajv.addFormat("ipv4", (s: string) => Validator.isValidIPv4String(s)[0]);
    ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
    return ajv.compile(crdSchema());
}

/**
 * Fields the API server would prune: every key of an object whose schema
 * lists properties must be one of them. Catches a misspelt field name,
 * which plain JSON-schema validation lets through.
 */
function unknownFields(v: unknown, schema: Obj, at = ""): string[] {
    if (Array.isArray(v)) return v.flatMap((x, i) => unknownFields(x, schema.items ?? {}, `${at}[${i}]`));
    if (typeof v !== "object" || v === null || !schema.properties) return [];
    return Object.entries(v).flatMap(([k, x]) =>
        k in schema.properties ? unknownFields(x, schema.properties[k], `${at}.${k}`) : [`${at}.${k}`],
    );
}


/** Multi-document YAML, each document headed by the kernel table Liqo will use for it. */
function yamlDocs(objs: Obj[]): string {
    return objs
        .map((o) => `# table ${o.spec.table.name}: kernel table ${liqoTableId(o.spec.table.name)} (derived by Liqo)\n${YAML.stringify(o)}`)
        .join("---\n");
}

/** The Rome cluster's tables of seed 004, as renderer input: the example's own data, checked here against the seed. */
function romeTables(): RouteConfigurationInput[] {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(path.join(ROOT, "examples/liqo-route-configurations/rome.js")).romeTables();
}

function fixtures(): Obj[] {
    return fs
        .readdirSync(FIXTURES)
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .map((f) => YAML.parse(fs.readFileSync(path.join(FIXTURES, f), "utf8")));
}

function seedBlocks(): Obj[] {
    return YAML.parseAllDocuments(fs.readFileSync(SEED_004_BLOCKS, "utf8")).map((d) => d.toJSON() as Obj);
}

const byTable = (objs: Obj[]) => new Map(objs.map((o) => [o.spec.table.name as string, o]));

describe("Liqo RouteConfiguration: seed 004 (Rome)", () => {
    const rendered = romeTables().map(renderRouteConfiguration) as Obj[];

    it("keeps the hand-written fixtures equal to the seed's YAML blocks", () => {
        const seed = seedBlocks();
        assert.strictEqual(seed.length, 8);
        const fx = byTable(fixtures());
        assert.strictEqual(fx.size, 8);
        for (const block of seed) {
            const f = fx.get(block.spec.table.name);
            assert.ok(f, `no fixture for table ${block.spec.table.name}`);
            // Some blocks of the seed show only `spec`; their metadata is inferred in the fixture.
            if (Object.keys(block).length === 1) assert.deepStrictEqual(f.spec, block.spec);
            else assert.deepStrictEqual(f, block);
        }
    });

    it("reproduces the seed's objects field by field from the romeTables input", () => {
        const fx = byTable(fixtures());
        assert.strictEqual(rendered.length, fx.size);
        for (const o of rendered) assert.deepStrictEqual(o, fx.get(o.spec.table.name), o.metadata.name);
    });

    it("matches the golden", () => {
        expectGolden("routeconfiguration/rome.yaml", yamlDocs(rendered));
    });

    it("produces objects valid against the CRD's v1beta1 schema, with no field the API server would prune", () => {
        const validate = validator();
        const schema = crdSchema();
        for (const o of [...rendered, ...fixtures()]) {
            assert.ok(validate(o), `${o.metadata.name}: ${JSON.stringify(validate.errors)}`);
            assert.deepStrictEqual(unknownFields(o, schema), [], o.metadata.name);
        }
    });
});

describe("Liqo RouteConfiguration: the TunnelFabric", () => {
    it("renders the fabric as node-gw and per-node gw-node objects (golden), valid against the CRD", () => {
        const objs = fabricRouteConfigurations(threeNodes(), "routed-overlay");
        const iif = fabricRouteConfigurations({ ...threeNodes("node2"), gatewayInIf: "liqo-tunnel", localCidrs: ["10.166.0.0/16"] }, "routed-overlay");
        expectGolden("routeconfiguration/fabric-active-node1.yaml", yamlDocs(objs));
        expectGolden("routeconfiguration/fabric-active-node2-iif-localcidrs.yaml", yamlDocs(iif));
        const validate = validator();
        for (const o of [...objs, ...iif]) {
            assert.ok(validate(o), `${(o as Obj).metadata.name}: ${JSON.stringify(validate.errors)}`);
            assert.deepStrictEqual(unknownFields(o, crdSchema()), []);
        }
        assert.deepStrictEqual(
            objs.map((o) => (o as Obj).metadata.name),
            ["tunnel-fabric-18952-node-gw", "tunnel-fabric-18952-node2-gw-node", "tunnel-fabric-18952-node3-gw-node"],
        );
    });

    for (const [what, spec] of [["", threeNodes()], [" with a gateway address", { ...threeNodes(), gatewayAddress: "172.29.0.254" }]] as const) it(`carries the same routes as planTunnelFabric${what}`, () => {
        const plan = Object.fromEntries(planTunnelFabric(spec).map((p) => [p.node, p]));
        const objs = fabricRouteConfigurations(spec, "routed-overlay") as Obj[];
        const routes = (o: Obj) => o.spec.table.rules.flatMap((r: Obj) => r.routes).map((r: Obj) => `${r.dst} via ${r.gw} dev ${r.dev}`);
        const planned = (node: string) => plan[node].routes.map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`);
        // node3 is a plain node: its whole table is the node-gw object.
        assert.deepStrictEqual(routes(objs[0]), planned("node3"));
        // The active gateway's pod routes are the union of the gw-node objects.
        assert.deepStrictEqual([...new Set(objs.slice(1).flatMap(routes))].sort(), [...planned("node1")].sort());
        assert.ok(objs.every((o) => o.spec.table.rules.every((r: Obj) => r.priority === 18952)));
        assert.deepStrictEqual(objs[1].spec.table.rules.map((r: Obj) => r.src), ["10.200.0.0/16", "10.201.0.0/16"]);
    });

    it("rejects an invalid fabric or namespace, naming them", () => {
        assert.throws(() => fabricRouteConfigurations(threeNodes(), "Not_A_Namespace"), /namespace: .*"Not_A_Namespace"/);
        assert.throws(() => fabricRouteConfigurations({ ...threeNodes(), activeGateway: "node3" }, "ns"), /args\.activeGateway: .*"node3"/);
    });

    it("derives kernel table ids as Liqo does (values cross-checked with upstream's Go function)", () => {
        assert.strictEqual(liqoTableId("rome-worker"), 210412509);
        assert.strictEqual(liqoTableId("milan"), 576843759);
        assert.strictEqual(liqoTableId("milan-node-gw"), 978431797);
        assert.strictEqual(liqoTableId("tunnel-fabric-18952-node-gw"), 948526972);
        for (const n of ["a", "b", "rome-worker-extcidr"]) {
            const id = liqoTableId(n);
            assert.ok(id > 255 && id < 2 ** 31, `${n}: ${id}`);
        }
    });
});

describe("Liqo RouteConfiguration validation", () => {
    const good = (): RouteConfigurationInput => JSON.parse(JSON.stringify(romeTables()[4]));
    type Case = [string, (rc: any) => void, string, unknown];
    const cases: Case[] = [
        ["an IPv6 gw", (rc) => (rc.rules[1].routes[0].gw = "fd00::2"), "rc.rules[1].routes[0].gw", "fd00::2"],
        ["a src that is a CIDR", (rc) => (rc.rules[1].routes[0].src = "10.80.0.0/24"), "rc.rules[1].routes[0].src", "10.80.0.0/24"],
        ["a route dst with host bits", (rc) => (rc.rules[1].routes[0].dst = "10.200.1.3/16"), "rc.rules[1].routes[0].dst", "10.200.1.3/16"],
        ["a bare address as route dst", (rc) => (rc.rules[1].routes[0].dst = "10.200.1.3"), "rc.rules[1].routes[0].dst", "10.200.1.3"],
        ["a gw with scope link", (rc) => (rc.rules[1].routes[0].scope = "link"), "rc.rules[1].routes[0].scope", "link"],
        ["an unknown scope", (rc) => (rc.rules[0].routes[0].scope = "universe"), "rc.rules[0].routes[0].scope", "universe"],
        ["onlink without dev", (rc) => (rc.rules[1].routes[0].onlink = true), "rc.rules[1].routes[0].onlink", undefined],
        ["a misspelt route field", (rc) => (rc.rules[1].routes[0].gateway = "10.80.0.2"), "rc.rules[1].routes[0].gateway", "10.80.0.2"],
        ["a rule without selector", (rc) => delete rc.rules[1].iif, "rc.rules[1]", undefined],
        ["fwmark 0", (rc) => (rc.rules[0].fwmark = 0), "rc.rules[0].fwmark", 0],
        ["a priority after main", (rc) => (rc.rules[0].priority = 40000), "rc.rules[0].priority", 40000],
        ["a bad iif", (rc) => (rc.rules[1].iif = "liqo-tunnel-interface"), "rc.rules[1].iif", "liqo-tunnel-interface"],
        ["conflicting next hops in one table", (rc) => rc.rules[1].routes.push({ dst: "10.200.1.3/32", gw: "10.80.0.9" }), "rc.rules[1].routes[7]", undefined],
        ["no rules", (rc) => (rc.rules = []), "rc.rules", []],
        ["a table name with a space", (rc) => (rc.tableName = "rome worker"), "rc.tableName", "rome worker"],
        ["an upper-case name", (rc) => (rc.name = "Rome-Worker"), "rc.name", "Rome-Worker"],
        ["a bad label value", (rc) => (rc.labels["liqo.io/managed"] = "yes please"), "rc.labels[\"liqo.io/managed\"]", "yes please"],
        ["a route with neither gw nor dev", (rc) => delete rc.rules[0].routes[0].dev, "rc.rules[0].routes[0]", undefined],
    ];
    for (const [what, mutate, arg, value] of cases) {
        it(`names the argument and the value for ${what}`, () => {
            const rc = good();
            assert.deepStrictEqual(validateRouteConfiguration(rc, "rc").map(formatProblem), []);
            mutate(rc);
            const errs = validateRouteConfiguration(rc, "rc").map(formatProblem);
            const hit = errs.find((e) => e.startsWith(`${arg}:`) && (value === undefined || e.includes(JSON.stringify(value))));
            assert.ok(hit, `expected a message for ${arg} with ${JSON.stringify(value)}, got:\n${errs.join("\n")}`);
            assert.throws(() => renderRouteConfiguration(rc), /RouteConfiguration: invalid arguments/);
        });
    }

    it("accepts the seed's repeated identical routes in one table (milan-gw-ext)", () => {
        assert.deepStrictEqual(validateRouteConfiguration(romeTables()[6]).map(formatProblem), []);
    });
});
