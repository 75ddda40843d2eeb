/**
 * The pure planning side of the TunnelFabric component: which VXLAN link, FDB
 * entries, policy rules and routes every node gets, as plain data for the
 * kernel-object providers.
 *
 * Design source: Liqo's legacy "Liqo-Route" (seed 003). Every node carries a
 * unicast VXLAN link (`liqo.vxlan`) whose peers are static FDB entries;
 * cross-cluster traffic is steered by policy rules into a custom table
 * (18952) whose routes point at the active gateway's overlay address; the
 * active gateway routes traffic coming back from other clusters through the
 * overlay as well (symmetric routing), so it re-enters each node on the
 * interface its reply will leave by.
 *
 * IPv4 only, like liqo.vxlan and Liqo's RouteConfiguration next hops.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Problem, problem } from "../../common/problems";
import { IPv4CidrRange, Validator } from "ip-num";
import * as net from "../../common/net";
import { Cidr4, Ip4, isObject, ZERO_MAC } from "../../common/net";
import { namePart, subdomain } from "../../common/names";
import type { FdbSpec, InterfaceAddressSpec, RouteSpec, RuleSpec, VxlanLinkSpec } from "./kernel-types";

export interface FabricNode {
    /** The Kubernetes node name (lower-case DNS subdomain, at most 200 characters so derived RouteConfiguration names fit), unique. */
    name: string;
    /**
     * The node's IPv4 address on the underlay, e.g. "192.168.2.10": the VXLAN
     * link's `local` (pinned so packets leave from the address the other nodes'
     * FDB entries name, whatever source selection would pick on a multi-homed
     * host) and the FDB `dst` on every other node. Unique; not inside
     * overlayCidr or a remote CIDR, where the tunnel would route into itself.
     */
    address: string;
    /**
     * The node's IPv4 address on the VXLAN link, inside overlayCidr, neither its
     * network nor its broadcast address, unique. Assigned with overlayCidr's
     * prefix length so the whole overlay is on-link: it is the next hop other
     * nodes use for this node (e.g. 172.29.0.1 in the lab example).
     */
    overlayAddress: string;
    /**
     * The underlay interface the VXLAN link is bound to (its `dev`), e.g. "eth0".
     * Default: absent (not bound; the kernel routes the encapsulated packets).
     * Changing it re-creates the link.
     */
    interface?: string;
    /**
     * IPv4 addresses of the pods on this node. Every other gateway candidate
     * (gatewayNodes) gets one /32 route per address, via this node's overlayAddress,
     * in the fabric table, so traffic coming back from other clusters reaches
     * the pod's node through the overlay (seed 003's Symmetric Routing
     * Operator). Unique across nodes; inside localCidrs when
     * given; not inside overlayCidr or a remote CIDR. Default: none.
     */
    pods?: string[];
}

/**
 * The fabric's fields as TunnelFabric takes them, documented once. Plain:
 * the CIDRs, gateways, vni and table (they decide each node's rules, the
 * names of the 0.1 Rule resources its RouteSets take over, and the
 * RouteConfiguration resources); port and mtu may be Inputs. Written out
 * rather than mapped from the renderer's spec: Pulumi's schema inference
 * reads declared properties and their JSDoc only.
 */
