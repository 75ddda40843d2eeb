/**
 * The Kube-OVN Subnet a routed overlay needs, as a plain manifest.
 *
 * Design source: Kube-OVN "Interconnection with Routes in Overlay Mode"
 * (seeds 000/001) and the vendor variant (seed 002): an overlay subnet of the
 * default VPC with `natOutgoing: false`, so pod addresses leave the cluster
 * unchanged and outside hosts reach them by a route to a node (distributed
 * gateway) or to the gateway node (centralized gateway).
 *
 * Checks follow Kube-OVN's own admission rules (pkg/util/validator.go) where
 * they exist, so a spec that passes here is not refused by the controller.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Problem, problem } from "../../common/problems";
import * as net from "../../common/net";
import { Cidr, Ip } from "../../common/net";
import { isDnsLabel, stringMap, subdomain } from "../../common/names";

/** The IP families of a Subnet (an `as const` object: the literals type-check, and schema inference makes it an enum). */
export const SubnetProtocol = { IPv4: "IPv4", IPv6: "IPv6", Dual: "Dual" } as const;
export type SubnetProtocol = (typeof SubnetProtocol)[keyof typeof SubnetProtocol];

/** Where a Subnet's traffic leaves the cluster (see SubnetFields.gatewayType). */
export const GatewayType = { Distributed: "distributed", Centralized: "centralized" } as const;
export type GatewayType = (typeof GatewayType)[keyof typeof GatewayType];

/**
 * The Subnet's fields as RoutedSubnet takes them, documented once. Plain:
 * cidrBlock (the number and family of CIDRs decide the FORWARD accepts and
 * sysctls each node gets), protocol, gatewayType and gatewayNode (which node
 * is the default next hop), natOutgoing. The others may be Inputs: they do
 * not decide the resource graph. Written out rather than mapped from the
 * renderer's spec: Pulumi's schema inference (component packages) reads
 * declared properties and their JSDoc only.
 */
export interface SubnetFields {
    /**
     * The pod CIDR: "10.166.0.0/16", or dual stack as Kube-OVN writes it, an IPv4
     * and an IPv6 CIDR joined by a comma without spaces, IPv4 first
     * ("10.166.0.0/16,fd00:10:166::/112"). Canonical text with the host bits clear
     * (Kube-OVN compares the strings it stores); at most /30 (IPv4) or /126 (IPv6),
     * which leaves room for the network, broadcast and gateway addresses and a
     * pod; not inside a loopback, link-local, multicast or broadcast range.
     * Kube-OVN refuses to change it after creation. Required.
     */
    cidrBlock: string;
    /**
     * The pods' gateway address inside cidrBlock (one per CIDR, comma-joined in
     * cidrBlock order for dual stack); neither the network nor the broadcast
     * address. Default: the first host address of each CIDR (10.166.0.1 for
     * 10.166.0.0/16, as in seed 000).
     */
    gateway?: pulumi.Input<string>;
    /**
     * Addresses IPAM never hands out: single IPs or "a..b" ranges as Kube-OVN
     * writes them, inside cidrBlock. The gateway is appended when missing, as
     * Kube-OVN's controller does (an exact string match, so a range covering the
     * gateway does not count), so the applied object never differs from what the
     * controller leaves behind. Default: just the gateway.
     */
    excludeIps?: pulumi.Input<pulumi.Input<string>[]>;
    /** "IPv4", "IPv6" or "Dual"; must agree with cidrBlock. Default: derived from cidrBlock's CIDR families. */
    protocol?: SubnetProtocol;
    /**
     * Namespaces bound to the subnet: their pods get addresses from it (seed 002
     * binds ns1 and ns2). DNS-1123 labels, each at most once. Default: none.
     */
    namespaces?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Where the subnet's traffic leaves the cluster. "distributed" (default): on
     * every node, through the pod's own node, so an outside return route via one
     * node makes the path asymmetric (replies leave by another node). "centralized":
     * only through gatewayNode, so requests and replies cross the same node; seeds
     * 000 and 002 recommend it where the virtual network or a stateful firewall
     * drops asymmetric traffic.
     */
    gatewayType?: GatewayType;
    /**
     * The gateway node(s) of a centralized subnet (required then, refused for a
     * distributed one): Kubernetes node names, or "node:ip" with an IPv4 egress
     * address (Kube-OVN splits the entry at every ':', so IPv6 cannot be given).
     * Kube-OVN's comma-separated string ("node1,node2:192.168.2.11"); from
     * JavaScript a list of entries works too.
     * Kube-OVN uses the first ready node and fails over to the next
     * (active/standby, status.activateGateway) unless enableEcmp.
     */
    gatewayNode?: string;
    /**
     * Centralized only: spread egress over all ready gateway nodes (ECMP) instead
     * of active/standby. Replies then leave by any gateway node, so an outside
     * return route through a single one of them is asymmetric again. Default:
     * absent (Kube-OVN's false).
     */
    enableEcmp?: pulumi.Input<boolean>;
    /**
     * Kube-OVN isolation: a private subnet accepts traffic only from its own
     * CIDR and allowSubnets, so outside peers that must reach pods need their
     * CIDR listed in allowSubnets. Seed 002 sets false. Default: absent (false).
     */
    private?: pulumi.Input<boolean>;
    /** CIDRs allowed into a private subnet; only valid with `private: true` (Kube-OVN ignores it otherwise). */
    allowSubnets?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The VPC; only Kube-OVN's default VPC "ovn-cluster" is accepted, since routed
     * interconnection works for overlay subnets of the default VPC only (seed 000).
     * Default: absent (Kube-OVN puts the subnet in the default VPC).
     */
    vpc?: pulumi.Input<string>;
    /**
     * Must be false or absent; the rendered Subnet always says false. With NAT on,
     * Kube-OVN would rewrite pod sources to the node address and the pod IPs would
     * never be seen outside (seed 000: "set natOutgoing of the subnet to false").
     */
    natOutgoing?: boolean;
    /** metadata.labels of the Subnet (Kubernetes label keys and values). */
    labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** metadata.annotations of the Subnet, e.g. pulumi.com/patchForce "true" to take over a Subnet made with kubectl. */
    annotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}


