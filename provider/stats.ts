/**
 * Opt-in accounting, for the benchmarks and for diagnosing a slow `up`: with
 * RO_PROVIDER_STATS set to a file path, the provider process appends one JSON
 * line per host round trip and one per lifecycle operation, with the
 * process's peak resident memory. The engine starts the dynamic-provider
 * process with the CLI's environment, so the variable set for `pulumi`
 * reaches it. Lines carry the host's name and the command's first word only,
 * never a connection or an argument, so secrets cannot end up in the file.
 */
import * as fs from "fs";

/** The process's peak resident set (VmHWM) in KiB, or 0 where /proc is absent. */
export function peakRssKiB(): number {
    try {
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
        return m ? Number(m[1]) : 0;
    } catch {
        return 0;
    }
}

export type StatsEvent =
    | { ev: "call"; host: string; cmd: string; ms: number }
    | { ev: "op"; kind: string; op: string; ms: number; ok: boolean; peakKiB: number };

export function recordStats(e: StatsEvent): void {
    const file = process.env.RO_PROVIDER_STATS;
    if (!file) return;
    // Synchronous on purpose: the engine may kill the process right after the last reply.
    fs.appendFileSync(file, JSON.stringify({ pid: process.pid, t: Date.now(), ...e }) + "\n");
}

/** Runs f and records it as one `op` line when stats are on. */
export async function timedOp<T>(kind: string, op: string, f: () => Promise<T>): Promise<T> {
    if (!process.env.RO_PROVIDER_STATS) return f();
    const t0 = process.hrtime.bigint();
    let ok = false;
    try {
        const r = await f();
        ok = true;
        return r;
    } finally {
        recordStats({ ev: "op", kind, op, ok, ms: Number(process.hrtime.bigint() - t0) / 1e6, peakKiB: peakRssKiB() });
    }
}