export interface TunnelFabricFields {
    /**
     * Names of the nodes that can be gateway (at least one, each a node's name).
     * They all hold the per-pod return routes, so a failover only moves rules
     * and remote-CIDR routes.
     */
    gatewayNodes: string[];
    /**
     * The gateway in use: one of gatewayNodes. The other nodes route remote
     * CIDRs to its overlayAddress; it gets the return-traffic rules. Changing it
     * moves rules and routes in one `up`; links and FDB entries stay.
     */
    activeGateway: string;
    /**
     * The remote clusters' pod/external CIDRs (IPv4, at least one, disjoint):
     * the cross-cluster traffic the policy rules select. Must not overlap
     * overlayCidr or localCidrs.
     */
    remoteCidrs: string[];
    /**
     * A fixed IPv4 address inside overlayCidr that the active gateway holds on
     * its VXLAN link besides its own overlayAddress, e.g. "172.29.0.254": the
     * other nodes route remote CIDRs through it instead of through the
     * active gateway's overlayAddress. Moving the gateway then changes the
     * two gateways only (their hold on the address, an InterfaceAddress per
     * candidate, and their rules and routes), where without it every node's
     * routes change. The new holder announces the address
     * with gratuitous ARPs (`arping -U`, which Linux does not send by itself
     * when an IPv4 address is added), so the nodes' neighbour caches follow
     * at once; gateway candidates need arping (iputils-arping). The two
     * gateways change in parallel, so a move completes on the new gateway
     * even when the old one cannot be reached. Not a node's
     * address, not overlayCidr's network or broadcast address. Default:
     * absent (the nodes route through the active gateway's overlayAddress).
     */
    gatewayAddress?: pulumi.Input<string>;
    /**
     * The IPv4 CIDR the nodes' overlayAddress addresses come from, /30 or shorter,
     * e.g. "172.29.0.0/24". Pick a range no other network on the hosts uses.
     */
    overlayCidr: string;
    /** The VXLAN link's name (at most 15 characters). Default "liqo.vxlan", as Liqo (seed 003). */
    linkName?: string;
    /** VXLAN network identifier, 1..16777215. Default 18952 (Liqo legacy). Changing it re-creates the links. */
    vni?: number;
    /**
     * UDP destination port of the encapsulated traffic, 1..65535; it must be
     * open between all underlay addresses. Default 4789 (IANA VXLAN). Always set
     * explicitly, because a Linux VXLAN created without dstport uses the
     * pre-IANA port 8472. Changing it re-creates the links.
     */
    port?: pulumi.Input<number>;
    /**
     * MTU of the VXLAN link, 68..9000, in bytes. Default 1440 (Liqo legacy):
     * VXLAN over IPv4 adds 50 bytes (outer IP 20, UDP 8, VXLAN 8, inner Ethernet
     * 14), so 1450 is the most a 1500-byte underlay carries; 1440 keeps 10
     * spare. Too large and small packets pass while large transfers hang.
     * Changes in place.
     */
    mtu?: pulumi.Input<number>;
    /** The routing table of the fabric's routes and rules: 1..2^32-1 except 253-255 (default, main, local). Default 18952 (Liqo legacy). */
    table?: number;
    /**
     * Priority of the fabric's policy rules, 1..32765. Default 18952: after the
     * local table (0), before main (32766). Explicit because a rule added without
     * one gets "lowest existing priority minus one", which depends on what was
     * installed before. Where a CNI has per-pod rules at low numbers (AWS VPC
     * CNI: 512..1536), pick a smaller value.
     */
    rulePriority?: number;
    /**
     * This cluster's pod CIDRs (IPv4, disjoint). When given, the rules select
     * only traffic between them and the remote CIDRs (`from <local> to
     * <remote>`), so the hosts' own traffic keeps its usual path. Default:
     * absent (rules match on the remote side only).
     */
    localCidrs?: string[];
    /**
     * The interface through which cross-cluster traffic enters the active
     * gateway (a tunnel device; not linkName). When given, the gateway's
     * symmetric-routing rule is `iif <gatewayInIf>` as in both seeds (legacy:
     * liqo.host, current: liqo-tunnel); when absent, `from <remoteCidr>` per
     * remote CIDR. With it, the gateway's overlay link needs loose rp_filter
     * (2): the reverse-path check of replies runs as if from lo, which an iif
     * rule does not match.
     */
    gatewayInIf?: string;
}

/** The fabric as the planner takes it: the fields resolved, and its nodes. */
export type TunnelFabricSpec = pulumi.Unwrap<TunnelFabricFields> & {
    /** The nodes of the fabric, at least 2; each gets the VXLAN link and FDB entries to all the others. */
    nodes: FabricNode[];
};

export interface NodePlan {
    node: string;
    link: VxlanLinkSpec;
    /** With gatewayAddress, on every gateway candidate: the address on the link, held by the active gateway only. */
    gatewayAddress?: InterfaceAddressSpec;
    fdb: FdbSpec[];
    rules: RuleSpec[];
    routes: RouteSpec[];
}