/** The Subnet as the renderer takes it: the fields resolved, and its name. */
export type SubnetSpecArgs = Omit<pulumi.Unwrap<SubnetFields>, "gatewayNode"> & {
    /**
     * metadata.name of the Subnet: a DNS-1123 subdomain (lower-case a-z 0-9 - ., at
     * most 253 characters). Kube-OVN Subnets are cluster-scoped, so the name is
     * unique in the cluster. Seeds 000/001 use "routed", seed 002 "subnet-gateway".
     */
    name: string;
    /** As in SubnetFields; a list of entries is accepted too. */
    gatewayNode?: string | string[];
};

/** Kube-OVN's default VPC (its `--cluster-router` flag, ovn-cluster unless changed at install). */
export const DEFAULT_VPC = "ovn-cluster";

const SUBNET_PROPS = [
    "name", "cidrBlock", "gateway", "excludeIps", "protocol", "namespaces", "gatewayType", "gatewayNode",
    "enableEcmp", "private", "allowSubnets", "vpc", "natOutgoing", "labels", "annotations",
] as const;

// ---------------------------------------------------------------------------
// Kube-OVN's CIDR lists (common/net.ts does the parsing and the arithmetic)

function parseCidrList(v: string): Cidr[] {
    return v.split(",").map((s) => {
        const c = net.parseCidr(s);
        if (typeof c === "string") throw new Error(`${JSON.stringify(s)}: ${c}`);
        return c;
    });
}

/**
 * Whether two CIDR lists (each one CIDR or Kube-OVN's comma-separated dual
 * stack) share an address, like Kube-OVN's util.CIDROverlap. Throws on input
 * that is not a CIDR list.
 */
export function overlaps(a: string, b: string): boolean {
    const xs = parseCidrList(a), ys = parseCidrList(b);
    return xs.some((x) => ys.some((y) => net.overlap(x, y)));
}

/** The address after the network address, Kube-OVN's default gateway (util.FirstIP). Throws on a non-CIDR. */
export function firstHost(cidr: string): string {
    const c = net.parseCidr(cidr);
    if (typeof c === "string") throw new Error(`${JSON.stringify(cidr)}: ${c}`);
    return net.ipText(c.range.getFirst().nextIPNumber());
}

