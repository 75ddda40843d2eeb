/**
 * The benchmark's arithmetic, kept apart from the lab and the CLI so it can be
 * unit-tested: reading the provider's stats lines (provider/stats.ts),
 * medians over runs, and the markdown tables.
 */

/** W1's destinations: /24s from 10.128.0.0/9, room for 32,768 routes, none of them the lab's own. */
export function w1Destinations(n: number): string[] {
    return Array.from({ length: n }, (_, i) => `10.${128 + (i >> 8)}.${i & 255}.0/24`);
}

/** What one operation cost, from the provider process's point of view. */
export interface OpStats {
    /** Round trips per host name (transport calls, or SSH sessions for the per-route baseline). */
    callsByHost: Record<string, number>;
    /** Peak resident memory of the busiest provider process, MiB (0 when no provider process ran an operation). */
    peakMiB: number;
    /** Provider operations seen, by "Kind.op". */
    ops: Record<string, number>;
    /** From the start of the first provider operation to the end of the last, seconds: the rest of the wall time is program, engine and plugin start. */
    spanSeconds: number;
    /** The round trips' durations added up, seconds (they overlap across hosts). */
    callSeconds: number;
}

/** Reads the JSON lines the provider appended during one operation. Lines that don't parse are skipped (a torn last line). */
export function summarizeStats(text: string): OpStats {
    const callsByHost: Record<string, number> = {};
    const ops: Record<string, number> = {};
    let peakKiB = 0;
    let first = Infinity, last = -Infinity, callMs = 0;
    for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        let e: { ev?: string; host?: string; kind?: string; op?: string; peakKiB?: number; t?: number; ms?: number };
        try {
            e = JSON.parse(line);
        } catch {
            continue;
        }
        if (e.ev === "call" && e.host) { callsByHost[e.host] = (callsByHost[e.host] ?? 0) + 1; callMs += e.ms ?? 0; }
        if (e.ev === "op" && typeof e.t === "number") { first = Math.min(first, e.t - (e.ms ?? 0)); last = Math.max(last, e.t); }
        if (e.ev === "op") {
            const k = `${e.kind}.${e.op}`;
            ops[k] = (ops[k] ?? 0) + 1;
            peakKiB = Math.max(peakKiB, e.peakKiB ?? 0);
        }
    }
    const span = last >= first ? Math.round(last - first) / 1000 : 0;
    return { callsByHost, peakMiB: Math.round((peakKiB / 1024) * 10) / 10, ops, spanSeconds: span, callSeconds: Math.round(callMs) / 1000 };
}

/** The largest number of round trips any one host saw (0 when none). */
export function maxCallsPerHost(s: OpStats): number {
    return Math.max(0, ...Object.values(s.callsByHost));
}

export function median(xs: number[]): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One measured operation of one run. */
export interface Sample {
    workload: "W1" | "W2";
    /** Routes (W1) or nodes (W2). */
    size: number;
    /** "package", "per-route", "engine-floor", "engine-floor-rules", "ansible", "ip-batch". */
    variant: string;
    op: string;
    run: number;
    seconds: number;
    /** Resources the engine counted in the stack (W1/W2 variants run through Pulumi). */
    resources?: number;
    stats?: OpStats;
    /** Kernel objects counted on the hosts after the operation (a check that the work was really done). */
    objects?: Record<string, number>;
    /** When the run that measured it started (samples kept by --merge keep theirs). */
    date?: string;
    /** W2 moves: which round of the run; every variant moves once a round, one after the other. */
    round?: number;
}

export interface Cell {
    seconds: number;
    runs: number;
    maxCallsPerHost: number;
    peakMiB: number;
    resources?: number;
}

