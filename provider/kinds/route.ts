/**
 * IP routes, modelled on `ip -j -d route show`. The kernel identifies a route
 * by (table, dst, metric) (tos is not used here); everything else changes in
 * place with `ip route replace`.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { isGone, OWN_PROTO, parseJsonArray, parseJsonStream } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { routeEntryKey } from "./route-text";

export type RouteType = "unicast" | "blackhole" | "unreachable";
export type RouteScope = "global" | "link" | "host";

/** A route as users write it. */
export interface RouteSpec {
    /** Destination CIDR ("10.166.0.0/16", "2001:db8::/64"); a bare address is a host route. */
    dst: string;
    /** Next hop. */
    gateway?: string;
    /** Outgoing interface. */
    dev?: string;
    /** Routing table number (or "main"); default main (254). */
    table?: number | string;
    /** Default 0 for IPv4 and 1024 for IPv6, as the kernel does. */
    metric?: number;
    scope?: RouteScope;
    /** Routing protocol number; default routed-overlay's own (214), which marks ownership. */
    proto?: number;
    /** Preferred source address. */
    src?: string;
    /** Treat the gateway as on-link even if no address of `dev` covers it. */
    onlink?: boolean;
    /** Default unicast. */
    type?: RouteType;
}

/** The canonical form stored in state and compared against `ip -j` reads. */
export interface RouteState {
    dst: string;
    table: number;
    metric: number;
    type: RouteType;
    proto: number;
    gateway?: string;
    dev?: string;
    scope?: RouteScope;
    src?: string;
    onlink?: boolean;
}

export const ROUTE_PROPS = ["dst", "gateway", "dev", "table", "metric", "scope", "proto", "src", "onlink", "type"] as const;
const TYPES: RouteType[] = ["unicast", "blackhole", "unreachable"];
const SCOPES: RouteScope[] = ["global", "link", "host"];
const TYPE_NUM: Record<string, RouteType> = { "1": "unicast", "6": "blackhole", "7": "unreachable" };
const SCOPE_NUM: Record<string, RouteScope> = { "0": "global", "253": "link", "254": "host" };

export function normalizeRoute(raw: Record<string, any>, errs: Problem[], arg = "", opts: { table?: number } = {}): RouteState | undefined {
    const before = errs.length;
    net.noUnknown(raw, ROUTE_PROPS, errs, arg);
    const dst = net.cidr(`${arg}dst`, raw.dst, errs);
    const fam = dst?.family;
    const type: RouteType = raw.type ?? "unicast";
    if (!TYPES.includes(type)) errs.push(problem(`${arg}type`, `must be one of ${TYPES.join(", ")}`, raw.type));
    const r: RouteState = {
        dst: dst?.text ?? "",
        table: opts.table ?? (raw.table === undefined ? 254 : net.table(`${arg}table`, raw.table, errs) ?? 0),
        metric: raw.metric === undefined ? (fam === 6 ? 1024 : 0) : net.integer(`${arg}metric`, raw.metric, 0, 0xffffffff, errs) ?? 0,
        type,
        proto: raw.proto === undefined ? OWN_PROTO : net.integer(`${arg}proto`, raw.proto, 3, 255, errs) ?? 0,
    };
    if (raw.gateway !== undefined) {
        r.gateway = net.ipAddress(`${arg}gateway`, raw.gateway, errs);
        if (r.gateway && fam && net.familyOf(r.gateway) !== fam) {
            errs.push(problem(`${arg}gateway`, `not of the IP family of dst ${dst!.text}`, raw.gateway));
        } else if (r.gateway && dst) {
            const why = net.badNextHop(dst, net.readIp(r.gateway)!);
            if (why) errs.push(problem(`${arg}gateway`, why, raw.gateway));
        }
    }
    if (raw.dev !== undefined) r.dev = net.ifname(`${arg}dev`, raw.dev, errs);
    if (raw.scope !== undefined) {
        if (!SCOPES.includes(raw.scope)) errs.push(problem(`${arg}scope`, `must be one of ${SCOPES.join(", ")}`, raw.scope));
        r.scope = raw.scope;
    }
    if (raw.src !== undefined) {
        r.src = net.ipAddress(`${arg}src`, raw.src, errs);
        if (r.src && fam && net.familyOf(r.src) !== fam) errs.push(problem(`${arg}src`, `not of the IP family of dst ${dst!.text}`, raw.src));
    }
    const onlink = net.bool(`${arg}onlink`, raw.onlink, errs);
    if (onlink) r.onlink = true;
    if (type === "unicast" && r.gateway === undefined && r.dev === undefined && raw.gateway === undefined && raw.dev === undefined) {
        errs.push(problem(`${arg}gateway`, `a unicast route${dst ? ` to ${dst.text}` : ""} needs a gateway or a dev`));
    }
    if (type !== "unicast" && TYPES.includes(type) && (raw.gateway !== undefined || raw.dev !== undefined)) {
        errs.push(problem(`${arg}type`, `a ${type} route takes no gateway or dev; remove them`, type));
    }
    if (r.onlink && (r.gateway === undefined || r.dev === undefined)) errs.push(problem(`${arg}onlink`, "needs both gateway and dev"));
    return errs.length > before ? undefined : r;
}

