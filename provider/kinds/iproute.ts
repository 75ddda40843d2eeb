/**
 * What every iproute2-backed kind shares: the package's own routing protocol
 * number, and reading `ip -j` output, including the several JSON documents
 * `ip -j -batch -` prints in a row, and running batches.
 */
import type { Transport } from "../transport";

/**
 * The routing protocol number stamped on every route and rule this package
 * creates (`proto 214` / `protocol 214`). It is the ownership mark: delete
 * and refresh filter on it, so routes of other tools in the same table are
 * never touched. 214 is free in iproute2's rt_protos and in the kernel's
 * RTPROT_* list, and is not used by FRR, BIRD, keepalived or systemd-networkd.
 */
export const OWN_PROTO = 214;

/** Parses one or more JSON documents printed back to back (`ip -j -batch -`). */
export function parseJsonStream(text: string): unknown[] {
    const out: unknown[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
            if (ch === "\\") i++;
            else if (ch === '"') inString = false;
            continue;
        }
        if (ch === '"') inString = true;
        else if (ch === "[" || ch === "{") {
            if (depth++ === 0) start = i;
        } else if (ch === "]" || ch === "}") {
            if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
        }
    }
    return out;
}

export function parseJsonArray(text: string): Record<string, any>[] {
    const docs = parseJsonStream(text);
    return docs.length ? (docs[0] as Record<string, any>[]) : [];
}

/** The line number `ip -batch` reports for the command that failed ("Command failed -:12"). */
export function failedBatchLine(stderr: string): number | undefined {
    const m = /Command failed -:(\d+)/.exec(stderr);
    return m ? Number(m[1]) : undefined;
}

/** The batch text for a list of argv lines (one command per line, words single-spaced). */
export function batchText(lines: readonly (readonly string[])[]): string {
    return lines.map((l) => l.join(" ")).join("\n") + "\n";
}

/** The kernel refused to add what is already there (EEXIST, which iproute2 prints as "File exists"). */
export function isExists(stderr: string): boolean {
    return /File exists/.test(stderr);
}

/**
 * A batch that stopped at a line: the lines before it were applied, the rest
 * were not. Callers decide on `applied` and `exists`, never on the message.
 */
export class BatchFailed extends Error {
    constructor(
        host: string,
        /** How many lines, from the first, the host applied. */
        public readonly applied: number,
        /** The failing line's entry name, when the caller named its lines. */
        public readonly entry: string | undefined,
        /** The kernel refused the failing line because the object already exists. */
        public readonly exists: boolean,
        detail: string,
    ) {
        super(`${host}: ${entry ? `${entry}: ` : ""}${detail}`);
        this.name = "BatchFailed";
    }
}

/** Kernel says the object is already gone: deletes treat that as success. */
export function isGone(stderr: string): boolean {
    return /No such process|No such file or directory|Cannot find device|does not exist/.test(stderr);
}

/**
 * One batch. Without -force, ip and bridge stop at the first failing line, so
 * the lines before it are applied and the rest are not: the error names the
 * entry, and `undo` gets the applied prefix to roll back when asked.
 */
export async function runBatch(t: Transport, tool: "ip" | "bridge", lines: string[][], names: string[], force = false, family?: 4 | 6): Promise<void> {
    if (!lines.length) return;
    // A batch line takes no options: `ip rule` lines need the family on the command (they default to IPv4).
    const argv = [tool, ...(family ? [`-${family}`] : []), ...(force ? ["-force"] : []), "-batch", "-"];
    const res = await t.run(argv, { input: batchText(lines), allowFailure: true });
    if (res.code === 0) return;
    if (force) {
        // Deletes: an entry already gone is fine; anything else is not.
        const real = res.stderr.split("\n").filter((l) => l.trim() && !isGone(l) && !/Command failed/.test(l));
        if (!real.length) return;
        throw new Error(`${t.name}: ${tool} batch: ${real.join("; ")}`);
    }
    const n = failedBatchLine(res.stderr);
    throw new BatchFailed(t.name, n ? n - 1 : 0, n ? names[n - 1] : undefined, isExists(res.stderr), res.stderr.replace(/Command failed -:\d+/, "").trim());
}
