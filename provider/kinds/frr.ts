/**
 * Static routes in FRR (staticd), for routers where FRR owns the routing
 * table: a kernel route added beside zebra would be invisible to FRR and lost
 * or overridden by it. Modelled on `show running-config`, which is what FRR
 * itself would write back: a route missing there (after a restart without a
 * saved config) is missing. The route's `tag` is the ownership mark.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { OWN_PROTO } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";

/** The same number as the kernel mark: FRR tags are free-form 32-bit values. */
export const OWN_TAG = OWN_PROTO;

export interface FrrStaticRouteSpec {
    dst: string;
    nexthop: string;
    /** Administrative distance 1..255 (FRR's default 1 when absent). */
    distance?: number;
}

export interface FrrRouteState {
    dst: string;
    nexthop: string;
    tag: number;
    distance?: number;
}

export const FRR_PROPS = ["dst", "nexthop", "distance"] as const;

export function normalizeFrrRoute(raw: Record<string, any>, errs: Problem[]): FrrRouteState | undefined {
    const before = errs.length;
    net.noUnknown(raw, FRR_PROPS, errs);
    const dst = net.cidr("dst", raw.dst, errs);
    const nh = net.ipAddress("nexthop", raw.nexthop, errs);
    if (dst && nh && net.familyOf(nh) !== dst.family) errs.push(problem("nexthop", `not of the IP family of dst ${dst.text}`, raw.nexthop));
    else if (dst && nh) {
        const why = net.badNextHop(dst, net.readIp(nh)!);
        if (why) errs.push(problem("nexthop", why, raw.nexthop));
    }
    const r: FrrRouteState = { dst: dst?.text ?? "", nexthop: nh ?? "", tag: OWN_TAG };
    if (raw.distance !== undefined) r.distance = net.integer("distance", raw.distance, 1, 255, errs);
    return errs.length > before ? undefined : r;
}

/** The configuration line, words all validated, as FRR prints it back. */
export function frrLine(r: FrrRouteState): string {
    const words = [r.dst.includes(":") ? "ipv6" : "ip", "route", r.dst, r.nexthop, "tag", String(r.tag)];
    if (r.distance !== undefined) words.push(String(r.distance));
    return words.join(" ");
}

export const configureArgv = (lines: string[]) => ["vtysh", "-c", "configure terminal", ...lines.flatMap((l) => ["-c", l])];

/** Static routes in `show running-config` text, keyed by "dst nexthop". */
export function parseRunningConfig(text: string): Map<string, FrrRouteState> {
    const out = new Map<string, FrrRouteState>();
    for (const line of text.split("\n")) {
        const m = /^(?:ip|ipv6) route (\S+) (\S+)((?: \S+)*)$/.exec(line.trim());
        if (!m) continue;
        const rest = m[3].trim().split(/\s+/).filter(Boolean);
        const r: FrrRouteState = { dst: m[1], nexthop: m[2], tag: 0 };
        for (let i = 0; i < rest.length; i++) {
            if (rest[i] === "tag") r.tag = Number(rest[++i]);
            else if (/^\d+$/.test(rest[i])) r.distance = Number(rest[i]);
        }
        out.set(`${r.dst} ${r.nexthop}`, r);
    }
    return out;
}

async function running(t: Transport): Promise<Map<string, FrrRouteState>> {
    return parseRunningConfig((await t.run(["vtysh", "-c", "show running-config"])).stdout);
}

const key = (r: FrrRouteState) => `${r.dst} ${r.nexthop}`;

export const frrRouteKind: Kind<FrrRouteState> = {
    properties: FRR_PROPS,
    normalize: normalizeFrrRoute,
    // The next hop changes in place (one vtysh call removes the old line and enters the new one): as a
    // replace, the new route would be entered beside the old one (two next hops, ECMP) until the old
    // one's delete, and a path check run in between would test neither alone.
    identity: ["dst"],
    key: (r) => `frr/${r.dst}/${r.nexthop}`,
    async read(t, r) {
        const live = (await running(t)).get(key(r));
        if (!live) return undefined;
        const p: FrrRouteState = { dst: r.dst, nexthop: r.nexthop, tag: live.tag };
        if (live.distance !== undefined) p.distance = live.distance;
        return p;
    },
    async create(t, r, adopt) {
        const live = (await running(t)).get(key(r));
        // Our tag on it: a create that pulumi died in entered it; taken back.
        if (live && !adopt && live.tag !== OWN_TAG) throw alreadyExists(t.name, `the FRR static route ${r.dst} via ${r.nexthop}`, `tag ${live.tag}`);
        await t.run(configureArgv([frrLine(r)]));
    },
    async update(t, olds, news, adopt) {
        if (key(olds) !== key(news) && !adopt) {
            const live = (await running(t)).get(key(news));
            if (live && live.tag !== OWN_TAG) throw alreadyExists(t.name, `the FRR static route ${news.dst} via ${news.nexthop}`, `tag ${live.tag}`);
        }
        // Re-entering the route with other attributes replaces them; the old line goes first so no twin stays.
        await t.run(configureArgv([`no ${frrLine(olds)}`, frrLine(news)]));
    },
    async remove(t, r) {
        const live = (await running(t)).get(key(r));
        if (!live || live.tag !== r.tag) return; // gone, or re-entered by someone else since
        await t.run(configureArgv([`no ${frrLine(live)}`]));
    },
};