// ---------------------------------------------------------------------------
// Validation

/** What Kube-OVN refuses in a subnet CIDR (util.CIDRGlobalUnicast). */
const RESERVED = [
    ["255.255.255.255/32", "v4 broadcast"], ["224.0.0.0/4", "v4 multicast"], ["127.0.0.0/8", "v4 loopback"],
    ["0.0.0.0/32", "v4 unspecified"], ["169.254.0.0/16", "v4 link-local"],
    ["::/128", "v6 unspecified"], ["::1/128", "v6 loopback"], ["ff00::/8", "v6 multicast"], ["fe80::/10", "v6 link-local"],
].map(([c, what]) => ({ cidr: net.parseCidr(c) as Cidr, what }));

/** Room for the network and broadcast addresses, the gateway and at least one pod. */
const MAX_PREFIX: Record<net.Family, number> = { 4: 30, 6: 126 };

function checkOneCidr(arg: string, s: string, errs: Problem[]): Cidr | undefined {
    const c = net.parseCidr(s);
    if (typeof c === "string") {
        errs.push(problem(arg, `${c}`, s));
        return undefined;
    }
    if (c.prefix > MAX_PREFIX[c.family]) {
        errs.push(problem(arg, `prefix longer than /${MAX_PREFIX[c.family]} leaves no address for pods after the network, broadcast and gateway addresses`, s));
        return undefined;
    }
    const r = RESERVED.find((x) => net.overlap(x.cidr, c));
    if (r) {
        errs.push(problem(arg, `overlaps the ${r.what} range ${r.cidr.text}, which Kube-OVN refuses`, s));
        return undefined;
    }
    return c;
}

/** The CIDRs, in order, or undefined when cidrBlock is unusable. */
function checkCidrBlock(arg: string, v: unknown, errs: Problem[]): Cidr[] | undefined {
    if (typeof v !== "string" || v === "") {
        errs.push(problem(arg, "must be a CIDR or an IPv4 and an IPv6 CIDR joined by a comma", v));
        return undefined;
    }
    const parts = v.split(",");
    const n = errs.length;
    const cidrs = parts.map((p) => checkOneCidr(arg, p, errs));
    if (errs.length > n) return undefined;
    const ok = cidrs as Cidr[];
    // Kube-OVN pairs the n-th address of a dual-stack list with the n-th CIDR
    // (util.GetIPAddrWithMask), and its own defaults write IPv4 first.
    if (ok.length > 2 || (ok.length === 2 && (ok[0].family !== 4 || ok[1].family !== 6))) {
        errs.push(problem(arg, "at most one IPv4 and one IPv6 CIDR, IPv4 first", v));
        return undefined;
    }
    return ok;
}

function protocolOf(cidrs: Cidr[]): "IPv4" | "IPv6" | "Dual" {
    return cidrs.length === 2 ? "Dual" : cidrs[0].family === 4 ? "IPv4" : "IPv6";
}

function checkProtocol(arg: string, v: unknown, cidrs: Cidr[] | undefined, errs: Problem[]) {
    if (v === undefined) return;
    if (v !== "IPv4" && v !== "IPv6" && v !== "Dual") {
        errs.push(problem(arg, "must be IPv4, IPv6 or Dual", v));
        return;
    }
    if (cidrs && protocolOf(cidrs) !== v) {
        const want = v === "Dual" ? "an IPv4 and an IPv6 CIDR" : `a single ${v} CIDR`;
        errs.push(problem(arg, `${v} needs ${want} in cidrBlock ${cidrs.map((c) => c.text).join(",")}`, v));
    }
}

/** An address that must sit inside the cidrBlock CIDR of its family. */
function checkInside(arg: string, s: unknown, cidrs: Cidr[] | undefined, errs: Problem[]): { ip: Ip; cidr?: Cidr } | undefined {
    const ip = net.parseIp(s);
    if (typeof ip === "string") {
        errs.push(problem(arg, `${ip}`, s));
        return undefined;
    }
    if (!cidrs) return { ip };
    const cidr = cidrs.find((c) => c.family === ip.family);
    if (!cidr || !net.contains(cidr, ip)) {
        errs.push(problem(arg, `outside cidrBlock ${cidrs.map((c) => c.text).join(",")}`, s));
        return undefined;
    }
    return { ip, cidr };
}

