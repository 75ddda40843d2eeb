/**
 * Bulk kinds: many routes of one table, or many FDB entries of one device,
 * on one host, as one resource. A change is one `ip -batch -` / `bridge -batch -`
 * round trip after one read (a route set's create skips the read unless the
 * kernel refuses a route as existing); refresh is one read. Entries are a map keyed by
 * destination so that `pulumi preview --diff` names each entry that changes.
 */
import type { Transport } from "../transport";
import { alreadyExists, canonicalJson, Kind } from "./kind";
import { BatchFailed, OWN_PROTO, runBatch } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { normalizeRoute, project, readTable, RouteState, routeDelWords, routeWords } from "./route";
import { parseRouteEntry, routeEntryKey, routeEntryText } from "./route-text";
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
function entriesOf(raw: Record<string, any>, field: string, what: string, errs: Problem[]): [string, any, string?][] {
    const v = raw[field];
    if (Array.isArray(v)) return v.map((r, i) => [`[${i}]`, r]);
    if (v && typeof v === "object") return Object.entries(v).map(([k, r]) => [`[${JSON.stringify(k)}]`, r, k]);
    errs.push(problem(field, `must be a list of ${what}`, v));
    return [];
}

const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

// ---- RouteSet ----------------------------------------------------------------

/** Routes keyed by routeEntryKey, each the text of provider/kinds/route-text.ts ("via 192.168.2.10 dev eth0"). */
export interface RouteSetState {
    table: number;
    routes: Record<string, string>;
}

/** "#N" is the resource class's key for a list item that is not an object: it reaches check as it was. */
const NOT_AN_OBJECT_KEY = /^#\d+$/;

export function normalizeRouteSet(raw: Record<string, any>, errs: Problem[]): RouteSetState | undefined {
    const before = errs.length;
    net.noUnknown(raw, ["table", "routes"], errs);
    const table = raw.table === undefined ? 254 : net.table("table", raw.table, errs) ?? 0;
    const routes: Record<string, string> = {};
    for (const [label, given, key] of entriesOf(raw, "routes", "routes", errs)) {
        let spec = given;
        if (typeof given === "string" && key !== undefined && !NOT_AN_OBJECT_KEY.test(key)) {
            spec = parseRouteEntry(`routes${label}`, key, given, errs);
            if (!spec) continue;
        } else if (spec === null || typeof spec !== "object") { errs.push(problem(`routes${label}`, "not a route", spec)); continue; }
        if (spec.table !== undefined) { errs.push(problem(`routes${label}.table`, "set table on the RouteSet, not per route", spec.table)); continue; }
        const r = normalizeRoute(spec, errs, `routes${label}.`, { table });
        if (!r) continue;
        const k = routeEntryKey(r);
        if (routes[k] !== undefined) errs.push(problem(`routes${label}.dst`, `appears twice (metric ${r.metric})`, r.dst));
        routes[k] = routeEntryText(r);
    }
    return errs.length > before ? undefined : { table, routes };
}

/** The route of a canonical entry (as normalizeRouteSet wrote it: no validation here). */
function entryRoute(table: number, key: string, text: string): RouteState {
    const raw = parseRouteEntry("", key, text, []) ?? { dst: key };
    const dst = String(raw.dst);
    return {
        ...(raw as Partial<RouteState>),
        dst,
        table,
        metric: raw.metric === undefined ? (dst.includes(":") ? 1024 : 0) : Number(raw.metric),
        type: (raw.type as RouteState["type"]) ?? "unicast",
        proto: raw.proto === undefined ? OWN_PROTO : Number(raw.proto),
    };
}

const families = (keys: string[]): net.Family[] => {
    const f = new Set<net.Family>(keys.map((k) => (k.includes(":") ? 6 : 4)));
    return f.size ? [...f].sort() : [4];
};