export const FABRIC_DEFAULTS = {
    linkName: "liqo.vxlan",
    vni: 18952,
    port: 4789,
    // Liqo's default. VXLAN over IPv4 costs 50 bytes (outer IP 20 + UDP 8 +
    // VXLAN 8 + inner Ethernet 14), so 1450 is the ceiling under a 1500-byte
    // underlay; 1440 keeps 10 bytes spare for an underlay that adds a tag.
    mtu: 1440,
    table: 18952,
    // Explicit, because a rule added without one gets "the lowest existing
    // priority minus one" (iproute2 and Liqo both count down from 32765), so
    // its place would depend on what was installed before. 18952 sits well
    // after priority 0 (the local table, which must see packets first so
    // traffic to the node's own addresses is delivered) and before 32766
    // (main, whose default route would otherwise swallow cross-cluster
    // traffic). Where a CNI installs per-pod source rules at lower numbers
    // (AWS VPC CNI uses 512..1536), pick a smaller value.
    rulePriority: 18952,
} as const;

/** A TunnelFabricSpec with its defaults applied. */
export type ResolvedTunnelFabric = Required<Omit<TunnelFabricSpec, "localCidrs" | "gatewayInIf" | "gatewayAddress">> & Pick<TunnelFabricSpec, "localCidrs" | "gatewayInIf" | "gatewayAddress">;

/** The spec with every default filled in (input assumed valid). */
export function withFabricDefaults(s: TunnelFabricSpec): ResolvedTunnelFabric {
    return {
        ...s,
        linkName: s.linkName ?? FABRIC_DEFAULTS.linkName,
        vni: s.vni ?? FABRIC_DEFAULTS.vni,
        port: s.port ?? FABRIC_DEFAULTS.port,
        mtu: s.mtu ?? FABRIC_DEFAULTS.mtu,
        table: s.table ?? FABRIC_DEFAULTS.table,
        rulePriority: s.rulePriority ?? FABRIC_DEFAULTS.rulePriority,
    };
}

// ---------------------------------------------------------------------------
// Checks. The address, name and number checks are common/net.ts's;
// every message is "<argument path>: <what is wrong>: <the value as JSON>".

/** Kubernetes node names are DNS subdomains; 200 leaves room for the derived RouteConfiguration names (253). */
const checkNodeName = (arg: string, v: unknown, errs: Problem[]) => subdomain(arg, v, "Kubernetes node name", errs, 200);

/** Pairwise overlap of labelled CIDRs; the later one is reported. */
function checkDisjoint(items: { arg: string; c: Cidr4 }[], errs: Problem[], what: string) {
    for (let i = 0; i < items.length; i++) {
        for (let j = 0; j < i; j++) {
            if (net.overlap(items[i].c, items[j].c)) {
                errs.push(problem(`${items[i].arg}`, `overlaps ${items[j].arg} (${items[j].c.text}); ${what}`, items[i].c.text));
            }
        }
    }
}

const inside = (c: Cidr4 | undefined, ip: Ip4) => c !== undefined && net.contains(c, ip);

// ---------------------------------------------------------------------------
// Validation

const SPEC_PROPS = [
    "nodes", "gatewayNodes", "activeGateway", "remoteCidrs", "overlayCidr", "linkName", "vni", "port", "mtu",
    "table", "rulePriority", "localCidrs", "gatewayInIf", "gatewayAddress",
] as const;
const NODE_PROPS = ["name", "address", "overlayAddress", "interface", "pods"] as const;

interface Nets {
    overlay?: Cidr4;
    remote: { arg: string; c: Cidr4 }[];
    local: { arg: string; c: Cidr4 }[];
}

function checkNets(arg: string, s: Record<string, unknown>, errs: Problem[]): Nets {
    const overlay = net.cidr4(`${arg}.overlayCidr`, s.overlayCidr, errs);
    // A /31 or /32 leaves no room for a connected route covering the peers,
    // and the next hops via the overlay must be on-link (see planNode).
    if (overlay && overlay.prefix > 30) errs.push(problem(`${arg}.overlayCidr`, "prefix must be /30 or shorter to hold the nodes' addresses", s.overlayCidr));
    const collect = (key: string, min: number) =>
        net.list(`${arg}.${key}`, s[key], errs, min).flatMap((v, i) => {
            const c = net.cidr4(`${arg}.${key}[${i}]`, v, errs);
            return c ? [{ arg: `${arg}.${key}[${i}]`, c }] : [];
        });
    const remote = collect("remoteCidrs", 1);
    const local = s.localCidrs === undefined ? [] : collect("localCidrs", 1);
    // Overlapping destinations would make the rules' match order matter, and a
    // remote CIDR over the overlay would send the tunnel's own next hops into it.
    checkDisjoint(remote, errs, "remote CIDRs must be disjoint");
    checkDisjoint(local, errs, "local CIDRs must be disjoint");
    checkDisjoint([...remote, ...local], errs, "a CIDR cannot be both local and remote");
    for (const r of [...remote, ...local]) {
        if (overlay && net.overlap(r.c, overlay)) errs.push(problem(`${r.arg}`, `overlaps overlayCidr ${overlay.text}`, r.c.text));
    }
    return { overlay, remote, local };
}