function checkGateway(arg: string, v: unknown, cidrs: Cidr[] | undefined, errs: Problem[]) {
    if (v === undefined) return;
    if (typeof v !== "string") {
        errs.push(problem(arg, "must be an address (two comma-joined for dual stack)", v));
        return;
    }
    const parts = v.split(",");
    const order = () => `needs one address per CIDR of cidrBlock ${cidrs!.map((c) => c.text).join(",")}, in the same order`;
    if (cidrs && parts.length !== cidrs.length) {
        errs.push(problem(arg, `${order()}`, v));
        return;
    }
    const got = parts.map((p) => checkInside(arg, p, cidrs, errs));
    if (got.some((r, i) => r?.cidr && r.cidr !== cidrs![i])) {
        errs.push(problem(arg, `${order()}`, v));
        return;
    }
    for (const r of got) {
        if (r?.cidr && net.isNetworkOrBroadcast(r.cidr, r.ip)) {
            errs.push(problem(arg, `the network or broadcast address of ${r.cidr.text}, Kube-OVN refuses it as gateway`, r.ip.text));
        }
    }
}

function checkExcludeEntry(arg: string, v: unknown, cidrs: Cidr[] | undefined, errs: Problem[]) {
    if (typeof v !== "string") {
        errs.push(problem(arg, "must be an address or a range \"a..b\"", v));
        return;
    }
    const ends = v.split("..");
    if (ends.length > 2) {
        errs.push(problem(arg, "not an address or a range \"a..b\"", v));
        return;
    }
    const n = errs.length;
    const got = ends.map((e) => checkInside(arg, e, cidrs, errs));
    if (errs.length > n || got.length === 1) return;
    const [a, b] = got as { ip: Ip; cidr?: Cidr }[];
    if (a.ip.family !== b.ip.family) errs.push(problem(arg, "range ends of different families", v));
    else if (a.ip.ip.isGreaterThan(b.ip.ip)) errs.push(problem(arg, "range start after its end", v));
}

function checkExcludeIps(arg: string, v: unknown, cidrs: Cidr[] | undefined, errs: Problem[]) {
    if (v === undefined) return;
    net.list(arg, v, errs).forEach((e, i) => checkExcludeEntry(`${arg}[${i}]`, e, cidrs, errs));
}

/** gatewayNode as entries, whether given as Kube-OVN's comma-separated string or as a list. */
function gatewayNodeEntries(v: string | string[]): string[] {
    // Kube-OVN trims around the commas (util.GatewayContains), so a hand-written "node1, node2" is common.
    return Array.isArray(v) ? v : v.split(",").map((s) => s.trim());
}

/**
 * The node names of gatewayNode ("node" or "node:ip" entries), for callers
 * that need only the names; entries that are not strings are left to
 * validateSubnetSpec to name.
 */
export function gatewayNodeNames(v: unknown): string[] {
    const entries = typeof v === "string" || Array.isArray(v) ? gatewayNodeEntries(v) : [];
    return entries.filter((e): e is string => typeof e === "string").map((e) => e.trim().split(":")[0]).filter(Boolean);
}

function checkGatewayNodeEntry(arg: string, e: unknown, cidrs: Cidr[] | undefined, errs: Problem[]): string | undefined {
    if (typeof e !== "string") {
        errs.push(problem(arg, "must be \"node\" or \"node:ip\"", e));
        return undefined;
    }
    const colon = e.indexOf(":");
    const node = colon < 0 ? e : e.slice(0, colon);
    subdomain(arg, node, "node name", errs);
    if (colon < 0) return node;
    const ip = net.parseIp(e.slice(colon + 1));
    if (typeof ip === "string") {
        errs.push(problem(arg, `the ip after "node:" is ${ip}`, e));
    } else if (ip.family === 6) {
        // Kube-OVN splits the entry at every ':' (strings.Split(gw, ":")[1]),
        // so an IPv6 address would be read as its first group.
        errs.push(problem(arg, "Kube-OVN cannot read an IPv6 address in \"node:ip\" (it splits at every ':')", e));
    } else if (cidrs && !cidrs.some((c) => c.family === 4)) {
        errs.push(problem(arg, "an IPv4 address for a subnet without an IPv4 CIDR is never used", e));
    }
    return node;
}

