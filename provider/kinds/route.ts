/**
 * IP routes, modelled on `ip -j -d route show`. The kernel identifies a route
 * by (table, dst, metric) (tos is not used here); everything else changes in
 * place with `ip route replace`.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { BatchFailed, OWN_PROTO, parseJsonArray, parseJsonStream, runBatch } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { decodeRoute, groupRoutes, parseRouteEntry, routeDelWords, routeEntryKey, routeEntryText, routeWords, ungroupRoutes } from "./route-text";
import { changeClaims, checkOwner, claim, moveClaims, takeBack, unclaim } from "./claims";
import { addRules, claimKey as ruleClaimKey, deleteArgv as ruleDeleteArgv, heirsClaims, normalizeRule, parseRule, parseRuleEntry, planRuleAdds, readOwnRules, removeRules, ruleEntryKey, ruleEntryName, ruleEntryText, RuleState, sameSelector } from "./rule";
import { delta, entriesOf } from "./sets";

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

/** A route in canonical form: what `ip -j` reads are parsed into, and a Route's state. */
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
    /** A Route's name in the host's claims (provider/kinds/claims.ts); not the kernel's. */
    owner?: string;
}

export const ROUTE_PROPS = ["dst", "gateway", "dev", "table", "metric", "scope", "proto", "src", "onlink", "type"] as const;
const ROUTE_STATE_PROPS = [...ROUTE_PROPS, "owner"] as const;
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


const familyOfKey = (key: string): net.Family => (key.includes(":") ? 6 : 4);
const families = (keys: string[]): net.Family[] => {
    const f = new Set<net.Family>(keys.map(familyOfKey));
    return f.size ? [...f].sort() : [4];
};

/** The live routes of `table` at `keys`, whoever owns them: one exact listing for one key, the table for more. */
async function readAt(t: Transport, table: number, keys: string[]): Promise<Map<string, RouteState>> {
    let live: RouteState[];
    if (keys.length === 1) {
        // `exact` alone does not switch ip to IPv6: the family flag must be given.
        const dst = keys[0].split(" ")[0];
        const argv = ["ip", "-N", "-d", "-j", familyOfKey(dst) === 6 ? "-6" : "-4", "route", "show", "table", String(table), "exact", dst];
        live = parseJsonArray(await show(t, argv)).map((e) => parseRoute(e, table));
    } else live = await readTable(t, table, families(keys));
    const want = new Set(keys);
    return new Map(live.map((r) => [routeEntryKey(r), r] as const).filter(([k]) => want.has(k)));
}

/**
 * Routes of one table keyed by routeEntryKey: a Route is one of them, a
 * RouteSet many, and both go through the reads and writes below, with the
 * same ownership rules.
 */
type Routes = Record<string, RouteState>;

/**
 * What of `wants` is on the host as ours. Only a route that carries our
 * protocol is: another owner's route at our destination reads as ours gone
 * (refresh shows it), and the next up stops at it, naming it, instead of
 * overwriting it as drift.
 */
async function readOwn(t: Transport, table: number, wants: Routes): Promise<Routes> {
    const live = await readAt(t, table, Object.keys(wants));
    const out: Routes = {};
    for (const [k, want] of Object.entries(wants)) {
        const l = live.get(k);
        if (l && l.proto === want.proto) out[k] = project(l, want);
    }
    return out;
}

const claimKey = (table: number, key: string) => `route ${table} ${key}`;
const sameRoute = (a: RouteState, b: RouteState) => routeWords(a).join(" ") === routeWords(b).join(" ");
const described = (r: RouteState) => `a route to ${r.dst} in table ${r.table} metric ${r.metric}`;

/**
 * Brings the routes of `table` from `olds` to `news` in one batch. Routes
 * added find the kernel's answer first (`ip route add`, refused with EEXIST
 * for any route at that key): the table is read only on a clash. A route in
 * the way that carries another protocol is another tool's and stops the
 * change; one with ours is taken back only when this resource's claim held
 * it (an interrupted run), otherwise it is another stack's (ClaimedElsewhere).
 * `adopt` takes either. A create leaves nothing behind when it fails:
 * Pulumi will not record the resource.
 */
