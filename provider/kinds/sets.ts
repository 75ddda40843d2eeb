/**
 * Bulk kinds: many FDB entries of one device on one host as one resource
 * (RouteSet, many routes of one table, lives with Route in route.ts), and
 * what sets share. A change is one `bridge -batch -` round trip after one
 * read; refresh is one read. Entries are a map keyed by destination so that
 * `pulumi preview --diff` names each entry that changes.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind, sameJson } from "./kind";
import { BatchFailed, runBatch } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { appendWords, delWords, Fdb, fdbKey, normalizeFdb, ownDevice, readDev } from "./fdb";

export interface Delta<E> {
    add: [string, E][];
    remove: [string, E][];
    change: [string, E, E][];
}

/** What turns `olds` into `news`; an entry whose identity changed is a remove plus an add. */
export function delta<E>(olds: Record<string, E>, news: Record<string, E>, same: (a: E, b: E) => boolean, sameIdentity: (a: E, b: E) => boolean): Delta<E> {
    const d: Delta<E> = { add: [], remove: [], change: [] };
    for (const [k, o] of Object.entries(olds)) {
        const n = news[k];
        if (n === undefined) d.remove.push([k, o]);
        else if (!sameIdentity(o, n)) { d.remove.push([k, o]); d.add.push([k, n]); }
        else if (!same(o, n)) d.change.push([k, o, n]);
    }
    for (const [k, n] of Object.entries(news)) if (olds[k] === undefined) d.add.push([k, n]);
    return d;
}

/**
 * The entries of a set with the label messages use and the map key: a list
 * as users write it, or the map the resource classes send (keyed for
 * readable diffs).
 */
export function entriesOf(raw: Record<string, any>, field: string, what: string, errs: Problem[]): [string, any, string?][] {
    const v = raw[field];
    if (Array.isArray(v)) return v.map((r, i) => [`[${i}]`, r]);
    if (v && typeof v === "object") return Object.entries(v).map(([k, r]) => [`[${JSON.stringify(k)}]`, r, k]);
    errs.push(problem(field, `must be a list of ${what}`, v));
    return [];
}


// ---- FdbSet ------------------------------------------------------------------

export type FdbSetEntry = Omit<Fdb, "dev">;

export interface FdbSetState {
    dev: string;
    entries: Record<string, FdbSetEntry>;
}

export function normalizeFdbSet(raw: Record<string, any>, errs: Problem[]): FdbSetState | undefined {
    const before = errs.length;
    net.noUnknown(raw, ["dev", "entries"], errs);
    const dev = net.ifname("dev", raw.dev, errs) ?? "";
    const entries: Record<string, FdbSetEntry> = {};
    for (const [label, spec] of entriesOf(raw, "entries", "FDB entries", errs)) {
        if (spec === null || typeof spec !== "object") { errs.push(problem(`entries${label}`, "not an FDB entry", spec)); continue; }
        const f = normalizeFdb(spec, errs, `entries${label}.`, { dev: dev || "x" });
        if (!f) continue;
        const { dev: _d, ...entry } = f;
        const k = fdbKey(f);
        if (entries[k]) errs.push(problem(`entries${label}`, "appears twice", k));
        entries[k] = entry;
    }
    return errs.length > before ? undefined : { dev, entries };
}

export const fdbSetKind: Kind<FdbSetState> = {
    properties: ["dev", "entries"],
    normalize: normalizeFdbSet,
    identity: ["dev"],
    key: (s) => `fdb/${s.dev}`,
    async read(t, s) {
        const live = await readDev(t, s.dev);
        if (!live) return undefined;
        const byKey = new Map(live.map((f) => [fdbKey(f), f]));
        const entries: Record<string, FdbSetEntry> = {};
        for (const k of Object.keys(s.entries)) {
            const l = byKey.get(k);
            if (l) { const { dev: _d, ...e } = l; entries[k] = e; }
        }
        return { dev: s.dev, entries };
    },
    async create(t, s, adopt) {
        await applyFdb(t, { dev: s.dev, entries: {} }, s, adopt, true);
    },
    async update(t, olds, news) {
        await applyFdb(t, olds, news, false, false);
    },
    async remove(t, s) {
        const lines = Object.values(s.entries).map((e) => delWords({ ...e, dev: s.dev }));
        await runBatch(t, "bridge", lines, Object.keys(s.entries), true);
    },
};

async function applyFdb(t: Transport, olds: FdbSetState, news: FdbSetState, adopt: boolean, rollback: boolean): Promise<void> {
    const d = delta(olds.entries, news.entries, sameJson, (a, b) => fdbKey(a) === fdbKey(b));
    const live = d.add.length || d.change.length ? await readDev(t, news.dev) : [];
    if (!live) throw new Error(`${t.name}: device ${news.dev} does not exist`);
    const liveKeys = new Set(live.map(fdbKey));
    // Only create can tell a foreign entry from ours: FDB entries carry no mark, and in an update an
    // entry at a key we declared is one an interrupted run of ours left behind. On a device of ours
    // (our alias), so is one a create finds: the batch of a create that pulumi died in.
    if (rollback && !adopt) {
        const clash = d.add.find(([k]) => liveKeys.has(k));
        if (clash && !(await ownDevice(t, news.dev))) throw alreadyExists(t.name, `the FDB entry ${clash[0]} on ${news.dev}`);
    }
    const lines: string[][] = [];
    const names: string[] = [];
    const dev = (e: FdbSetEntry): Fdb => ({ ...e, dev: news.dev });
    for (const [k, o] of d.remove) { lines.push(delWords({ ...o, dev: olds.dev })); names.push(`entries[${JSON.stringify(k)}]`); }
    // permanent/static is the only in-place change; FDB entries have no replace for one remote.
    for (const [k, , n] of d.change) {
        if (liveKeys.has(k)) { lines.push(delWords(dev(n))); names.push(`entries[${JSON.stringify(k)}]`); }
        lines.push(appendWords(dev(n))); names.push(`entries[${JSON.stringify(k)}]`);
    }
    for (const [k, n] of d.add) {
        if (liveKeys.has(k)) { lines.push(delWords(dev(n))); names.push(`entries[${JSON.stringify(k)}]`); }
        lines.push(appendWords(dev(n))); names.push(`entries[${JSON.stringify(k)}]`);
    }
    try {
        await runBatch(t, "bridge", lines, names);
    } catch (e) {
        if (rollback && e instanceof BatchFailed && e.applied) {
            const undo = lines.slice(0, e.applied).filter((l) => l[1] === "append").map((l) => ["fdb", "del", ...l.slice(2, -2), "self"]);
            await runBatch(t, "bridge", undo, [], true).catch(() => undefined);
        }
        throw e;
    }
}
