/**
 * The one text codec of a route: the words `ip route` takes, in one order,
 * for the kernel's argv and batch lines and for the state a RouteSet keeps.
 *
 * In the state the key is the destination (plus ` metric N` off the family
 * default) and the value is the rest of the route, defaults left out:
 *
 *     "10.128.0.0/24": "via 192.168.2.10 dev eth0"
 *     "10.9.0.0/16 metric 20": "blackhole proto 4"
 *
 * One string per route rather than an object of six fields: every value the
 * SDK moves between program, engine and provider becomes a protobuf `Value`,
 * and at 10,000 routes the object form cost the dynamic-provider process
 * about three times the memory and five times the CPU of this one (bench/).
 * It also reads as iproute2 in `pulumi preview --diff`.
 *
 * Pure functions, no transport: the resource classes use them in the program.
 */
import { OWN_PROTO } from "./iproute";
import { Problem, problem } from "../../common/problems";
import { isObject, networkOf, readIp } from "../../common/net";
import type { RouteState } from "./route";

/** The fields of a route as given (before defaults); the table is the resource's. */
export interface RouteFields {
    dst: string;
    metric?: number;
    type?: string;
    gateway?: string;
    dev?: string;
    proto?: number;
    scope?: string;
    src?: string;
    onlink?: boolean;
}

const VALUED = ["via", "dev", "proto", "scope", "src"] as const;
const FIELD: Record<(typeof VALUED)[number], keyof RouteFields> = { via: "gateway", dev: "dev", proto: "proto", scope: "scope", src: "src" };
const TYPE_WORDS = ["unicast", "blackhole", "unreachable"];

/** The family default metric the kernel gives a route that states none. */
export const defaultMetric = (dst: string) => (dst.includes(":") ? 1024 : 0);

/**
 * The one key of a route within its table: its destination, plus the metric
 * when it is not the family default. RouteSet's map, the resource class's
 * wire map, Route's ID (with the table) and the host's claims all use it.
 */
export function routeEntryKey(r: { dst: string; metric?: number }): string {
    return r.metric === undefined || r.metric === defaultMetric(r.dst) ? r.dst : `${r.dst} metric ${r.metric}`;
}

/**
 * The words of a route in their one order. With `at` (the kernel's argv) the
 * destination, table, metric and protocol are all stated; without it (the
 * state's text) the key and the defaults are left out.
 */
function words(r: Omit<RouteFields, "dst" | "metric">, at?: { dst: string; table: number; metric: number }): string[] {
    const w: string[] = [];
    // iproute2 reads the type before the prefix.
    if (r.type !== undefined && r.type !== "unicast") w.push(r.type);
    if (at) w.push(at.dst);
    if (r.gateway !== undefined) w.push("via", r.gateway);
    if (r.dev !== undefined) w.push("dev", r.dev);
    if (at) w.push("table", String(at.table), "metric", String(at.metric), "proto", String(r.proto ?? OWN_PROTO));
    else if (r.proto !== undefined && r.proto !== OWN_PROTO) w.push("proto", String(r.proto));
    if (r.scope !== undefined) w.push("scope", r.scope);
    if (r.src !== undefined) w.push("src", r.src);
    if (r.onlink) w.push("onlink");
    return w;
}

/** The state's text of a route: its words after the key, defaults (unicast, proto 214) left out. */
export const routeEntryText = (r: Omit<RouteFields, "dst" | "metric">): string => words(r).join(" ");

/** The words after `ip route add|replace` (also an `ip -batch` line after "route VERB"). */
export const routeWords = (r: RouteState): string[] => words(r, r);

/** The words after `ip route del`: with proto, the kernel refuses (ESRCH) to delete another owner's route at the same key. */
export const routeDelWords = (r: Pick<RouteState, "type" | "dst" | "table" | "metric" | "proto">): string[] =>
    words({ type: r.type, proto: r.proto }, r);

const WORD = /^\S+$/;

/**
 * The text of a route as the user wrote it, or undefined when a field could
 * not survive the round trip (a non-string, a value with white space, an
 * unknown property): such a route travels as the object, so check names the
 * field and the value exactly as the user gave them.
 */
export function compactRoute(spec: Record<string, unknown>): { key: string; text: string } | undefined {
    const strings = ["dst", "gateway", "dev", "scope", "src", "type"];
    for (const [k, v] of Object.entries(spec)) {
        if (v === undefined) continue;
        if (strings.includes(k)) { if (typeof v !== "string" || !WORD.test(v)) return undefined; }
        else if (k === "metric" || k === "proto") { if (!Number.isSafeInteger(v)) return undefined; }
        else if (k === "onlink") { if (typeof v !== "boolean") return undefined; }
        else return undefined;
    }
    if (typeof spec.dst !== "string") return undefined;
    return { key: routeEntryKey({ dst: spec.dst as string, metric: spec.metric as number | undefined }), text: routeEntryText(spec as unknown as RouteFields) };
}