async function applyRoutes(t: Transport, table: number, olds: Routes, news: Routes, o: { adopt: boolean; owner?: string; creating: boolean }): Promise<void> {
    const d = delta(olds, news, sameRoute, () => true);
    const name = (k: string) => `routes[${JSON.stringify(k)}]`;
    const line = (verb: string, r: RouteState) => ["route", verb, ...(verb === "del" ? routeDelWords(r) : routeWords(r))];
    // Written before the kernel changes, so a run that dies after them leaves a claim its next run recognises.
    const prior = o.owner && d.add.length ? await claim(t, o.owner, d.add.map(([k]) => claimKey(table, k))) : new Map<string, string[]>();
    let done = 0;
    const undo = async (n: number) => {
        if (!o.creating) return;
        if (n) await runBatch(t, "ip", d.add.slice(0, n).map(([, r]) => line("del", r)), [], true).catch(() => undefined);
        if (o.owner) await unclaim(t, o.owner, d.add.map(([k]) => claimKey(table, k))).catch(() => undefined);
    };
    if (o.creating && d.add.length) {
        try {
            return await runBatch(t, "ip", d.add.map(([, r]) => line("add", r)), d.add.map(([k]) => name(k)));
        } catch (e) {
            done = e instanceof BatchFailed ? e.applied : 0;
            if (!(e instanceof BatchFailed && e.exists)) { await undo(done); throw e; }
        }
    }
    const pending = d.add.slice(done);
    if (pending.length) {
        const live = await readAt(t, table, pending.map(([k]) => k));
        try { takeBack(t.name, o.owner, routesInTheWay(t.name, table, pending, live, o.adopt), prior, o.adopt); } catch (e) { await undo(done); throw e; }
    }
    const lines: string[][] = [];
    const names: string[] = [];
    for (const [k, r] of d.remove) { lines.push(line("del", r)); names.push(name(k)); }
    for (const [k, , r] of d.change) { lines.push(line("replace", r)); names.push(name(k)); }
    for (const [k, r] of pending) { lines.push(line("replace", r)); names.push(name(k)); }
    try {
        await runBatch(t, "ip", lines, names);
    } catch (e) {
        // In a create the lines are the pending adds alone, in order.
        await undo(done + (e instanceof BatchFailed ? e.applied : 0));
        throw e;
    }
    if (o.owner) await unclaim(t, o.owner, d.remove.map(([k]) => claimKey(table, k)));
}

/**
 * Of the routes to add, those of ours already at their keys (for takeBack);
 * another owner's route at one stops the change, naming it, unless adopt.
 */
function routesInTheWay(host: string, table: number, adds: readonly [string, RouteState][], live: Map<string, RouteState>, adopt: boolean): { key: string; what: string }[] {
    const ours: { key: string; what: string }[] = [];
    for (const [k] of adds) {
        const l = live.get(k);
        if (!l) continue;
        if (l.proto !== OWN_PROTO && !adopt) throw alreadyExists(host, described(l), `proto ${l.proto}`);
        if (l.proto === OWN_PROTO) ours.push({ key: claimKey(table, k), what: described(l) });
    }
    return ours;
}

/** Deletes the routes (with our protocol: never another owner's at the same key), then their claims. */
async function removeRoutes(t: Transport, table: number, routes: Routes, owner?: string): Promise<void> {
    await runBatch(t, "ip", Object.values(routes).map((r) => ["route", "del", ...routeDelWords(r)]), Object.keys(routes), true);
    if (owner) await unclaim(t, owner, Object.keys(routes).map((k) => claimKey(table, k)));
}

