import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput, FrrStaticRoute, PathCheck, PathCheckArgs, PathCheckNode, RouteSet } from "../provider/resources";
import * as net from "../common/net";
import { label, namePart } from "../common/names";
import { described, Problem, problem } from "../common/problems";
import { checkedConnection, Checked, requiredConnection, validateOnce } from "./validate";
import { pathCheckArgs, PathVerifyArgs, validateVerify, verifyPath } from "./verify";

/**
 * How a target holds its routes. An `as const` object rather than a bare
 * union of literals: the same literals type-check, and Pulumi's schema
 * inference (component packages) turns it into an enum.
 */
export const ReturnRouteKind = {
    /** Kernel routes with `ip route` (protocol 214), for a peer on the same L2 as the next hop. */
    Linux: "linux",
    /** Static routes in FRR's running config through vtysh (tag 214), for a router whose table FRR owns. */
    Frr: "frr",
} as const;
export type ReturnRouteKind = (typeof ReturnRouteKind)[keyof typeof ReturnRouteKind];

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
    kind?: ReturnRouteKind;
    /**
     * linux only: the interface toward the next hop, as in `ip route add CIDR
     * via NODE dev eth0` (seed 000). Default: absent (the kernel picks the
     * interface that reaches the next hop). Not allowed with "frr".
     */
    dev?: pulumi.Input<string>;
    /**
     * Take over routes another tool already put on the host instead of failing:
     * linux replaces a route of the same destination and metric in main, frr
     * takes over a static route with the same destination and next hop. Stands
     * in for `pulumi import`, which does not work with dynamic providers. Only
     * read at create. Default false.
     */
    adopt?: pulumi.Input<boolean>;
}

export interface ExternalReturnRouteArgs {
    /**
     * The pod CIDRs to route back into the cluster, e.g. ["10.166.0.0/16"]; at
     * least one, canonical, host bits clear. Plain strings: an FRR target gets
     * one resource per destination, named after it.
     */
    destinations: string[];
    /**
     * The next hop on the targets' side: a node address, or a GatewayVip's
     * `address`. An IP address of the destinations' family, outside them;
     * an Output is checked the same way once known.
     */
    nextHop: pulumi.Input<string>;
    /** The peers and routers that get the routes; at least one. The list and each target's name and kind are plain: they decide the child resources. */
    targets: ReturnRouteTarget[];
    /**
     * Check the path after the routes: a PathCheck "<name>-verify" from
     * `client` to the pod addresses `targets`, so that `up` fails naming the
     * first failing hop when no packet gets through. `nodes` (name, address,
     * connection): the hosts the next hop may be, whose forwarding counters
     * the diagnosis reads. Default: no check.
     */
    verify?: ExternalReturnRouteVerify;
}

/** `verify` of an ExternalReturnRoute: see PathVerifyArgs, plus the nodes whose counters the diagnosis reads. */
export interface ExternalReturnRouteVerify extends PathVerifyArgs {
    /**
     * The nodes that may be the client's next hop, with how to reach them: when
     * the check fails past the next hop, the one it routes through is read
     * (ip_forward, forwarding and FORWARD counters) for the message. Default:
     * none (the message names the hop without counters).
     */
    nodes?: PathCheckNode[];
}

const ARGS_PROPS = ["destinations", "nextHop", "targets", "verify"] as const;
const TARGET_PROPS = ["name", "connection", "kind", "dev", "adopt"] as const;

/** Problems with the return-route targets at argument path `arg`, each naming the argument and the value. */
export function validateReturnTargets(arg: string, targets: unknown, errs: Problem[]): void {
    if (!Array.isArray(targets) || targets.length === 0) errs.push(problem(arg, "needs at least one host", targets));
    const names = new Set<string>();
    (Array.isArray(targets) ? targets : []).forEach((t, i) => {
        const at = `${arg}[${i}]`;
        if (!net.object(at, t, TARGET_PROPS, errs)) return;
        const name = label(`${at}.name`, t.name, "target name", errs);
        if (name !== undefined && names.has(name)) errs.push(problem(`${at}.name`, "appears twice", name));
        if (name !== undefined) names.add(name);
        net.oneOf(`${at}.kind`, t.kind, ["linux", "frr"], errs);
        if (t.kind === "frr" && t.dev !== undefined) errs.push(problem(`${at}.dev`, "FRR picks the interface itself; remove dev", t.dev));
        if (t.dev !== undefined) net.ifname(`${at}.dev`, t.dev, errs);
        net.bool(`${at}.adopt`, t.adopt, errs);
        requiredConnection(`${at}.connection`, t.connection, errs, "host");
    });
}