/** The words after `ip route add|replace` (also valid as an `ip -batch` line). */
export function routeWords(r: RouteState): string[] {
    const w: string[] = [];
    if (r.type !== "unicast") w.push(r.type);
    w.push(r.dst);
    if (r.gateway) w.push("via", r.gateway);
    if (r.dev) w.push("dev", r.dev);
    w.push("table", String(r.table), "metric", String(r.metric), "proto", String(r.proto));
    if (r.scope) w.push("scope", r.scope);
    if (r.src) w.push("src", r.src);
    if (r.onlink) w.push("onlink");
    return w;
}

/** Deleting with proto set makes the kernel refuse a route of another owner (ESRCH) instead of removing it. */
export function routeDelWords(r: Pick<RouteState, "type" | "dst" | "table" | "metric" | "proto">): string[] {
    const w: string[] = [];
    if (r.type !== "unicast") w.push(r.type);
    w.push(r.dst, "table", String(r.table), "metric", String(r.metric), "proto", String(r.proto));
    return w;
}

export const replaceArgv = (r: RouteState) => ["ip", "route", "replace", ...routeWords(r)];
export const deleteArgv = (r: RouteState) => ["ip", "route", "del", ...routeDelWords(r)];
/** Every route of a table in one family, numerically (-N), with type and scope (-d). */
export const showTableArgv = (table: number, family: net.Family) =>
    ["ip", "-N", "-d", "-j", ...(family === 6 ? ["-6"] : ["-4"]), "route", "show", "table", String(table)];

/** A route as `ip -N -d -j route show` prints it, in canonical form (all fields). */
export function parseRoute(e: Record<string, any>, table: number): RouteState {
    const dstText = String(e.dst);
    const fam: net.Family = dstText.includes(":") || (e.gateway ?? "").includes(":") ? 6 : 4;
    const dst = dstText === "default" ? (fam === 6 ? "::/0" : "0.0.0.0/0") : dstText.includes("/") ? dstText : `${dstText}/${fam === 6 ? 128 : 32}`;
    const r: RouteState = {
        dst,
        table: e.table !== undefined ? Number(e.table) || 254 : table,
        metric: e.metric ?? 0,
        type: TYPE_NUM[String(e.type ?? "1")] ?? (e.type as RouteType) ?? "unicast",
        proto: Number(e.protocol ?? 0),
    };
    if (e.gateway) r.gateway = e.gateway;
    if (e.dev) r.dev = e.dev;
    if (e.scope !== undefined) r.scope = SCOPE_NUM[String(e.scope)] ?? e.scope;
    if (e.prefsrc) r.src = e.prefsrc;
    if (Array.isArray(e.flags) && e.flags.includes("onlink")) r.onlink = true;
    return r;
}