/** Median seconds per (workload, size, variant, op), with the worst round trips and memory seen over the runs. */
export function aggregate(samples: Sample[]): Map<string, Cell> {
    const groups = new Map<string, Sample[]>();
    for (const s of samples) {
        const k = cellKey(s.workload, s.size, s.variant, s.op);
        groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    const out = new Map<string, Cell>();
    for (const [k, g] of groups) {
        out.set(k, {
            seconds: median(g.map((s) => s.seconds)),
            runs: g.length,
            maxCallsPerHost: Math.max(0, ...g.map((s) => (s.stats ? maxCallsPerHost(s.stats) : 0))),
            peakMiB: Math.max(0, ...g.map((s) => s.stats?.peakMiB ?? 0)),
            resources: g.find((s) => s.resources !== undefined)?.resources,
        });
    }
    return out;
}

export function cellKey(workload: string, size: number, variant: string, op: string): string {
    return `${workload}|${size}|${variant}|${op}`;
}

const secs = (c?: Cell) => (c ? c.seconds.toFixed(c.seconds < 10 ? 2 : 1) : "–");
/** The package's figure over the engine floor's, signed: the package's own cost of an operation. */
const overFloor = (p?: Cell, f?: Cell) => (p && f ? `${(p.seconds - f.seconds).toFixed(2)} s` : "–");
const ratio = (a?: Cell, b?: Cell) => (a && b && b.seconds > 0 ? `${(a.seconds / b.seconds).toFixed(1)}×` : "–");

/**
 * The package's moves over a floor's, paired by run and round: median and
 * range of the differences. The variants move one after the other in each
 * round, so what drifts over a run (the machine, the lab) falls on both
 * samples of a pair, where the medians of each variant keep it.
 */
export function pairedOverFloor(samples: Sample[], size: number, floor: string, op = "move-gateway"): { median: number; min: number; max: number; pairs: number } | undefined {
    const at = (v: string) => new Map(samples.filter((s) => s.workload === "W2" && s.size === size && s.variant === v && s.op === op && s.round !== undefined)
        .map((s) => [`${s.date ?? ""}|${s.run}|${s.round}`, s.seconds]));
    const f = at(floor);
    const d = [...at("package")].filter(([k]) => f.has(k)).map(([k, x]) => x - f.get(k)!);
    return d.length ? { median: median(d), min: Math.min(...d), max: Math.max(...d), pairs: d.length } : undefined;
}

function table(head: string[], rows: string[][]): string {
    return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Which cells come from an earlier run (kept by --merge), with that run's date. */
function keptNote(samples: Sample[], date: string | undefined): string[] {
    const older = new Map<string, string>();
    for (const x of samples) if (x.date && x.date !== date) older.set(`${x.workload} ${x.size} ${x.variant}`, x.date);
    return older.size ? [`- kept from earlier runs (--merge): ${[...older].map(([c, d]) => `${c} (${d})`).join(", ")}`] : [];
}

/** The markdown report: one table per workload, medians of the runs, ratios against the baselines. */
export function renderMarkdown(samples: Sample[], meta: Record<string, string>): string {
    const cells = aggregate(samples);
    const get = (w: string, n: number, v: string, op: string) => cells.get(cellKey(w, n, v, op));
    const sizes = (w: string) => [...new Set(samples.filter((s) => s.workload === w).map((s) => s.size))].sort((a, b) => a - b);
    const runs = Math.min(...[...cells.values()].map((c) => c.runs));
    const out: string[] = [
        "# routed-overlay benchmark",
        "",
        ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
        `- every figure is the median of ${Number.isFinite(runs) ? `at least ${runs}` : "the"} run(s); seconds are wall time of the whole CLI command as a user runs it`,
        ...keptNote(samples, meta.date),
        "",
    ];
    if (sizes("W1").length) {
        out.push("## W1: return routes on one peer host", "");
        out.push(table(
            ["routes", "variant", "up", "no-op up", "preview --diff", "refresh", "destroy", "resources", "round trips per host (up / no-op / preview / refresh / destroy)", "provider peak MiB"],
            sizes("W1").flatMap((n) => ["package", "engine-floor", "per-route", "ansible", "ip-batch"].flatMap((v) => {
                const up = get("W1", n, v, v === "ip-batch" ? "add" : "up");
                if (!up) return [];
                // Outside Pulumi: ip-batch adds and deletes; Ansible runs a play for each (no no-op or refresh of its own).
                const outside = v === "ip-batch" || v === "ansible";
                const ops = v === "ip-batch" ? ["add", "", "", "", "delete"] : v === "ansible" ? ["up", "", "", "", "destroy"] : ["up", "noop-up", "preview", "refresh", "destroy"];
                const c = ops.map((op) => (op ? get("W1", n, v, op) : undefined));
                const trips = outside ? "–" : c.map((x) => (x ? String(x.maxCallsPerHost) : "–")).join(" / ");
                return [[String(n), v, ...c.map(secs), String(up.resources ?? "–"), trips, outside ? "–" : String(Math.max(...c.map((x) => x?.peakMiB ?? 0)))]];
            })),
        ));
        out.push("", "Ratios (medians):", "");
        out.push(table(
            ["routes", "up − engine floor", "no-op up − engine floor", "preview − engine floor", "per-route up ÷ package up", "Ansible play ÷ package up", "package up ÷ ip-batch floor"],
            sizes("W1").map((n) => {
                const p = get("W1", n, "package", "up");
                const over = (op: string) => overFloor(get("W1", n, "package", op), get("W1", n, "engine-floor", op));
                return [String(n), over("up"), over("noop-up"), over("preview"), ratio(get("W1", n, "per-route", "up"), p), ratio(get("W1", n, "ansible", "up"), p), ratio(p, get("W1", n, "ip-batch", "add"))];
            }),
        ));
        out.push("");
    }
    if (sizes("W2").length) {
        out.push("## W2: TunnelFabric over N lab nodes", "");
        out.push(table(
            ["nodes", "variant", "resources", "kernel objects after up", "converge (up)", "no-op up", "move gateway", "refresh", "destroy", "round trips per host (up / no-op / move / refresh / destroy)", "provider peak MiB"],
            sizes("W2").flatMap((n) => ["package", "engine-floor", "engine-floor-rules"].flatMap((v) => {
                const ops = ["up", "noop-up", "move-gateway", "refresh", "destroy"].map((op) => get("W2", n, v, op));
                if (!ops[0]) return [];
                const objs = samples.find((s) => s.workload === "W2" && s.size === n && s.variant === v && s.op === "up" && s.objects)?.objects ?? {};
                const objText = Object.entries(objs).map(([k, x]) => `${x} ${k}`).join(", ") || "–";
                return [[String(n), v, String(ops[0]?.resources ?? "–"), objText, ...ops.map(secs), ops.map((x) => (x ? String(x.maxCallsPerHost) : "–")).join(" / "), String(Math.max(...ops.map((x) => x?.peakMiB ?? 0)))]];
            })),
        ));
        out.push("", "Over the engine floor, and per node (medians; a move paired with the floor's of the same round: median, and min to max over the pairs):", "");
        out.push(table(
            ["nodes", "up − engine floor", "no-op up − engine floor", "move − engine floor", "move − engine floor, paired", "move − floor of 0.1's graph", "move − floor of 0.1's graph, paired", "package up ÷ nodes", "engine floor up ÷ nodes"],
            sizes("W2").map((n) => {
                const over = (op: string, floor = "engine-floor") => overFloor(get("W2", n, "package", op), get("W2", n, floor, op));
                const paired = (floor: string) => {
                    const p = pairedOverFloor(samples, n, floor);
                    return p ? `${p.median.toFixed(2)} s (${p.min.toFixed(2)} to ${p.max.toFixed(2)}, ${p.pairs} pairs)` : "–";
                };
                const perNode = (v: string) => { const c = get("W2", n, v, "up"); return c ? `${(c.seconds / n).toFixed(3)} s` : "–"; };
                return [String(n), over("up"), over("noop-up"), over("move-gateway"), paired("engine-floor"), over("move-gateway", "engine-floor-rules"), paired("engine-floor-rules"), perNode("package"), perNode("engine-floor")];
            }),
        ));
        out.push("");
    }
    return out.join("\n");
}