/** Create, update and delete of a kind that holds the routes `routes(v)` of `v.table`: Route (one) and RouteSet (many). */
function routesLifecycle<T extends { table: number; owner?: string }>(routes: (v: T) => Routes): Pick<Kind<T>, "create" | "update" | "remove"> {
    return {
        async create(t, v, adopt) {
            await applyRoutes(t, v.table, {}, routes(v), { adopt, owner: v.owner, creating: true });
        },
        async update(t, olds, news, adopt) {
            await applyRoutes(t, news.table, routes(olds), routes(news), { adopt, owner: news.owner, creating: false });
            const keys = (v: T) => Object.keys(routes(v)).map((k) => claimKey(v.table, k));
            await moveClaims(t, { owner: olds.owner, keys: keys(olds) }, { owner: news.owner, keys: keys(news) });
        },
        async remove(t, v) {
            await removeRoutes(t, v.table, routes(v), v.owner);
        },
    };
}

// ---- Route -------------------------------------------------------------------

const one = (r: RouteState): Routes => {
    const { owner: _o, ...route } = r;
    return { [routeEntryKey(r)]: route };
};

export const routeKind: Kind<RouteState> = {
    properties: ROUTE_STATE_PROPS,
    normalize(raw, errs) {
        const { owner, ...route } = raw;
        const o = checkOwner(owner, errs);
        const r = normalizeRoute(route, errs);
        return r && (o !== undefined ? { ...r, owner: o } : r);
    },
    identity: ["dst", "table", "metric"],
    key: routeKey,
    async read(t, r) {
        const live = Object.values(await readOwn(t, r.table, one(r)))[0];
        return live && (r.owner !== undefined ? { ...live, owner: r.owner } : live);
    },
    // The key is the identity: an update is a replace in place of the one route.
    ...routesLifecycle<RouteState>(one),
};

// ---- RouteSet ----------------------------------------------------------------

/** Routes keyed by routeEntryKey, each the text of provider/kinds/route-text.ts ("via 192.168.2.10 dev eth0"). */
export interface RouteSetState {
    table: number;
    routes: Record<string, string>;
    /**
     * The policy rules that send traffic to the table, keyed by ruleEntryKey
     * ("priority 100 from 10.1.0.0/16"), each "lookup <table>". Absent in a
     * set without rules (and in states of versions before rules).
     */
    rules?: Record<string, string>;
    /** Owners of Rule resources whose rules this set takes over (RouteSetArgs.takeOverRules), sorted. */
    takeOverFrom?: string[];
    /** The set's name in the host's claims (provider/kinds/claims.ts). */
    owner?: string;
}

/** "#N" is the resource class's key for a list item that is not an object: it reaches check as it was. */
const NOT_AN_OBJECT_KEY = /^#\d+$/;