/** Every route of `table` in the families given, in one round trip. */
export async function readTable(t: Transport, table: number, families: net.Family[]): Promise<RouteState[]> {
    if (families.length === 1) {
        return parseJsonArray(await show(t, showTableArgv(table, families[0]))).map((e) => parseRoute(e, table));
    }
    // ip -batch cannot switch family per line, so one fixed script lists both; the table number
    // reaches it as a positional argument, never spliced into the script text.
    const script = 'ip -N -d -j -4 route show table "$1"; ip -N -d -j -6 route show table "$1"; exit 0';
    const out = await show(t, ["sh", "-c", script, "routed-overlay", String(table)]);
    return (parseJsonStream(out) as Record<string, any>[][]).flat().map((e) => parseRoute(e, table));
}

/**
 * A listing; a table that holds no route yet does not exist for the kernel
 * ("FIB table does not exist"), which for us is simply an empty table.
 */
async function show(t: Transport, argv: string[], input?: string): Promise<string> {
    const res = await t.run(argv, { allowFailure: true, input });
    const bad = res.stderr.split("\n").filter((l) => l.trim() && !/FIB table does not exist|Dump terminated/.test(l));
    if (bad.length || (res.code !== 0 && !res.stderr.trim())) throw new Error(`${t.name}: ${argv.join(" ")}: ${bad.join("; ") || `exit ${res.code}`}`);
    return res.stdout;
}

export const routeKey = (r: Pick<RouteState, "table" | "dst" | "metric">) => `table${r.table}/${routeEntryKey(r)}`;

/**
 * The live route projected on the fields the desired one states: scope and
 * src are compared only when asked for, since the kernel fills them in itself.
 */
export function project(live: RouteState, want: RouteState): RouteState {
    const p: RouteState = { dst: live.dst, table: live.table, metric: live.metric, type: live.type, proto: live.proto };
    if (live.gateway !== undefined) p.gateway = live.gateway;
    if (live.dev !== undefined && (want.dev !== undefined || live.gateway === undefined)) p.dev = live.dev;
    if (want.scope !== undefined && live.scope !== undefined) p.scope = live.scope;
    if (want.src !== undefined && live.src !== undefined) p.src = live.src;
    if (live.onlink) p.onlink = true;
    return p;
}

function familyOfRoute(r: RouteState): net.Family {
    return r.dst.includes(":") ? 6 : 4;
}

async function readOne(t: Transport, r: RouteState): Promise<RouteState | undefined> {
    // `exact` alone does not switch ip to IPv6: the family flag must be given.
    const argv = ["ip", "-N", "-d", "-j", familyOfRoute(r) === 6 ? "-6" : "-4", "route", "show", "table", String(r.table), "exact", r.dst];
    return parseJsonArray(await show(t, argv))
        .map((e) => parseRoute(e, r.table))
        .find((l) => l.metric === r.metric && l.dst === r.dst);
}

export const routeKind: Kind<RouteState> = {
    properties: ROUTE_PROPS,
    normalize: (raw, errs) => normalizeRoute(raw, errs),
    identity: ["dst", "table", "metric"],
    key: routeKey,
    async read(t, r) {
        const live = await readOne(t, r);
        // Another owner's route at our destination is not ours: absent, so the next up stops at it (see create).
        return live && live.proto === r.proto ? project(live, r) : undefined;
    },
    async create(t, r, adopt) {
        const live = await readOne(t, r);
        // A route of ours (protocol 214) left by a create that pulumi died in is taken back, as RouteSet does.
        if (live && !adopt && live.proto !== OWN_PROTO) {
            throw alreadyExists(t.name, `a route to ${r.dst} in table ${r.table} metric ${r.metric}`, `proto ${live.proto}`);
        }
        await t.run(replaceArgv(r));
    },
    async update(t, _olds, news) {
        await t.run(replaceArgv(news));
    },
    async remove(t, r) {
        const res = await t.run(deleteArgv(r), { allowFailure: true });
        if (res.code !== 0 && !isGone(res.stderr)) throw new Error(`${t.name}: ip route del ${r.dst} table ${r.table}: ${res.stderr.trim()}`);
    },
};

export { familyOfRoute };