function checkGatewayNodes(arg: string, v: unknown, cidrs: Cidr[] | undefined, errs: Problem[]) {
    if (typeof v !== "string" && !Array.isArray(v)) {
        errs.push(problem(arg, "must be a node name list or Kube-OVN's comma-separated string", v));
        return;
    }
    const entries = gatewayNodeEntries(v);
    if (entries.length === 0 || entries.every((e) => e === "")) {
        errs.push(problem(arg, "a centralized gateway needs at least one node", v));
        return;
    }
    const seen = new Set<string>();
    entries.forEach((e, i) => {
        const where = Array.isArray(v) ? `${arg}[${i}]` : arg;
        if (typeof e === "string" && e.includes(",")) {
            errs.push(problem(where, "one node per list entry, no commas", e));
            return;
        }
        const node = checkGatewayNodeEntry(where, e, cidrs, errs);
        if (node !== undefined && seen.has(node)) errs.push(problem(where, "node listed twice", e));
        if (node !== undefined) seen.add(node);
    });
}

function checkGatewayMode(arg: string, a: Record<string, unknown>, cidrs: Cidr[] | undefined, errs: Problem[]) {
    const t = a.gatewayType ?? "distributed";
    if (t !== "distributed" && t !== "centralized") {
        errs.push(problem(`${arg}.gatewayType`, "must be distributed or centralized", a.gatewayType));
        return;
    }
    net.bool(`${arg}.enableEcmp`, a.enableEcmp, errs);
    if (t === "centralized") {
        if (a.gatewayNode === undefined) {
            errs.push(problem(`${arg}.gatewayNode`, "gatewayType centralized requires gatewayNode (the node(s) the outside routes the subnet to, seed 000)", a.gatewayNode));
        } else {
            checkGatewayNodes(`${arg}.gatewayNode`, a.gatewayNode, cidrs, errs);
        }
        return;
    }
    if (a.gatewayNode !== undefined) {
        errs.push(problem(`${arg}.gatewayNode`, "only for gatewayType centralized; a distributed gateway leaves the subnet on every node", a.gatewayNode));
    }
    if (a.enableEcmp === true) errs.push(problem(`${arg}.enableEcmp`, "only spreads a centralized gateway over its gateway nodes", a.enableEcmp));
}

function checkRouting(arg: string, a: Record<string, unknown>, errs: Problem[]) {
    net.bool(`${arg}.natOutgoing`, a.natOutgoing, errs);
    if (a.natOutgoing === true) {
        errs.push(problem(
            `${arg}.natOutgoing`,
            "must be false: routed mode exposes pod IPs to the outside, and NAT would rewrite them to the node's address " +
                '(Kube-OVN: "set natOutgoing of the subnet to false to turn off nat mapping")',
            a.natOutgoing,
        ));
    }
    if (a.vpc !== undefined && a.vpc !== DEFAULT_VPC) {
        errs.push(problem(`${arg}.vpc`, `routed interconnection works for overlay subnets of the default VPC "${DEFAULT_VPC}" only (seed 000)`, a.vpc));
    }
}

function checkNamespaces(arg: string, v: unknown, errs: Problem[]) {
    if (v === undefined) return;
    const seen = new Set<unknown>();
    net.list(arg, v, errs).forEach((ns, i) => {
        if (!isDnsLabel(ns)) errs.push(problem(`${arg}[${i}]`, "not a namespace name (DNS-1123 label: lower-case a-z 0-9 -, at most 63 characters)", ns));
        else if (seen.has(ns)) errs.push(problem(`${arg}[${i}]`, "listed twice", ns));
        seen.add(ns);
    });
}

function checkIsolation(arg: string, a: Record<string, unknown>, errs: Problem[]) {
    net.bool(`${arg}.private`, a.private, errs);
    if (a.allowSubnets === undefined) return;
    net.list(`${arg}.allowSubnets`, a.allowSubnets, errs).forEach((s, i) => {
        const c = net.parseCidr(s);
        if (typeof c === "string") errs.push(problem(`${arg}.allowSubnets[${i}]`, `${c}`, s));
    });
    // Kube-OVN reads allowSubnets only for private subnets; elsewhere it would silently mean nothing.
    if (a.private !== true) errs.push(problem(`${arg}.allowSubnets`, "only takes effect with private: true", a.allowSubnets));
}