/**
 * The route a key and text stand for, as raw fields for validation; what
 * cannot be parsed goes to `errs`, naming the entry and the text.
 */
export function parseRouteEntry(label: string, key: string, text: string, errs: Problem[]): Record<string, unknown> | undefined {
    const before = errs.length;
    const km = /^(\S+)(?: metric (\S+))?$/.exec(key);
    if (!km) { errs.push(problem(label, 'the key is not "DST" or "DST metric N"', key)); return undefined; }
    const raw: Record<string, unknown> = { dst: km[1] };
    if (km[2] !== undefined) raw.metric = /^-?\d+$/.test(km[2]) ? Number(km[2]) : km[2];
    const ws = text.split(" ").filter((w) => w !== "");
    for (let i = 0; i < ws.length; i++) {
        const w = ws[i];
        const valued = (VALUED as readonly string[]).includes(w) ? FIELD[w as (typeof VALUED)[number]] : undefined;
        const field = valued ?? (TYPE_WORDS.includes(w) ? "type" : w === "onlink" ? "onlink" : undefined);
        if (!field) { errs.push(problem(label, `unknown word ${JSON.stringify(w)}`, text)); continue; }
        if (field in raw) { errs.push(problem(label, `${JSON.stringify(w)} given twice`, text)); continue; }
        if (valued) {
            const v = ws[++i];
            if (v === undefined) { errs.push(problem(label, `${JSON.stringify(w)} needs a value`, text)); continue; }
            raw[field] = field === "proto" && /^-?\d+$/.test(v) ? Number(v) : v;
        } else raw[field] = field === "type" ? w : true;
    }
    return errs.length > before ? undefined : raw;
}

/** The route of a canonical entry of `table` (as normalizeRouteSet wrote it: trusted, no validation). */
export function decodeRoute(table: number, key: string, text: string): RouteState {
    const raw = parseRouteEntry("", key, text, []) ?? { dst: key };
    const dst = String(raw.dst);
    return {
        ...(raw as Partial<RouteState>),
        dst,
        table,
        metric: raw.metric === undefined ? defaultMetric(dst) : Number(raw.metric),
        type: (raw.type as RouteState["type"]) ?? "unicast",
        proto: raw.proto === undefined ? OWN_PROTO : Number(raw.proto),
    };
}

// ---- Groups ------------------------------------------------------------------
//
// The engine copies a map whole for each key it sets when it emits the events
// of a step (filterResourceProperties in pkg/engine/events.go, CLI 3.277:
// https://github.com/pulumi/pulumi/blob/v3.277.0/pkg/engine/events.go), several
// times per resource and per run: quadratic in the size of one map. A flat map
// of 10,000 routes cost the engine about 26 s of a no-op `up` (bench/). So the
// engine holds a set's routes (in its inputs and outputs) in groups of at most
// a few hundred, and the provider works on the flat map.

/** The group of an entry whose key is no destination (a route check will refuse). */
export const UNGROUPED = "invalid";

/**
 * The group of a route key: the network of its destination cut to the
 * multiple of 8 bits below its prefix length ("10.129.5.0/24" is in
 * "10.129.0.0/16", "10.1.2.3/32" in "10.1.2.0/24", "10.0.0.0/16" in
 * "10.0.0.0/8", a /8 in the default route's "0.0.0.0/0"). A group holds
 * destinations of at most 8 more bits, so at most 510 per metric, whatever
 * the set; and it depends on the route alone, so a route keeps its path in
 * `preview --diff` when others come and go.
 */
export function routeGroup(key: string): string {
    const dst = key.split(" ")[0];
    const slash = dst.indexOf("/");
    const ip = readIp(slash < 0 ? dst : dst.slice(0, slash));
    if (!ip) return UNGROUPED;
    const max = ip.family === 4 ? 32 : 128;
    const len = slash < 0 ? max : Number(dst.slice(slash + 1));
    if (!Number.isInteger(len) || len < 0 || len > max) return UNGROUPED;
    return networkOf(ip, len === 0 ? 0 : 8 * Math.floor((len - 1) / 8)).text;
}

/** The map of routes keyed by entry key as the engine holds it: by routeGroup, then by key. */
export function groupRoutes<V>(flat: Record<string, V>): Record<string, Record<string, V>> {
    const out: Record<string, Record<string, V>> = {};
    for (const [k, v] of Object.entries(flat)) (out[routeGroup(k)] ??= {})[k] = v;
    return out;
}

/**
 * The routes of a grouped map, keyed by entry key; any other value (the flat
 * map of a state written before groups, a list, an unknown) as it was. The
 * values of a flat map are texts, or route objects, which all have a dst.
 */
export function ungroupRoutes(v: unknown): unknown {
    if (!isObject(v)) return v;
    const groups = Object.values(v);
    if (!groups.length || !groups.every((g) => isObject(g) && !("dst" in g))) return v;
    const out: Record<string, unknown> = {};
    for (const g of groups) Object.assign(out, g);
    return out;
}