interface SeenIp {
    arg: string;
    ip: string;
}

function checkUniqueIp(arg: string, ip: Ip4, seen: Map<string, SeenIp>, errs: Problem[]) {
    const prev = seen.get(ip.text);
    if (prev) errs.push(problem(arg, `duplicate address (also ${prev.arg})`, ip.text));
    else seen.set(ip.text, { arg, ip: ip.text });
}

function checkNode(arg: string, n: unknown, nets: Nets, seen: Map<string, SeenIp>, podsSeen: Map<string, SeenIp>, errs: Problem[], known: readonly string[]): string | undefined {
    if (!net.object(arg, n, known, errs)) return undefined;
    const name = checkNodeName(`${arg}.name`, n.name, errs);
    const under = net.ipv4(`${arg}.address`, n.address, errs);
    const notUnicast = under && net.notUnicast(under);
    if (notUnicast) errs.push(problem(`${arg}.address`, `${notUnicast}, not a host's address; the VXLAN local address and the other nodes' FDB dst must be this node's own`, n.address));
    else if (under) {
        checkUniqueIp(`${arg}.address`, under, seen, errs);
        // The overlay's connected route (and the remote CIDRs' rules) would
        // capture the encapsulated packets themselves: VXLAN inside VXLAN.
        if (inside(nets.overlay, under)) errs.push(problem(`${arg}.address`, `inside overlayCidr ${nets.overlay!.text}, the tunnel would route into itself`, n.address));
        for (const r of nets.remote) if (inside(r.c, under)) errs.push(problem(`${arg}.address`, `inside ${r.arg} ${r.c.text}, the tunnel would route into itself`, n.address));
    }
    const over = net.ipv4(`${arg}.overlayAddress`, n.overlayAddress, errs);
    if (over) {
        checkUniqueIp(`${arg}.overlayAddress`, over, seen, errs);
        if (nets.overlay && !inside(nets.overlay, over)) errs.push(problem(`${arg}.overlayAddress`, `not inside overlayCidr ${nets.overlay.text}`, n.overlayAddress));
        else if (nets.overlay && net.isNetworkOrBroadcast(nets.overlay, over)) {
            errs.push(problem(`${arg}.overlayAddress`, `the network or broadcast address of overlayCidr ${nets.overlay.text}`, n.overlayAddress));
        }
    }
    if (n.interface !== undefined) net.ifname(`${arg}.interface`, n.interface, errs);
    if (n.pods !== undefined) {
        net.list(`${arg}.pods`, n.pods, errs).forEach((p, i) => checkPod(`${arg}.pods[${i}]`, p, nets, podsSeen, errs));
    }
    return name;
}

function checkPod(arg: string, p: unknown, nets: Nets, podsSeen: Map<string, SeenIp>, errs: Problem[]) {
    const ip = net.ipv4(arg, p, errs);
    if (!ip) return;
    checkUniqueIp(arg, ip, podsSeen, errs);
    if (inside(nets.overlay, ip)) errs.push(problem(arg, `a pod cannot sit inside overlayCidr ${nets.overlay!.text}`, p));
    for (const r of nets.remote) if (inside(r.c, ip)) errs.push(problem(arg, `a local pod inside ${r.arg} ${r.c.text} would be routed to the other cluster`, p));
    if (nets.local.length && !nets.local.some((l) => inside(l.c, ip))) {
        errs.push(problem(arg, `not inside any of localCidrs ${nets.local.map((l) => l.c.text).join(", ")}`, p));
    }
    // "This network", loopback, multicast and class E never belong to a pod.
    const bad = NOT_POD.find((c) => net.contains(c, ip));
    if (bad) errs.push(problem(arg, `not a unicast pod address (inside ${bad.text})`, p));
}