/** Every problem of a SubnetSpecArgs, each naming the argument path and the bad value. */
export function validateSubnetSpec(a: SubnetSpecArgs, arg = "args"): Problem[] {
    const errs: Problem[] = [];
    if (!net.object(arg, a, SUBNET_PROPS, errs)) return errs;
    const raw: Record<string, unknown> = { ...a };
    subdomain(`${arg}.name`, raw.name, "Subnet name", errs);
    const cidrs = checkCidrBlock(`${arg}.cidrBlock`, raw.cidrBlock, errs);
    checkProtocol(`${arg}.protocol`, raw.protocol, cidrs, errs);
    checkGateway(`${arg}.gateway`, raw.gateway, cidrs, errs);
    checkExcludeIps(`${arg}.excludeIps`, raw.excludeIps, cidrs, errs);
    checkGatewayMode(arg, raw, cidrs, errs);
    checkRouting(arg, raw, errs);
    checkNamespaces(`${arg}.namespaces`, raw.namespaces, errs);
    checkIsolation(arg, raw, errs);
    stringMap(`${arg}.labels`, raw.labels, true, errs);
    stringMap(`${arg}.annotations`, raw.annotations, false, errs);
    return errs;
}

// ---------------------------------------------------------------------------
// Rendering

const dedupe = (xs: string[]) => [...new Set(xs)];

/**
 * Kube-OVN's controller appends every gateway address missing from
 * excludeIps (formatSubnet, an exact string match, so a range that covers the
 * gateway does not count). Rendering the same list up front keeps the object
 * we apply equal to what the controller leaves behind: no perpetual diff.
 */
function renderExcludeIps(given: string[] | undefined, gateway: string): string[] {
    const out = dedupe(given ?? []);
    for (const gw of gateway.split(",")) if (!out.includes(gw)) out.push(gw);
    return out;
}

const sortedMap = (m: Record<string, string>) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));

function renderMetadata(a: SubnetSpecArgs): Record<string, unknown> {
    const md: Record<string, unknown> = { name: a.name };
    if (a.labels !== undefined) md.labels = sortedMap(a.labels);
    if (a.annotations !== undefined) md.annotations = sortedMap(a.annotations);
    return md;
}

/** The spec, keys in a fixed order (the seed's order first) so rendered text is stable. */
function renderSpec(a: SubnetSpecArgs): Record<string, unknown> {
    const cidrs = parseCidrList(a.cidrBlock);
    const gateway = a.gateway ?? cidrs.map((c) => firstHost(c.text)).join(",");
    const spec: Record<string, unknown> = {};
    if (a.vpc !== undefined) spec.vpc = a.vpc;
    spec.protocol = a.protocol ?? protocolOf(cidrs);
    spec.cidrBlock = a.cidrBlock;
    // As in the seeds. A routed subnet is never the cluster's default subnet:
    // that one is created by Kube-OVN from its install flags.
    spec.default = false;
    spec.excludeIps = renderExcludeIps(a.excludeIps, gateway);
    spec.gateway = gateway;
    spec.gatewayType = a.gatewayType ?? "distributed";
    if (a.gatewayNode !== undefined) spec.gatewayNode = gatewayNodeEntries(a.gatewayNode).join(",");
    if (a.enableEcmp !== undefined) spec.enableEcmp = a.enableEcmp;
    spec.natOutgoing = false;
    if (a.namespaces !== undefined) spec.namespaces = [...a.namespaces];
    if (a.private !== undefined) spec.private = a.private;
    if (a.allowSubnets !== undefined) spec.allowSubnets = dedupe(a.allowSubnets);
    return spec;
}

/** The Subnet manifest of a spec that validateSubnetSpec accepted. */
export function renderSubnet(a: SubnetSpecArgs): Record<string, unknown> {
    return { apiVersion: "kubeovn.io/v1", kind: "Subnet", metadata: renderMetadata(a), spec: renderSpec(a) };
}
