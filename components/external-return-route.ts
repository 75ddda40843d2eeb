import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput, FrrStaticRoute, RouteSet } from "../provider/resources";
import * as net from "../provider/kinds/net";
import { show } from "../provider/kinds/net";
import { isDnsLabel } from "./render/subnet";
import { assertValid } from "./validate";

export interface ReturnRouteTarget {
    /** Short name of the host, used in child resource names: a DNS-1123 label (lower-case a-z 0-9 -, at most 63), unique among targets. */
    name: string;
    /** How to reach the host over SSH (shaped like @pulumi/command's remote.ConnectionArgs, plus sudo). Kept secret in the state. Required. */
    connection: pulumi.Input<ConnectionInput>;
    /**
     * "linux" (default): kernel routes in the main table with `ip route`
     * (protocol 214 marks them as ours), all destinations in one RouteSet, for
     * a peer on the same L2 as the next hop (seed 000). "frr": one static route
     * per destination in FRR's running config through vtysh (tag 214), for a
     * router whose table FRR owns, where a kernel route beside zebra would be
     * invisible to FRR or overridden by it (seed 002's router). The running
     * config is not saved: after an FRR restart refresh shows the route gone
     * and the next `up` puts it back.
     */
    kind?: "linux" | "frr";
    /**
     * linux only: the interface toward the next hop, as in `ip route add CIDR
     * via NODE dev eth0` (seed 000). Default: absent (the kernel picks the
     * interface that reaches the next hop). Not allowed with "frr".
     */
    dev?: string;
    /**
     * Take over routes another tool already put on the host instead of failing:
     * linux replaces a route of the same destination and metric in main, frr
     * takes over a static route with the same destination and next hop. Stands
     * in for `pulumi import`, which does not work with dynamic providers. Only
     * read at create. Default false.
     */
    adopt?: boolean;
}

export interface ExternalReturnRouteArgs {
    /** The pod CIDRs to route back into the cluster, e.g. ["10.166.0.0/16"]; at least one, canonical, host bits clear. */
    destinations: string[];
    /**
     * The next hop on the targets' side: a node address, or a GatewayVip's
     * `address`. An IP address, of the destinations' family when it is a
     * plain string (an Output is checked by the providers at preview).
     */
    nextHop: pulumi.Input<string>;
    /** The peers and routers that get the routes; at least one. */
    targets: ReturnRouteTarget[];
}

const ARGS_PROPS = ["destinations", "nextHop", "targets"] as const;
const TARGET_PROPS = ["name", "connection", "kind", "dev", "adopt"] as const;

/** Problems with the return-route targets at argument path `arg`, each naming the argument and the value. */
export function validateReturnTargets(arg: string, targets: unknown, errs: string[]): void {
    if (!Array.isArray(targets) || targets.length === 0) errs.push(`${arg}: needs at least one host: ${show(targets)}`);
    const names = new Set<string>();
    (Array.isArray(targets) ? targets : []).forEach((t, i) => {
        const at = `${arg}[${i}]`;
        if (!net.object(at, t, TARGET_PROPS, errs)) return;
        if (!isDnsLabel(t.name)) errs.push(`${at}.name: not a DNS-1123 label: ${show(t.name)}`);
        else if (names.has(t.name)) errs.push(`${at}.name: ${show(t.name)} appears twice`);
        if (typeof t.name === "string") names.add(t.name);
        if (t.kind !== undefined && t.kind !== "linux" && t.kind !== "frr") errs.push(`${at}.kind: must be linux or frr: ${show(t.kind)}`);
        if (t.kind === "frr" && t.dev !== undefined) errs.push(`${at}.dev: FRR picks the interface itself; remove dev: ${show(t.dev)}`);
        if (t.dev !== undefined) net.ifname(`${at}.dev`, t.dev, errs);
        if (typeof t.adopt !== "object") net.bool(`${at}.adopt`, t.adopt, errs, net.COLON);
        if (!t.connection) errs.push(`${at}.connection: required: ${show(t.connection)}`);
    });
}

/**
 * One next hop serves every destination, so all must be of its family: an
 * IPv6 destination via an IPv4 next hop is refused by the kernel and by FRR.
 */
export function checkNextHopFamily(arg: string, nextHop: unknown, destinations: { arg: string; cidr: net.Cidr }[], errs: string[], why = ""): void {
    if (typeof nextHop !== "string") return;
    const fam = net.familyOf(nextHop);
    if (!fam || !destinations.length) return;
    if (destinations.every((d) => d.cidr.family !== fam)) {
        errs.push(`${arg}: ${show(nextHop)} is not of the IP family of the destinations${why}`);
        return;
    }
    for (const d of destinations) {
        if (d.cidr.family !== fam) errs.push(`${arg}: an IPv${fam} next hop cannot serve ${d.arg} ${d.cidr.text}${why}: ${show(nextHop)}`);
    }
}

/** Problems with the args, each naming the argument and the value. */
export function validateExternalReturnRoute(a: ExternalReturnRouteArgs, arg = "args"): string[] {
    const errs: string[] = [];
    if (!net.object(arg, a, ARGS_PROPS, errs)) return errs;
    if (!Array.isArray(a.destinations) || a.destinations.length === 0) errs.push(`${arg}.destinations: needs at least one CIDR: ${show(a.destinations)}`);
    const dests = (Array.isArray(a.destinations) ? a.destinations : []).flatMap((d, i) => {
        const cidr = net.cidr(`${arg}.destinations[${i}]`, d, errs);
        return cidr ? [{ arg: `destinations[${i}]`, cidr }] : [];
    });
    if (typeof a.nextHop === "string" && net.ipAddress(`${arg}.nextHop`, a.nextHop, errs)) checkNextHopFamily(`${arg}.nextHop`, a.nextHop, dests, errs);
    validateReturnTargets(`${arg}.targets`, a.targets, errs);
    return errs;
}

/**
 * The return route for pod CIDRs on hosts outside the cluster: on a peer on
 * the same L2 (`ip route add CIDR via NODE dev eth0`), or on a router when
 * the peer is not on the same L2.
 */
export class ExternalReturnRoute extends pulumi.ComponentResource {
    /** The next hop the targets route through (args.nextHop as an Output). */
    public readonly nextHop: pulumi.Output<string>;

    constructor(name: string, args: ExternalReturnRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:ExternalReturnRoute", name, {}, opts);
        assertValid("ExternalReturnRoute", name, validateExternalReturnRoute(args));
        this.nextHop = pulumi.output(args.nextHop);
        for (const t of args.targets) {
            if (t.kind === "frr") {
                args.destinations.forEach((dst) => new FrrStaticRoute(`${name}-${t.name}-${dst.replace(/[/:]/g, "_")}`,
                    { connection: t.connection, dst, nexthop: args.nextHop, adopt: t.adopt }, { parent: this }));
            } else {
                new RouteSet(`${name}-${t.name}`, {
                    connection: t.connection,
                    adopt: t.adopt,
                    routes: args.destinations.map((dst) => ({ dst, gateway: args.nextHop, ...(t.dev ? { dev: t.dev } : {}) })),
                }, { parent: this });
            }
        }
        this.registerOutputs({ nextHop: this.nextHop });
    }
}
