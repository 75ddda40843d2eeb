import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput, FrrStaticRoute, RouteSet } from "../provider/resources";
import * as net from "../provider/kinds/net";

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

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Problems with the args, each naming the argument and the value. */
export function validateExternalReturnRoute(a: ExternalReturnRouteArgs, arg = "args"): string[] {
    const errs: string[] = [];
    if (!Array.isArray(a.destinations) || a.destinations.length === 0) errs.push(`${arg}.destinations: needs at least one CIDR: ${JSON.stringify(a.destinations)}`);
    const fams = new Set<number>();
    (a.destinations ?? []).forEach((d, i) => { const c = net.cidr(`${arg}.destinations[${i}]`, d, errs); if (c) fams.add(c.family); });
    if (typeof a.nextHop === "string") {
        const nh = net.ipAddress(`${arg}.nextHop`, a.nextHop, errs);
        const f = nh && net.familyOf(nh);
        if (f && fams.size && !fams.has(f)) errs.push(`${arg}.nextHop: ${JSON.stringify(a.nextHop)} is not of the IP family of the destinations`);
    }
    if (!Array.isArray(a.targets) || a.targets.length === 0) errs.push(`${arg}.targets: needs at least one host: ${JSON.stringify(a.targets)}`);
    const names = new Set<string>();
    (a.targets ?? []).forEach((t, i) => {
        if (typeof t.name !== "string" || !LABEL.test(t.name)) errs.push(`${arg}.targets[${i}].name: not a DNS-1123 label: ${JSON.stringify(t.name)}`);
        else if (names.has(t.name)) errs.push(`${arg}.targets[${i}].name: ${JSON.stringify(t.name)} appears twice`);
        names.add(t.name);
        if (t.kind !== undefined && t.kind !== "linux" && t.kind !== "frr") errs.push(`${arg}.targets[${i}].kind: must be linux or frr: ${JSON.stringify(t.kind)}`);
        if (t.kind === "frr" && t.dev !== undefined) errs.push(`${arg}.targets[${i}].dev: FRR picks the interface itself; remove dev: ${JSON.stringify(t.dev)}`);
        if (t.dev !== undefined) net.ifname(`${arg}.targets[${i}].dev`, t.dev, errs);
        if (!t.connection) errs.push(`${arg}.targets[${i}].connection: required`);
    });
    return errs;
}

/** Throws one error listing every problem, prefixed with the component's type and name (preview fails before anything runs). */
export function assertValid(type: string, name: string, errs: string[]): void {
    if (errs.length) throw new Error(`${type} ${JSON.stringify(name)}: invalid arguments:\n  ${errs.join("\n  ")}`);
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