/** The fabric's gateway address: an overlay address like a node's, held by whichever node is active. */
function checkGatewayAddress(arg: string, v: unknown, nets: Nets, seen: Map<string, SeenIp>, errs: Problem[]) {
    const ip = net.ipv4(arg, v, errs);
    if (!ip) return;
    checkUniqueIp(arg, ip, seen, errs);
    if (nets.overlay && !inside(nets.overlay, ip)) errs.push(problem(arg, `not inside overlayCidr ${nets.overlay.text}; the nodes reach it on-link over the VXLAN link`, v));
    else if (nets.overlay && net.isNetworkOrBroadcast(nets.overlay, ip)) errs.push(problem(arg, `the network or broadcast address of overlayCidr ${nets.overlay.text}`, v));
}

const NOT_POD = ["0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/3"].map((c) => net.parseCidr(c) as net.Cidr);

function checkGateways(arg: string, s: Record<string, unknown>, nodeNames: Set<string>, errs: Problem[]) {
    const gws = net.list(`${arg}.gatewayNodes`, s.gatewayNodes, errs, 1);
    const seen = new Set<unknown>();
    gws.forEach((g, i) => {
        if (seen.has(g)) errs.push(problem(`${arg}.gatewayNodes[${i}]`, "listed twice", g));
        seen.add(g);
        if (typeof g !== "string" || !nodeNames.has(g)) errs.push(problem(`${arg}.gatewayNodes[${i}]`, `not the name of a node in ${arg}.nodes`, g));
    });
    const candidates = gws.filter((g): g is string => typeof g === "string" && nodeNames.has(g));
    if (!gws.includes(s.activeGateway)) errs.push(problem(`${arg}.activeGateway`, `must be one of ${arg}.gatewayNodes (${candidates.join(", ") || "none valid"})`, s.activeGateway));
}

function checkKnobs(arg: string, s: Record<string, unknown>, errs: Problem[]) {
    if (s.linkName !== undefined) net.ifname(`${arg}.linkName`, s.linkName, errs);
    if (s.gatewayInIf !== undefined && net.ifname(`${arg}.gatewayInIf`, s.gatewayInIf, errs) !== undefined) {
        // Traffic re-sent into the overlay would match the rule again on the way back in.
        if (s.gatewayInIf === (s.linkName ?? FABRIC_DEFAULTS.linkName)) errs.push(problem(`${arg}.gatewayInIf`, "must not be the fabric's own link", s.gatewayInIf));
    }
    if (s.vni !== undefined) net.integer(`${arg}.vni`, s.vni, 1, 0xffffff, errs);
    if (s.port !== undefined) net.integer(`${arg}.port`, s.port, 1, 65535, errs);
    if (s.mtu !== undefined) net.integer(`${arg}.mtu`, s.mtu, 68, 9000, errs);
    // 0 is "unspecified" to the kernel; 253 default, 254 main, 255 local belong to the system.
    if (s.table !== undefined) net.table(`${arg}.table`, s.table, errs, { allowMain: false, numbersOnly: true });
    if (s.rulePriority !== undefined) net.rulePriority(`${arg}.rulePriority`, s.rulePriority, errs);
}

/** Every problem of a TunnelFabricSpec, each naming the argument path and the bad value. */
export function validateTunnelFabric(s: TunnelFabricSpec, arg = "args", opts: { nodeProps?: readonly string[] } = {}): Problem[] {
    const errs: Problem[] = [];
    if (!net.object(arg, s, SPEC_PROPS, errs)) return errs;
    const nets = checkNets(arg, s, errs);
    const seen = new Map<string, SeenIp>();
    const podsSeen = new Map<string, SeenIp>();
    const names = new Map<string, number>();
    net.list(`${arg}.nodes`, s.nodes, errs, 2).forEach((n, i) => {
        const name = checkNode(`${arg}.nodes[${i}]`, n, nets, seen, podsSeen, errs, [...new Set([...(opts.nodeProps ?? []), ...NODE_PROPS])]);
        if (name !== undefined && names.has(name)) errs.push(problem(`${arg}.nodes[${i}].name`, `duplicate node name (also ${arg}.nodes[${names.get(name)}])`, name));
        else if (name !== undefined) names.set(name, i);
    });
    checkGateways(arg, s, new Set(names.keys()), errs);
    if (s.gatewayAddress !== undefined) checkGatewayAddress(`${arg}.gatewayAddress`, s.gatewayAddress, nets, seen, errs);
    checkKnobs(arg, s, errs);
    return errs;
}