/** A destination: a CIDR of the kinds' reading (a bare address is a host route), canonical. */
export interface Destination {
    arg: string;
    cidr: net.Cidr;
}

/**
 * The destinations, each a CIDR, none twice: one target gets one route per
 * destination, and a second route to the same destination would be the
 * same kernel route (or FRR line) twice.
 */
export function checkDestinations(arg: string, v: unknown, errs: Problem[], name = "destinations"): Destination[] {
    const out: Destination[] = [];
    // By canonical text: a search of `out` per destination made 10,000 destinations cost 2 s in every program run.
    const seen = new Map<string, number>();
    net.list(arg, v, errs, 1, "CIDRs").forEach((d, i) => {
        const cidr = net.cidr(`${arg}[${i}]`, d, errs);
        if (!cidr) return;
        const twin = seen.get(cidr.text);
        if (twin !== undefined) errs.push(problem(`${arg}[${i}]`, `the same destination as ${arg}[${twin}]; each is routed once`, d));
        else {
            out.push({ arg: `${name}[${i}]`, cidr });
            seen.set(cidr.text, i);
        }
    });
    return out;
}

/**
 * One next hop serves every destination, so all must be of its family (an
 * IPv6 destination via an IPv4 next hop is refused by the kernel and by
 * FRR), and it must lie outside them: a next hop inside the destination it
 * routes (its network address, the pods' gateway, a pod) loops the traffic
 * back to where it came from.
 */
export function checkNextHop(arg: string, nextHop: unknown, destinations: Destination[], errs: Problem[], why = ""): void {
    if (typeof nextHop !== "string") return;
    const ip = net.readIp(nextHop);
    if (!ip || !destinations.length) return;
    const bad = net.notUnicast(ip);
    if (bad) {
        errs.push(problem(arg, `${bad}, not a host to route through${why}`, nextHop));
        return;
    }
    if (destinations.every((d) => d.cidr.family !== ip.family)) {
        errs.push(problem(arg, `not of the IP family of the destinations${why}`, nextHop));
        return;
    }
    for (const d of destinations) {
        if (d.cidr.family !== ip.family) errs.push(problem(arg, `an IPv${ip.family} next hop cannot serve ${d.arg} ${d.cidr.text}${why}`, nextHop));
        else if (net.contains(d.cidr, ip)) errs.push(problem(arg, `inside ${d.arg} ${d.cidr.text}, the destination it routes; give the address of a node or a GatewayVip${why}`, nextHop));
    }
}

/** Problems with the args, each naming the argument and the value. */
export function validateExternalReturnRoute(a: ExternalReturnRouteArgs, arg = "args"): Problem[] {
    const errs: Problem[] = [];
    if (!net.object(arg, a, ARGS_PROPS, errs)) return errs;
    const dests = checkDestinations(`${arg}.destinations`, a.destinations, errs);
    if (a.nextHop === undefined) errs.push(problem(`${arg}.nextHop`, "required: the address the targets route through"));
    else if (net.ipAddress(`${arg}.nextHop`, a.nextHop, errs)) checkNextHop(`${arg}.nextHop`, a.nextHop, dests, errs);
    validateReturnTargets(`${arg}.targets`, a.targets, errs);
    validateVerify(`${arg}.verify`, a.verify, dests, errs, ["nodes"]);
    return errs;
}

/** Args a RoutedSubnet built from its own, already validated ones: its child does not check them again. */
const validated = new WeakSet<object>();
/** The probe a RoutedSubnet with rollbackOnFailure hands its child's targets. */
const probes = new WeakMap<object, PathCheckArgs>();
export function trustedReturnRouteArgs(a: ExternalReturnRouteArgs, probe?: PathCheckArgs): ExternalReturnRouteArgs {
    validated.add(a);
    if (probe) probes.set(a, probe);
    return a;
}