export const routeSetKind: Kind<RouteSetState> = {
    properties: ["table", "routes"],
    normalize: normalizeRouteSet,
    // A state written before routes were texts (an object per route) reads as today's.
    stored: (raw) => (Object.values((raw.routes ?? {}) as object).every((v) => typeof v === "string") ? raw as unknown as RouteSetState : normalizeRouteSet(raw, [])),
    identity: ["table"],
    key: (s) => `routes/table${s.table}`,
    async read(t, s) {
        const live = await readTable(t, s.table, families(Object.keys(s.routes)));
        const byKey = new Map(live.map((r) => [routeEntryKey(r), r]));
        const routes: Record<string, string> = {};
        for (const [k, text] of Object.entries(s.routes)) {
            const want = entryRoute(s.table, k, text);
            const l = byKey.get(k);
            // Another owner's route at our destination is not ours: the entry reads as gone, and the next
            // up stops at it, naming it (unless adopt), instead of replacing it as a drifted entry.
            if (l && l.proto === want.proto) routes[k] = routeEntryText(project(l, want));
        }
        return { table: s.table, routes };
    },
    async create(t, s, adopt) {
        await apply(t, { table: s.table, routes: {} }, s, adopt, true);
    },
    async update(t, olds, news) {
        await apply(t, olds, news, false, false);
    },
    async remove(t, s) {
        const lines = Object.entries(s.routes).map(([k, e]) => ["route", "del", ...routeDelWords(entryRoute(s.table, k, e))]);
        await runBatch(t, "ip", lines, Object.keys(s.routes), true);
    },
};

async function apply(t: Transport, olds: RouteSetState, news: RouteSetState, adopt: boolean, rollback: boolean): Promise<void> {
    // The key is the route's identity (dst and metric): a changed text is a replace in place.
    const d = delta(olds.routes, news.routes, (a, b) => a === b, () => true);
    const name = (k: string) => `routes[${JSON.stringify(k)}]`;
    const addLine = (verb: string) => ([k, n]: [string, string]) => ["route", verb, ...routeWords(entryRoute(news.table, k, n))];
    // create must leave nothing behind when it fails: Pulumi will not record the resource.
    const undo = async (n: number) => {
        if (!rollback || !n) return;
        const lines = d.add.slice(0, n).map(([k, e]) => ["route", "del", ...routeDelWords(entryRoute(news.table, k, e))]);
        await runBatch(t, "ip", lines, [], true).catch(() => undefined);
    };
    let done = 0;
    if (rollback && d.add.length) {
        // A create sends `ip route add`, which the kernel refuses (EEXIST) for a route already at that
        // destination and metric, whoever owns it: one round trip, and the table is read only on a clash.
        try {
            return await runBatch(t, "ip", d.add.map(addLine("add")), d.add.map(([k]) => name(k)));
        } catch (e) {
            done = e instanceof BatchFailed ? e.applied : 0;
            if (!(e instanceof BatchFailed && e.exists)) { await undo(done); throw e; }
        }
    }
    const pending = d.add.slice(done);
    if (pending.length) {
        const live = await readTable(t, news.table, families(pending.map(([k]) => k)));
        const byKey = new Map(live.map((r) => [routeEntryKey(r), r]));
        for (const [k] of pending) {
            const l = byKey.get(k);
            // A route of ours left by an interrupted run is taken back silently; another owner's is not.
            if (l && l.proto !== OWN_PROTO && !adopt) {
                await undo(done);
                throw alreadyExists(t.name, `a route to ${l.dst} in table ${news.table} metric ${l.metric}`, `proto ${l.proto}`);
            }
        }
    }
    const lines: string[][] = [];
    const names: string[] = [];
    for (const [k, o] of d.remove) { lines.push(["route", "del", ...routeDelWords(entryRoute(olds.table, k, o))]); names.push(name(k)); }
    for (const [k, , n] of d.change) { lines.push(addLine("replace")([k, n])); names.push(name(k)); }
    for (const a of pending) { lines.push(addLine("replace")(a)); names.push(name(a[0])); }
    try {
        await runBatch(t, "ip", lines, names);
    } catch (e) {
        // In a create the lines are the pending adds alone, in order.
        await undo(done + (e instanceof BatchFailed ? e.applied : 0));
        throw e;
    }
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