// ---------------------------------------------------------------------------
// Planning

/** Natural order, so node2 sorts before node10. */
export function naturalCompare(a: string, b: string): number {
    const pa = a.match(/\d+|\D+/g) ?? [];
    const pb = b.match(/\d+|\D+/g) ?? [];
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
        const x = pa[i], y = pb[i];
        const c = /^\d/.test(x) && /^\d/.test(y) ? Number(x) - Number(y) || x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
        if (c !== 0) return c;
    }
    return pa.length - pb.length;
}

/** Numeric position of an address or CIDR, for sorting (absent sorts first). */
function addrKey(s: string | undefined): [number, number] {
    if (s === undefined) return [-1, -1];
    const k = net.ipv4Order(s);
    if (k) return k;
    const r = IPv4CidrRange.fromCidr(Validator.isValidIPv4CidrNotation(s)[0] ? s : `${s}/32`);
    return [Number(r.getFirst().getValue()), Number(r.getPrefix().getValue())];
}

/** Address order, each address parsed once: a gateway's 1,000 pod routes made ip-num parse 20,000 times a sort. */
function addrOrder(): (a: string | undefined, b: string | undefined) => number {
    const memo = new Map<string | undefined, [number, number]>();
    const key = (s: string | undefined) => { let k = memo.get(s); if (!k) memo.set(s, (k = addrKey(s))); return k; };
    return (a, b) => {
        const [x, px] = key(a), [y, py] = key(b);
        return x < y ? -1 : x > y ? 1 : px - py;
    };
}

