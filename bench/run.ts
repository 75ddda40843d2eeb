#!/usr/bin/env node
/**
 * `npm run bench`: the W1 and W2 workloads and their baselines on the lab,
 * through the real Pulumi CLI. Writes bench/results/results.json (every
 * sample, the machine) and bench/results/results.md (medians, ratios).
 *
 *   --runs N        runs per figure (default 1: the committed table's; 3 or more for medians)
 *   --w1 LIST       W1 route counts (default 1000,10000)
 *   --per-route LIST  route counts for the per-route baseline (default 1000)
 *   --ansible LIST  route counts for the Ansible baseline (default 1000; 10000 takes about 45 min; "none" to skip)
 *   --w2 LIST       W2 node counts (default 8,16,32,64; the lab allows up to 80)
 *   --pods N        W2 per-pod routes per node (default 20)
 *   --only w1|w2    one workload
 *   --out DIR       results folder (default bench/results)
 *   --w2-variants L package, engine-floor (the fabric's resources, a provider that
 *                   does nothing) and/or engine-floor-rules (the same in version 0.1's
 *                   graph, a resource per rule); default all three
 *   --merge         keep the samples of results.json that this run does not measure again
 *   --stats DIR     also keep each operation's raw provider stats lines (RO_PROVIDER_STATS) in DIR, one file an operation
 *   --quick         --runs 1 --w1 200 --per-route 200 --ansible 200 --w2 4 (a smoke run)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostExec, labDown, labIsUp, labUp, LabInfo, REPO_ROOT } from "../lab/lab";
import { execArgv } from "../provider/transport/exec";
import { parseJsonArray } from "../provider/kinds/iproute";
import { programStack, TestStack } from "../test/support/pulumi";
import { toolchainDir } from "../lab/toolchain";
import { renderMarkdown, Sample, summarizeStats, OpStats, w1Destinations } from "./stats";
import { ansibleProject, runPlay } from "./ansible";

interface Options {
    runs: number;
    w1: number[];
    perRoute: number[];
    ansible: number[];
    w2: number[];
    pods: number;
    only?: "w1" | "w2";
    out: string;
    w2Variants: string[];
    merge: boolean;
    stats?: string;
    /** Gateway moves per W2 run (node1 → node2, back, …): the move has a target of its own, and one sample is a second's noise. */
    moves: number;
}