/**
 * The return route for pod CIDRs on hosts outside the cluster: on a peer on
 * the same L2 (`ip route add CIDR via NODE dev eth0`), or on a router when
 * the peer is not on the same L2.
 */
// The child resources, behind getters: Pulumi's schema inference for component packages takes every
// class property for an output, and a child resource has no type in a schema (see RoutedSubnet).
const children = new WeakMap<ExternalReturnRoute, { routes: (RouteSet | FrrStaticRoute)[]; pathCheck?: PathCheck }>();

export class ExternalReturnRoute extends pulumi.ComponentResource {
    /** The next hop the targets route through (args.nextHop as an Output). */
    public readonly nextHop: pulumi.Output<string>;
    /** The routes, per target in `targets` order: a RouteSet for a linux target, one FrrStaticRoute per destination for an frr one. */
    get routes(): (RouteSet | FrrStaticRoute)[] { return children.get(this)!.routes; }
    /** The check of the path when `verify` is given; it runs after every route. */
    get pathCheck(): PathCheck | undefined { return children.get(this)!.pathCheck; }

    constructor(name: string, args: ExternalReturnRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:ExternalReturnRoute", name, {}, opts);
        const trusted = typeof args === "object" && args !== null && validated.has(args);
        // The next hop as the children take it: known only once every Input of the args is, and checked.
        const checked: Checked<ExternalReturnRouteArgs> | undefined = trusted
            ? undefined
            : validateOnce<ExternalReturnRouteArgs>(this, "ExternalReturnRoute", name, args, (a) => validateExternalReturnRoute(a as unknown as ExternalReturnRouteArgs));
        const hop: pulumi.Input<string> = checked ? checked.known.apply((k) => k.nextHop) : args.nextHop;
        const what = described("ExternalReturnRoute", name);
        this.nextHop = pulumi.output(hop);
        const own: { routes: (RouteSet | FrrStaticRoute)[]; pathCheck?: PathCheck } = { routes: [] };
        children.set(this, own);
        const v = args.verify;
        // A RoutedSubnet's child gets no verify: the RoutedSubnet checks the path itself, after its prerequisites
        // too, and hands its targets the probe when it rolls back.
        const check = v && checked ? pathCheckArgs(this, what, v, {
            known: checked.part(["verify"]).apply((k) => k.verify as PathVerifyArgs),
            via: args.targets.some((t) => t.name === v.client.name && (t.kind ?? "linux") === "linux") ? hop : undefined,
            nodes: v.nodes?.map((n, i) => ({ ...n, connection: checkedConnection(this, what, `args.verify.nodes[${i}].connection`, n.connection, n.name as string) })),
            arg: "args.verify",
        }) : undefined;
        const probe = trusted ? probes.get(args) : v?.rollbackOnFailure ? check : undefined;
        args.targets.forEach((given, i) => {
            // A RoutedSubnet's targets come with their connections checked under its own argument paths.
            const t = trusted ? given : { ...given, connection: checkedConnection(this, what, `args.targets[${i}].connection`, given.connection) };
            const host = { connection: t.connection, adopt: t.adopt, ...(probe ? { probe } : {}) };
            if (t.kind === "frr") {
                args.destinations.forEach((dst) => own.routes.push(new FrrStaticRoute(`${name}-${t.name}-${namePart(dst)}`,
                    { ...host, dst, nexthop: hop }, { parent: this })));
            } else {
                // One Output of plain routes, not a list of routes that each hold the next hop's Output: the SDK
                // unwraps an Input list element by element, which cost 10,000 routes about a second of every run.
                const routes = pulumi.all([hop, t.dev]).apply(([gateway, dev]) =>
                    args.destinations.map((dst) => ({ dst, gateway, ...(dev !== undefined ? { dev } : {}) })));
                own.routes.push(new RouteSet(`${name}-${t.name}`, { ...host, routes }, { parent: this }));
            }
        });
        if (check) own.pathCheck = verifyPath(this, name, check, own.routes);
        this.registerOutputs({ nextHop: this.nextHop });
    }
}