// Plain code-unit order: independent of the ICU data Node.js was built with.
const cmpStr = (a: string | undefined, b: string | undefined) => ((a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0);

function sortRoutes(rs: RouteSpec[]): RouteSpec[] {
    const cmp = addrOrder();
    return rs.sort((a, b) => (a.table ?? 0) - (b.table ?? 0) || cmp(a.dst, b.dst) || cmp(a.gateway, b.gateway) || cmpStr(a.dev, b.dev));
}

function sortRules(rs: RuleSpec[]): RuleSpec[] {
    const cmp = addrOrder();
    return rs.sort((a, b) => a.priority - b.priority || cmpStr(a.iif, b.iif) || cmp(a.from, b.from) || cmp(a.to, b.to) || a.table - b.table);
}

function rule(r: ResolvedTunnelFabric, sel: { from?: string; to?: string; iif?: string }): RuleSpec {
    // Fixed key order, and no undefined keys, keeps the JSON of a plan stable.
    const out: RuleSpec = { priority: r.rulePriority } as RuleSpec;
    if (sel.from !== undefined) out.from = sel.from;
    if (sel.to !== undefined) out.to = sel.to;
    if (sel.iif !== undefined) out.iif = sel.iif;
    out.table = r.table;
    return out;
}

/**
 * Rules of a node that sends cross-cluster traffic to the active gateway:
 * `to <remote>` (and `from <local>` when local CIDRs are given, so the host's
 * own traffic keeps its usual path).
 */
export function outboundSelectors(r: ResolvedTunnelFabric): { from?: string; to?: string }[] {
    const froms = r.localCidrs?.length ? r.localCidrs : [undefined];
    return froms.flatMap((from) => r.remoteCidrs.map((to) => ({ from, to })));
}

/**
 * Rules of the active gateway for traffic coming back from other clusters.
 * Seed 003: traffic for local pods leaving the gateway would otherwise be
 * handed to the CNI and reach the pod's node on the underlay, while the
 * pod's reply goes to the gateway through the overlay. That asymmetry is
 * dropped by strict reverse-path filtering (the source is routed via
 * liqo.vxlan, the packet came in on eth0), or by cloud fabrics that check
 * source/destination. So the gateway looks such traffic up in the fabric
 * table too, where per-pod /32 routes point at the pod node's VTEP.
 * Traffic for the gateway's own pods finds no /32 there and falls through
 * to main, as it should.
 *
 * Seed 003 leaves the selector to the Tunnel Operator: Liqo matched the
 * interface the traffic came in by (legacy: the veth from the gateway's
 * netns, current: `iif liqo-tunnel`, seed 004), which is what gatewayInIf
 * gives. Without it we select `from <remote CIDR>`, which needs no tunnel
 * name and also serves the reverse-path check of the replies that reach the
 * gateway over the overlay: the kernel validates a source with the
 * addresses swapped (saddr = the remote peer), so the rule matches and finds
 * the pod's /32 via the overlay. An `iif` rule does not help there (the
 * check runs as if from lo), so with gatewayInIf the gateway's overlay link
 * needs loose rp_filter.
 */
export function inboundSelectors(r: ResolvedTunnelFabric): { from?: string; to?: string; iif?: string }[] {
    const tos = r.localCidrs?.length ? r.localCidrs : [undefined];
    if (r.gatewayInIf !== undefined) return tos.map((to) => ({ iif: r.gatewayInIf, to }));
    return r.remoteCidrs.flatMap((from) => tos.map((to) => ({ from, to })));
}

/** An address as the link carries it: with overlayCidr's prefix length, so the whole overlay is on-link. */
const onOverlay = (r: ResolvedTunnelFabric, ip: string) => `${ip}/${(net.parseCidr(r.overlayCidr) as net.Cidr).prefix}`;

function link(r: ResolvedTunnelFabric, n: FabricNode): VxlanLinkSpec {
    const candidate = r.gatewayAddress !== undefined && r.gatewayNodes.includes(n.name);
    return {
        name: r.linkName,
        vni: r.vni,
        dstport: r.port,
        // Pinning the source address makes the VXLAN packets leave from the
        // address the other nodes' FDB entries name, whatever the host's
        // source selection would pick on a multi-homed underlay.
        local: n.address,
        ...(n.interface !== undefined && { dev: n.interface }),
        mtu: r.mtu,
        // Learning off: the peers are static, and learning would let any
        // sender on the underlay redirect a MAC to itself.
        learning: false,
        // The overlay prefix length (not /32) gives main a connected route
        // for the whole overlay on this link, which is what makes the other
        // nodes' overlay addresses valid on-link next hops below.
        addresses: [onOverlay(r, n.overlayAddress)],
        up: true,
        // The gateway address is the InterfaceAddress's (gatewayAddressOf): the link neither reports nor removes it,
        // so a move leaves the link as it is and what waits for the link (routes, FDB entries, rules) goes ahead.
        ...(candidate && { otherAddresses: [onOverlay(r, r.gatewayAddress!)] }),
    };
}

/** A gateway candidate's hold on the gateway address; the active gateway's is held, and it announces the address when it takes it. */
function gatewayAddressOf(r: ResolvedTunnelFabric, n: FabricNode): InterfaceAddressSpec | undefined {
    if (r.gatewayAddress === undefined || !r.gatewayNodes.includes(n.name)) return undefined;
    return { dev: r.linkName, address: onOverlay(r, r.gatewayAddress), held: n.name === r.activeGateway, announce: true };
}

const byAddress = (cmp: ReturnType<typeof addrOrder>) => (a: FabricNode, b: FabricNode) => cmp(a.address, b.address);

function fdb(r: ResolvedTunnelFabric, n: FabricNode): FdbSpec[] {
    return r.nodes
        .filter((o) => o.name !== n.name)
        .sort(byAddress(addrOrder()))
        // Unicast VXLAN without multicast: the kernel replicates broadcast and
        // unknown unicast (ARP for overlay addresses included) to every
        // all-zero-MAC entry, one per remote VTEP. Permanent so it never ages.
        .map((o) => ({ mac: ZERO_MAC, dev: r.linkName, dst: o.address, permanent: true }));
}

/**
 * Per-pod routes toward the pods' nodes. Seed 003's Symmetric Routing
 * Operator installs them on every node ("used only on the node where the
 * active instance of Liqo Gateway is running"); we install them on every
 * gateway candidate, active or not, so a failover only moves the rules and
 * the remote-CIDR routes. They are harmless on a standby: its rules only
 * select remote destinations, and pods are never inside a remote CIDR.
 */
function podRoutes(r: ResolvedTunnelFabric, n: FabricNode): RouteSpec[] {
    return r.nodes
        .filter((o) => o.name !== n.name)
        .flatMap((o) => (o.pods ?? []).map((p) => ({ dst: `${p}/32`, gateway: o.overlayAddress, dev: r.linkName, table: r.table })));
}

/**
 * No `onlink`: the overlay address's connected route makes the next hop
 * genuinely on-link, and without the flag the kernel checks that at creation
 * (falling back to a full lookup when the gateway is not in the route's own
 * table), so a wrong overlay address fails loudly instead of blackholing.
 * The link, with its address, is created before the routes.
 */
function remoteRoutes(r: ResolvedTunnelFabric, gw: FabricNode): RouteSpec[] {
    return r.remoteCidrs.map((dst) => ({ dst, gateway: nextHop(r, gw), dev: r.linkName, table: r.table }));
}

/** Where the nodes send cross-cluster traffic: the gateway address when there is one, else the active gateway's own. */
export function nextHop(r: Pick<ResolvedTunnelFabric, "gatewayAddress">, gw: Pick<FabricNode, "overlayAddress">): string {
    return r.gatewayAddress ?? gw.overlayAddress;
}

/**
 * A rule's part of its resource name, from its selector
 * ("to-10.200.0.0_16"). Version 0.1's TunnelFabric named a Rule resource
 * per rule with it, and the upgrade finds them by these names
 * (legacyRuleNameParts).
 */
export function ruleNamePart(r: Pick<RuleSpec, "from" | "to" | "iif">): string {
    return [r.from && `from-${namePart(r.from)}`, r.to && `to-${namePart(r.to)}`, r.iif && `iif-${r.iif}`].filter(Boolean).join("-");
}

/**
 * The name parts of every Rule resource a fabric of version 0.1 could have
 * given a node, as the active gateway or not: the node's RouteSet, which
 * holds the rules since, takes those rules over (RouteSetArgs.takeOverRules),
 * so that the Rule resources' deletes leave them in place on an upgrade.
 */
export function legacyRuleNameParts(s: Pick<TunnelFabricSpec, "remoteCidrs" | "localCidrs" | "gatewayInIf" | "table" | "rulePriority">): string[] {
    const r = withFabricDefaults({ ...s, nodes: [] } as unknown as TunnelFabricSpec);
    return [...new Set([...outboundSelectors(r), ...inboundSelectors(r)].map(ruleNamePart))].sort();
}

/**
 * A node's policy rules. They depend on the CIDRs, the table, the priority,
 * gatewayInIf and which node is active, never on a node's addresses: the
 * TunnelFabric component gives them to the node's RouteSet as plain values
 * before the addresses (which may be Outputs) are known.
 */
export function planRules(s: Pick<TunnelFabricSpec, "activeGateway" | "remoteCidrs" | "localCidrs" | "gatewayInIf" | "table" | "rulePriority">, node: string): RuleSpec[] {
    const r = withFabricDefaults({ ...s, nodes: [] } as unknown as TunnelFabricSpec);
    // The active gateway gets no outbound rules: its own path to the remote
    // clusters (tunnel or underlay) lives in main, and a route via its own
    // overlay address would be refused by the kernel (a local gateway).
    return sortRules((node === r.activeGateway ? inboundSelectors(r) : outboundSelectors(r)).map((sel) => rule(r, sel)));
}

function planNode(r: ResolvedTunnelFabric, n: FabricNode): NodePlan {
    const gw = r.nodes.find((o) => o.name === r.activeGateway)!;
    const active = n.name === r.activeGateway;
    const routes = [...(active ? [] : remoteRoutes(r, gw)), ...(r.gatewayNodes.includes(n.name) ? podRoutes(r, n) : [])];
    const gatewayAddress = gatewayAddressOf(r, n);
    return { node: n.name, link: link(r, n), ...(gatewayAddress && { gatewayAddress }), fdb: fdb(r, n), rules: planRules(r, n.name), routes: sortRoutes(routes) };
}

/** One plan per node, sorted by node name, of a spec that validateTunnelFabric accepted. */
export function planTunnelFabric(s: TunnelFabricSpec): NodePlan[] {
    const r = withFabricDefaults(s);
    return [...r.nodes].sort((a, b) => naturalCompare(a.name, b.name)).map((n) => planNode(r, n));
}

/** JSON with sorted keys: identity of a kernel object regardless of key order. */
export function stableKey(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(stableKey).join(",")}]`;
    if (isObject(v)) {
        return `{${Object.keys(v)
            .filter((k) => v[k] !== undefined)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${stableKey(v[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v);
}