function parseArgs(argv: string[]): Options {
    const o: Options = { runs: 1, w1: [1000, 10000], perRoute: [1000], ansible: [1000], w2: [8, 16, 32, 64], pods: 20, out: path.join(REPO_ROOT, "bench", "results"), w2Variants: ["package", "engine-floor", "engine-floor-rules"], merge: false, moves: 3 };
    const list = (v: string | undefined, flag: string) => {
        const xs = (v ?? "").split(",").filter(Boolean).map(Number);
        if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${flag}: expected a comma-separated list of counts, got ${JSON.stringify(v)}`);
        return xs;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const v = argv[i + 1];
        switch (a) {
            case "--quick": Object.assign(o, { runs: 1, w1: [200], perRoute: [200], ansible: [200], w2: [4] }); break;
            case "--runs": o.runs = list(v, a)[0]; i++; break;
            case "--w1": o.w1 = list(v, a); i++; break;
            case "--per-route": o.perRoute = v === "none" ? [] : list(v, a); i++; break;
            case "--ansible": o.ansible = v === "none" ? [] : list(v, a); i++; break;
            case "--w2": o.w2 = list(v, a); i++; break;
            case "--pods": o.pods = list(v, a)[0]; i++; break;
            case "--only":
                if (v !== "w1" && v !== "w2") throw new Error(`--only: expected w1 or w2, got ${JSON.stringify(v)}`);
                o.only = v; i++; break;
            case "--out": o.out = path.resolve(v); i++; break;
            case "--w2-variants":
                o.w2Variants = (v ?? "").split(",");
                if (!o.w2Variants.every((x) => ["package", "engine-floor", "engine-floor-rules"].includes(x))) throw new Error(`--w2-variants: expected package, engine-floor and/or engine-floor-rules, got ${JSON.stringify(v)}`);
                i++; break;
            case "--merge": o.merge = true; break;
            case "--moves":
                o.moves = list(v, a)[0];
                if (o.moves < 1) throw new Error(`--moves: expected 1 or more, got ${JSON.stringify(v)}`);
                i++; break;
            case "--stats": o.stats = path.resolve(v); i++; break;
            default: throw new Error(`bench: unknown argument ${JSON.stringify(a)} (see bench/run.ts)`);
        }
    }
    return o;
}

const RUN_DATE = new Date().toISOString();
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
const samples: Sample[] = [];
const STATS = path.join(os.tmpdir(), `ro-bench-stats-${process.pid}.jsonl`);

/** One Pulumi operation, timed as wall time of the whole CLI command, with the provider's stats for that command only. */
let keepStats: string | undefined;
let measured = 0;

/**
 * The CLI command a user runs (`pulumi up --yes`, ...), on the stack the
 * Automation API made. Not the Automation API's own up, which is `pulumi up`
 * then `pulumi stack output` twice and `pulumi stack history` (to fill its
 * result): at 64 nodes that loads the checkpoint three more times, and the
 * DIY backend's history read grows with every update of the run.
 */
function cli(t: TestStack, args: string[]): Promise<unknown> {
    return execArgv([path.join(toolchainDir(), "bin", "pulumi"), ...args, "--stack", t.stack.name, "--cwd", t.dir, "--non-interactive"],
        { env: { ...process.env, ...t.env }, context: `pulumi ${args[0]} (${t.stack.name})` });
}

const up = (t: TestStack) => cli(t, ["up", "--yes", "--skip-preview"]);
/** Changes the last update made, as its history records them (read after the timed command). */
const changed = async (t: TestStack) => { const rc = (await t.stack.info())?.resourceChanges; return total(rc) - (rc?.same ?? 0); };

async function measure(f: () => Promise<unknown>): Promise<{ seconds: number; stats: OpStats }> {
    fs.writeFileSync(STATS, "");
    const t0 = process.hrtime.bigint();
    await f();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const lines = fs.readFileSync(STATS, "utf8");
    // The command's own line first: the provider's times read against its start and end.
    const command = JSON.stringify({ ev: "command", t: Date.now(), ms: seconds * 1000 });
    if (keepStats) fs.writeFileSync(path.join(keepStats, `${String(++measured).padStart(3, "0")}.jsonl`), `${command}\n${lines}`);
    return { seconds, stats: summarizeStats(lines) };
}

const total = (rc: Record<string, number> | undefined) => Object.values(rc ?? {}).reduce((a, b) => a + b, 0);

async function stackFor(lab: LabInfo, program: "w1" | "w2", config: Record<string, string>, stackName?: string): Promise<TestStack> {
    const env = { RO_PROVIDER_STATS: STATS, RO_LAB_JSON: path.join(lab.stateDir, "lab.json") };
    const workDir = path.join(REPO_ROOT, "bench", "programs", program);
    // A stack file a killed run left holds the salt of a backend that is gone.
    if (stackName) fs.rmSync(path.join(workDir, `Pulumi.${stackName}.yaml`), { force: true });
    const t = await programStack(`bench-${program}`, {}, env, { workDir, stackName });
    for (const [k, v] of Object.entries(config)) await t.stack.setConfig(k, { value: v });
    return t;
}

async function peerRoutes(lab: LabInfo): Promise<number> {
    const r = await hostExec(lab, "peer", ["ip", "-j", "route", "show", "proto", "214"]);
    return (JSON.parse(r.stdout || "[]") as unknown[]).length;
}

function expectCount(what: string, got: number, want: number) {
    if (got !== want) throw new Error(`bench: ${what}: expected ${want}, found ${got}; the measured work was not done`);
}

async function w1Pulumi(lab: LabInfo, n: number, variant: string, run: number) {
    const t = await stackFor(lab, "w1", { routes: String(n), variant });
    const add = (op: string, m: { seconds: number; stats: OpStats }, resources?: number) => {
        samples.push({ workload: "W1", size: n, variant, op, run, seconds: m.seconds, stats: m.stats, resources, date: RUN_DATE });
        log(`W1 ${n} ${variant} run ${run}: ${op} ${m.seconds.toFixed(2)} s, round trips ${JSON.stringify(m.stats.callsByHost)}, peak ${m.stats.peakMiB} MiB`);
    };
    const want = variant === "engine-floor" ? 0 : n;
    try {
        add("up", await measure(() => up(t)), await changed(t));
        expectCount(`peer routes after ${variant} up`, await peerRoutes(lab), want);
        const noop = await measure(() => up(t));
        expectCount(`changes in the no-op up of ${variant}`, await changed(t), 0);
        add("noop-up", noop);
        // What a pull request's `pulumi preview --diff` costs on an unchanged set; it fails on any change.
        add("preview", await measure(() => cli(t, ["preview", "--diff", "--expect-no-changes"])));
        add("refresh", await measure(() => cli(t, ["refresh", "--yes", "--skip-preview"])));
        add("destroy", await measure(() => cli(t, ["destroy", "--yes", "--skip-preview"])));
        expectCount(`peer routes after ${variant} destroy`, await peerRoutes(lab), 0);
    } finally {
        await t.cleanup();
    }
}

/** The floor: the same routes straight into the peer's namespace with one `ip -batch`. */
async function w1Floor(lab: LabInfo, n: number, run: number) {
    const ns = lab.hosts.peer.netns;
    const dsts = w1Destinations(n);
    for (const [op, verb] of [["add", "add"], ["delete", "del"]] as const) {
        const input = dsts.map((d) => `route ${verb} ${d} via 192.168.2.10 dev eth0 proto 214\n`).join("");
        const t0 = process.hrtime.bigint();
        await execArgv(["ip", "netns", "exec", ns, "ip", "-batch", "-"], { input });
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        samples.push({ workload: "W1", size: n, variant: "ip-batch", op, run, seconds, date: RUN_DATE });
        expectCount(`peer routes after ip -batch ${verb}`, await peerRoutes(lab), op === "add" ? n : 0);
        log(`W1 ${n} ip-batch run ${run}: ${op} ${seconds.toFixed(3)} s`);
    }
}

/** The Ansible baseline: a play that loops `ip route replace` over the routes, and one that deletes them. */
async function w1Ansible(lab: LabInfo, n: number, run: number) {
    const project = ansibleProject(lab, w1Destinations(n));
    try {
        for (const [op, play] of [["up", "add.yml"], ["destroy", "delete.yml"]] as const) {
            const seconds = await runPlay(project, play);
            samples.push({ workload: "W1", size: n, variant: "ansible", op, run, seconds, date: RUN_DATE });
            expectCount(`peer routes after the ansible ${play}`, await peerRoutes(lab), op === "up" ? n : 0);
            log(`W1 ${n} ansible run ${run}: ${op} ${seconds.toFixed(2)} s`);
        }
    } finally {
        project.cleanup();
    }
}

async function fabricObjects(lab: LabInfo): Promise<Record<string, number>> {
    const out = { "FDB entries": 0, "table 18952 routes": 0, "rules": 0 };
    for (const h of Object.values(lab.hosts).filter((x) => x.role === "node")) {
        // parseJsonArray copes with what ip prints for a table that does not exist: "[" and an error.
        const count = async (argv: string[]) => parseJsonArray((await hostExec(lab, h.name, argv, { allowFailure: true })).stdout).length;
        out["FDB entries"] += await count(["bridge", "-j", "fdb", "show", "dev", "liqo.vxlan"]);
        out["table 18952 routes"] += await count(["ip", "-j", "route", "show", "table", "18952"]);
        out["rules"] += await count(["ip", "-j", "rule", "show", "table", "18952"]);
    }
    return out;
}

/**
 * The W2 cells of all variants, interleaved: each phase (up, no-op, each move, refresh, destroy)
 * runs every variant in turn, the floors first, so that the lab's drift falls on all of them
 * alike. Measured one variant after the other, the first after the lab came up paid for the
 * lab's first minutes: at 32 nodes the package's move was 3.3 s over the floor measured first
 * and 1.2 s over it measured second.
 */
async function w2Run(lab: LabInfo, nodes: number, pods: number, run: number, moves: number, variants: string[]) {
    const order = [...variants].sort((a, b) => Number(a === "package") - Number(b === "package"));
    const stacks: { variant: string; t: TestStack }[] = [];
    const add = (variant: string, op: string, m: { seconds: number; stats: OpStats }, extra: Partial<Sample> = {}) => {
        samples.push({ workload: "W2", size: nodes, variant, op, run, seconds: m.seconds, stats: m.stats, ...extra, date: RUN_DATE });
        log(`W2 ${nodes} nodes ${variant} run ${run}: ${op} ${m.seconds.toFixed(2)} s, max round trips per host ${Math.max(0, ...Object.values(m.stats.callsByHost))}, peak ${m.stats.peakMiB} MiB`);
    };
    try {
        for (const variant of order) stacks.push({ variant, t: await stackFor(lab, "w2", { podsPerNode: String(pods), activeGateway: "node1", variant }, `w2-${variant}`) });
        for (const { variant, t } of stacks) {
            const m = await measure(() => up(t));
            // The floors go first: what is on the hosts after theirs is nothing.
            const objects = await fabricObjects(lab);
            expectCount(`FDB entries after the ${variant} up`, objects["FDB entries"], variant === "package" ? nodes * (nodes - 1) : 0);
            add(variant, "up", m, { resources: await changed(t), objects });
        }
        for (const { variant, t } of stacks) {
            add(variant, "noop-up", await measure(() => up(t)));
            expectCount(`changes in the no-op up of ${variant}`, await changed(t), 0);
        }
        for (let m = 0; m < moves; m++) {
            for (const { variant, t } of stacks) {
                await t.stack.setConfig("activeGateway", { value: m % 2 === 0 ? "node2" : "node1" });
                add(variant, "move-gateway", await measure(() => up(t)), { round: m + 1 });
            }
        }
        for (const { variant, t } of stacks) add(variant, "refresh", await measure(() => cli(t, ["refresh", "--yes", "--skip-preview"])));
        for (const { variant, t } of stacks) add(variant, "destroy", await measure(() => cli(t, ["destroy", "--yes", "--skip-preview"])));
        expectCount("FDB entries after destroy", (await fabricObjects(lab))["FDB entries"], 0);
    } finally {
        for (const { t } of stacks) await t.cleanup();
    }
}

async function pulumiVersion(): Promise<string> {
    const r = await execArgv(["pulumi", "version"], { allowFailure: true });
    return r.stdout.trim() || "unknown";
}

let kept: Sample[] = [];

/** With --merge: the earlier samples of the cells this run does not measure. */
function loadKept(o: Options) {
    const file = path.join(o.out, "results.json");
    if (!o.merge || !fs.existsSync(file)) return;
    const old = JSON.parse(fs.readFileSync(file, "utf8"));
    kept = (old.samples as Sample[]).map((s) => ({ ...s, date: s.date ?? old.meta?.date }));
}

function write(o: Options, meta: Record<string, string>) {
    fs.mkdirSync(o.out, { recursive: true });
    const fresh = new Set(samples.map((s) => `${s.workload}|${s.size}|${s.variant}`));
    const all = [...kept.filter((s) => !fresh.has(`${s.workload}|${s.size}|${s.variant}`)), ...samples];
    fs.writeFileSync(path.join(o.out, "results.json"), JSON.stringify({ meta, options: o, samples: all }, null, 1) + "\n");
    fs.writeFileSync(path.join(o.out, "results.md"), renderMarkdown(all, meta) + "\n");
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    loadKept(o);
    if (o.stats) fs.mkdirSync((keepStats = o.stats), { recursive: true });
    if (await labIsUp()) throw new Error("bench: a lab is up; the benchmark reshapes it, so bring it down first (npm run lab -- down)");
    const meta: Record<string, string> = {
        date: RUN_DATE,
        machine: `${os.cpus().length} CPU (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}`,
        node: process.version,
        pulumi: await pulumiVersion(),
        runs: String(o.runs),
    };
    try {
        if (o.only !== "w1") {
            for (const nodes of o.w2) {
                const lab = await labUp({ nodes, podsPerNode: 0, kube: false }, log);
                for (let run = 1; run <= o.runs; run++) {
                    await w2Run(lab, nodes, o.pods, run, o.moves, o.w2Variants);
                    write(o, meta);
                }
            }
        }
        if (o.only !== "w2") {
            const lab = await labUp({ nodes: 3, podsPerNode: 0, kube: false }, log);
            for (const n of o.w1) {
                for (let run = 1; run <= o.runs; run++) {
                    await w1Floor(lab, n, run);
                    await w1Pulumi(lab, n, "engine-floor", run);
                    await w1Pulumi(lab, n, "package", run);
                    if (o.perRoute.includes(n)) await w1Pulumi(lab, n, "per-route", run);
                    if (o.ansible.includes(n)) await w1Ansible(lab, n, run);
                    write(o, meta);
                }
            }
        }
    } finally {
        write(o, meta);
        fs.rmSync(STATS, { force: true });
        await labDown(log);
    }
    process.stdout.write(fs.readFileSync(path.join(o.out, "results.md"), "utf8"));
}

main().catch((e) => {
    log(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
});