export function normalizeRouteSet(raw: Record<string, any>, errs: Problem[]): RouteSetState | undefined {
    const before = errs.length;
    net.noUnknown(raw, ["table", "routes", "rules", "takeOverFrom", "owner"], errs);
    const table = raw.table === undefined ? 254 : net.table("table", raw.table, errs) ?? 0;
    const owner = checkOwner(raw.owner, errs);
    const routes: Record<string, string> = {};
    // Problems name a route by its key alone: the groups are the wire's, not the user's.
    for (const [label, given, key] of entriesOf({ routes: ungroupRoutes(raw.routes) }, "routes", "routes", errs)) {
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
    const out: RouteSetState = { table, routes };
    if (raw.rules !== undefined) out.rules = normalizeSetRules(raw, table, errs);
    if (raw.takeOverFrom !== undefined) {
        const owners = Array.isArray(raw.takeOverFrom) ? raw.takeOverFrom.map((o: unknown) => checkOwner(o, errs)) : [];
        if (!Array.isArray(raw.takeOverFrom)) errs.push(problem("takeOverFrom", "must be a list of owners", raw.takeOverFrom));
        if (owners.length) out.takeOverFrom = [...new Set(owners as string[])].sort();
    }
    if (owner !== undefined) out.owner = owner;
    return errs.length > before ? undefined : out;
}

/** The rules of a set: a list of rule specs without table (the set's), or the map of a state. */
function normalizeSetRules(raw: Record<string, any>, table: number, errs: Problem[]): Record<string, string> {
    const rules: Record<string, string> = {};
    for (const [label, given, key] of entriesOf(raw, "rules", "rules", errs)) {
        let spec = given;
        if (typeof given === "string" && key !== undefined) {
            spec = parseRuleEntry(key, table);
            if (!spec || given !== `lookup ${table}`) { errs.push(problem(`rules${label}`, `not a rule of table ${table}`, given)); continue; }
        } else if (spec === null || typeof spec !== "object") { errs.push(problem(`rules${label}`, "not a rule", spec)); continue; }
        else {
            if (spec.table !== undefined) { errs.push(problem(`rules${label}.table`, "a set's rules look up its table: set table on the RouteSet", spec.table)); continue; }
            if (spec.owner !== undefined) { errs.push(problem(`rules${label}.owner`, "unknown property", spec.owner)); continue; }
            spec = { ...spec, table };
        }
        const r = normalizeRule(spec, errs, `rules${label}.`);
        if (!r) continue;
        const k = ruleEntryKey(r);
        if (rules[k] !== undefined) errs.push(problem(`rules${label}`, "appears twice", k));
        rules[k] = ruleEntryText(r);
    }
    return rules;
}

const decodedAt = (table: number, routes: Record<string, string>): Routes => Object.fromEntries(Object.entries(routes).map(([k, text]) => [k, decodeRoute(table, k, text)]));
const decoded = (s: RouteSetState): Routes => decodedAt(s.table, s.routes);

/**
 * The routes an update adds, removes and changes, decoding only the entries whose text differs (the
 * text is canonical, so equal text is the same route): a gateway move changes one route of a set of a
 * few thousand, and decoding all of them twice kept the provider process busy while the engine waited
 * on it for the checks of the other nodes.
 */
function routesDelta(olds: RouteSetState, news: RouteSetState) {
    const differ = (a: Record<string, string>, b: Record<string, string>) => Object.fromEntries(Object.entries(a).filter(([k, text]) => b[k] !== text));
    return delta(decodedAt(olds.table, differ(olds.routes, news.routes)), decodedAt(news.table, differ(news.routes, olds.routes)), sameRoute, () => true);
}
const decodedRules = (s: RouteSetState): RuleState[] => Object.keys(s.rules ?? {}).map((k) => normalizeRule(parseRuleEntry(k, s.table)!, [])!);
const rulesAt = (s: RouteSetState, keys: Set<string>) => decodedRules(s).filter((r) => keys.has(ruleEntryKey(r)));
const setRoutes = routesLifecycle<RouteSetState>(decoded);

// What a set's update needs to see, listed in the round trip of its claims: the routes at the destinations
// it changes, then the rules in the families $3 (each "", "4", "6" or "4 6"). Up to LIST_EACH destinations
// (given after $3) are listed one by one (`ip route show exact`, every metric and type at that prefix): a
// gateway move changes one route of a table of a few thousand pod routes, and the whole table was listed,
// sent and parsed for it. More are listed with the table, in the families $2.
const LIST_EACH = 16;
const LIST_FOR_UPDATE = 'tb=$1 rf=$2 uf=$3; shift 3; if [ $# -gt 0 ]; then for d in "$@"; do case $d in *:*) x=6;; *) x=4;; esac; echo "routes $x"; ip -N -d -j -$x route show table "$tb" exact "$d"; done; ' +
    'else for x in $rf; do echo "routes $x"; ip -N -d -j -$x route show table "$tb"; done; fi; for x in $uf; do echo "rules $x"; ip -N -j -$x rule show; done';

/** The table's routes and the rules a listing of LIST_FOR_UPDATE holds; a complaint of ip but an empty table's is an error. */
function parseListing(t: Transport, res: { stdout: string; stderr: string }, table: number): { routes: Map<string, RouteState>; rules: RuleState[] } {
    const bad = res.stderr.split("\n").filter((l) => l.trim() && !/FIB table does not exist|Dump terminated/.test(l));
    if (bad.length) throw new Error(`${t.name}: listing table ${table} and the rules: ${bad.join("; ")}`);
    const routes = new Map<string, RouteState>();
    const rules: RuleState[] = [];
    let at: RegExpExecArray | null = null;
    for (const line of res.stdout.split("\n")) {
        const head = /^(routes|rules) ([46])$/.exec(line);
        if (head) { at = head; continue; }
        if (!at || !line.trim()) continue;
        for (const e of parseJsonArray(line)) {
            if (at[1] === "routes") { const r = parseRoute(e, table); routes.set(routeEntryKey(r), r); } else rules.push(parseRule(e, Number(at[2]) as net.Family));
        }
    }
    return { routes, rules };
}

const familiesOf = (xs: { family: net.Family }[]) => [...new Set(xs.map((x) => x.family))].sort();

/**
 * An update of a set whose owner stays, in two round trips: one writes the
 * claims (the keys added claimed, those removed released) and lists what the
 * change must see; one batch then deletes the rules that go, changes the
 * routes and adds the new rules, in that order, so no rule sends traffic to
 * a table being changed under it. `ip rule` takes the family from the command
 * line only, so IPv6 rules go in batches of their own, before and after.
 * What is in the way stops it before the kernel changes, and its claims are
 * put back.
 */
async function updateSet(t: Transport, olds: RouteSetState, news: RouteSetState, owner: string, adopt: boolean): Promise<void> {
    const table = news.table;
    const oldRules = new Map(decodedRules(olds).map((r) => [ruleEntryKey(r), r]));
    const newRules = new Map(decodedRules(news).map((r) => [ruleEntryKey(r), r]));
    const gone = [...oldRules].filter(([k]) => !newRules.has(k)).map(([, r]) => r);
    const added = [...newRules].filter(([k]) => !oldRules.has(k)).map(([, r]) => r);
    const d = routesDelta(olds, news);
    const addKeys = [...d.add.map(([k]) => claimKey(table, k)), ...added.map(ruleClaimKey)];
    const removeKeys = [...d.remove.map(([k]) => claimKey(table, k)), ...gone.map(ruleClaimKey)];
    const routeFams = familiesOf([...d.add, ...d.remove].map(([k]) => ({ family: familyOfKey(k) })));
    const dsts = [...new Set([...d.add, ...d.remove].map(([k]) => k.split(" ")[0]))];
    const list = ["sh", "-c", LIST_FOR_UPDATE, "routed-overlay", String(table), routeFams.join(" "), familiesOf([...gone, ...added]).join(" "), ...(dsts.length <= LIST_EACH ? dsts : [])];
    // Next hops changed in place (`ip route replace`) need neither claims nor a listing: one round trip.
    const c = addKeys.length || removeKeys.length ? await changeClaims(t, owner, addKeys, removeKeys, { argv: list, when: "then" })
        : { prior: new Map<string, string[]>(), held: new Set<string>(), result: { code: 0, stdout: "", stderr: "" } };
    let plan: ReturnType<typeof planRuleAdds>;
    let live: ReturnType<typeof parseListing>;
    try {
        live = parseListing(t, c.result!, table);
        const ours = routesInTheWay(t.name, table, d.add, live.routes, adopt);
        plan = planRuleAdds(t.name, added, live.rules, adopt);
        takeBack(t.name, owner, [...ours, ...plan.ours], heirsClaims(c.prior, owner, news.takeOverFrom), adopt);
    } catch (e) {
        const mine = addKeys.filter((k) => !c.prior.get(k)?.includes(owner));
        await changeClaims(t, owner, removeKeys, mine).catch(() => undefined);
        throw e;
    }
    // One batch for the routes of both families and the IPv4 rules (ip rule defaults to IPv4).
    const main: string[][] = [], mainNames: string[] = [];
    const v6 = { del: [] as string[][], delNames: [] as string[], add: [] as string[][], addNames: [] as string[] };
    const ruleLine = (r: RuleState, line: string[], when: "del" | "add") => {
        if (r.family === 4) { main.push(line); mainNames.push(ruleEntryName(r)); }
        else if (when === "del") { v6.del.push(line); v6.delNames.push(ruleEntryName(r)); }
        else { v6.add.push(line); v6.addNames.push(ruleEntryName(r)); }
    };
    // Deletes only what is there as ours, and not held by another claim: the batch stops at a failing line.
    for (const r of gone) {
        if (c.held.has(ruleClaimKey(r)) || !live.rules.some((l) => sameSelector(l, r) && l.proto === OWN_PROTO)) continue;
        ruleLine(r, ["rule", ...ruleDeleteArgv(r).slice(3)], "del");
    }
    const name = (k: string) => `routes[${JSON.stringify(k)}]`;
    for (const [k, r] of d.remove) if (live.routes.get(k)?.proto === r.proto) { main.push(["route", "del", ...routeDelWords(r)]); mainNames.push(name(k)); }
    for (const [k, , r] of d.change) { main.push(["route", "replace", ...routeWords(r)]); mainNames.push(name(k)); }
    for (const [k, r] of d.add) { main.push(["route", "replace", ...routeWords(r)]); mainNames.push(name(k)); }
    for (const l of plan.lines) ruleLine(l.rule, l.line, l.line[1] === "del" ? "del" : "add");
    await runBatch(t, "ip", v6.del, v6.delNames, false, 6);
    await runBatch(t, "ip", main, mainNames);
    await runBatch(t, "ip", v6.add, v6.addNames, false, 6);
}

export const routeSetKind: Kind<RouteSetState> = {
    properties: ["table", "routes", "rules", "takeOverFrom", "owner"],
    normalize: normalizeRouteSet,
    // Grouped routes read flat; a state of one flat map (0.2), or of an object per route (before texts), reads as
    // today's, so an upgrade shows no change.
    stored(raw) {
        const flat = { ...raw, routes: ungroupRoutes(raw.routes) };
        return Object.values((flat.routes ?? {}) as object).every((v) => typeof v === "string") ? flat as unknown as RouteSetState : normalizeRouteSet(flat, []);
    },
    wire: (s) => ({ ...s, routes: groupRoutes(s.routes) }),
    identity: ["table"],
    key: (s) => `routes/table${s.table}`,
    async read(t, s) {
        const live = await readOwn(t, s.table, decoded(s));
        const routes = Object.fromEntries(Object.entries(live).map(([k, r]) => [k, routeEntryText(r)]));
        const out: RouteSetState = { ...s, routes };
        if (s.rules) out.rules = Object.fromEntries((await readOwnRules(t, decodedRules(s))).map((r) => [ruleEntryKey(r), ruleEntryText(r)]));
        return out;
    },
    // The rules go in after the routes of their table and out before them: no rule sends traffic to a table
    // that is not complete yet.
    async create(t, s, adopt) {
        await setRoutes.create(t, s, adopt);
        try {
            await addRules(t, decodedRules(s), { adopt, owner: s.owner, heirOf: s.takeOverFrom, creating: true });
        } catch (e) {
            await setRoutes.remove(t, s).catch(() => undefined);
            throw e;
        }
    },
    async update(t, olds, news, adopt) {
        if (news.owner !== undefined && olds.owner === news.owner) return updateSet(t, olds, news, news.owner, adopt);
        // A state without an owner (before claims), or of another name: the claims move, one step at a time.
        const o = new Set(Object.keys(olds.rules ?? {}));
        const n = new Set(Object.keys(news.rules ?? {}));
        await removeRules(t, rulesAt(olds, new Set([...o].filter((k) => !n.has(k)))), olds.owner);
        await setRoutes.update(t, olds, news, adopt);
        await addRules(t, rulesAt(news, new Set([...n].filter((k) => !o.has(k)))), { adopt, owner: news.owner, heirOf: news.takeOverFrom, creating: false });
        const kept = rulesAt(news, new Set([...n].filter((k) => o.has(k))));
        await moveClaims(t, { owner: olds.owner, keys: kept.map(ruleClaimKey) }, { owner: news.owner, keys: kept.map(ruleClaimKey) });
    },
    async remove(t, s) {
        await removeRules(t, decodedRules(s), s.owner);
        await setRoutes.remove(t, s);
    },
};
