/**
 * keepalived.conf for the GatewayVip component: one VRRP instance spread over
 * several nodes, so the outside's return route (seed 000: `ip route add
 * <subnet> via <node>`) can point at a virtual address instead of a single
 * node ("Keepalived can be used to set up a VIP for multiple nodes").
 *
 * VRRPv2 (keepalived's default) over unicast, IPv4 only: the seeds' segment
 * and next hop are IPv4, and `auth_type PASS` exists in VRRPv2 only.
 *
 * Nothing reaches the text without being validated first: keepalived's
 * parser has its own quoting, comments and variable expansion, so values are
 * held to plain character sets instead of being escaped.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Problem, problem } from "../../common/problems";
import * as net from "../../common/net";
import { Cidr, Ip, isObject } from "../../common/net";
import { subdomain } from "../../common/names";

export interface VipNode {
    /** The node's name (DNS-1123 subdomain, unique): which node each rendered keepalived.conf is for. */
    name: string;
    /**
     * The node's IPv4 address on the segment, in canonical form and unique: the
     * node's `unicast_src_ip` and, on the other nodes, a `unicast_peer`. Not
     * the VIP itself, and inside `segment` when that is given.
     */
    address: string;
    /**
     * The interface that carries that address and gets the VIP (keepalived's
     * `interface` and `virtual_ipaddress ... dev`), e.g. "eth0". A Linux
     * interface name (1-15 of A-Z a-z 0-9 _ . -). Required.
     */
    interface: string;
    /**
     * VRRP priority 1..254 (255 belongs to an address owner, which a VIP never
     * has); give it for every node or for none, and no two alike (a tie is
     * broken by the higher address, which nobody reads as a preference).
     * Default: 150, 140, 130, ... in list order, so the first node is the
     * preferred master; more than 15 nodes need explicit priorities.
     */
    priority?: number;
}

export interface TrackScript {
    /**
     * The command keepalived runs, as argv: argv[0] an absolute path (keepalived's
     * enable_script_security checks the file and every directory above it, which
     * needs a path, not a PATH lookup). No shell is involved, and arguments are
     * held to A-Z a-z 0-9 _ . , : ; % + = ~ ^ * @ / - because keepalived splits
     * the script line itself and gives # ! $ and quotes their own meanings.
     * Exit status 0 is healthy. Runs as root (script_user root).
     */
    argv: string[];
    /** Seconds between runs, 1..3600 (whole seconds: keepalived reads sub-second intervals only from 2.3.2 on). Default 2. */
    interval?: number;
    /** Consecutive failures, 1..255, before the script counts as failed. Default 2. */
    fall?: number;
    /** Consecutive successes, 1..255, before a failed script counts as healthy again. Default 2. */
    rise?: number;
    /**
     * -253..253. 0 (keepalived's default, used when absent): a failing script
     * puts the node in FAULT and it drops the VIP. Otherwise a failing script
     * (negative) or a succeeding one (positive) shifts the node's priority by
     * this much, which moves the VIP only if |weight| exceeds the gap between
     * the two highest priorities and every priority + weight stays in 1..254;
     * refused with nopreempt, where a changed priority never moves the VIP.
     */
    weight?: number;
}

/**
 * Ties a GatewayVip to Kube-OVN's active gateway of a centralized subnet.
 * Each node runs a watcher (a script the component installs beside
 * keepalived.conf) that watches the Subnet's status.activateGateway through
 * the Kubernetes API and keeps the verdict in a file keepalived tracks; the
 * node it names gets a weight on top of its priority and so holds the VIP.
 * When Kube-OVN moves the gateway (the active node's datapath failed), the
 * new gateway outranks the old at once and takes the VIP within one VRRP
 * master-down interval (see failoverBudget). When the API cannot be read,
 * each node keeps its last verdict: an API outage never moves the VIP. List
 * the GatewayVip's nodes in the subnet's gatewayNode order: priorities fall
 * in that order, so with no verdict yet the VIP sits where Kube-OVN puts the
 * gateway first. The nodes need curl (7.55 or later).
 */
export interface FollowGateway {
    /** The Subnet's name (kubeovn.io/v1, cluster-scoped), e.g. the RoutedSubnet's `subnet.metadata.name`. */
    subnet: pulumi.Input<string>;
    /**
     * The Kubernetes API server's URL as the nodes reach it, e.g.
     * "https://192.168.2.5:6443": https, a host name or IPv4 address, an
     * optional port, no path.
     */
    apiServer: pulumi.Input<string>;
    /** PEM of the CA that signed the API server's certificate. */
    caCert: pulumi.Input<string>;
    /**
     * A bearer token allowed to `get` that Subnet, and nothing more is needed
     * (a ClusterRole with resourceNames: [subnet]). A secret: written to a 0600
     * file on each node, kept secret in the state, never in an argv.
     */
    token: pulumi.Input<string>;
}

/**
 * The keepalived fields as GatewayVip takes them, documented once. Plain:
 * virtualRouterId, checked at construction against the other GatewayVips of
 * the program (two VRRP groups with one id on one segment fight over the
 * virtual MAC). The others may be Inputs. Written out rather than mapped from
 * the renderer's spec: Pulumi's schema inference reads declared properties
 * and their JSDoc only.
 */
export interface GatewayVipFields {
    /** keepalived's vrrp_instance name, 1-64 of A-Z a-z 0-9 _ -. Default "RO_<virtualRouterId>" (the track script is "<name>_check"). */
    instanceName?: pulumi.Input<string>;
    /**
     * The virtual address, IPv4: "192.168.2.250" or "192.168.2.250/24". With a
     * segment given, a prefix must be /32 or the segment's: any other would give
     * the VIP a connected route that disagrees with the node's own. Without a prefix the
     * segment's prefix is used, or /32 when no segment is given. No node may
     * own it. VRRPv2 with PASS authentication is IPv4 only.
     */
    vip: pulumi.Input<string>;
    /**
     * The nodes' L2 CIDR, e.g. "192.168.2.0/24" (IPv4, /30 or shorter). When
     * given, the VIP and every node address must be usable addresses inside it,
     * and it gives a bare vip its prefix. Default: absent (no such checks).
     */
    segment?: pulumi.Input<string>;
    /**
     * VRRP virtual router id, 1..255: every node of this VIP uses the same id,
     * and each VRRP group on the same segment needs its own. Required.
     */
    virtualRouterId: number;
    /**
     * Advertisement interval in whole seconds, 1..255 (VRRPv2 carries whole
     * seconds; keepalived would round a fraction). A backup takes over about
     * 3 x advertInt + (256 - priority)/256 s after the master falls silent
     * (about 3.5 s with the default); a graceful stop hands over at once.
     * Default 1.
     */
    advertInt?: pulumi.Input<number>;
    /**
     * When true, every node starts as BACKUP and a recovered higher-priority
     * node does not take the VIP back (one move instead of two after a
     * failure). Default: absent (preempt: the highest priority starts MASTER
     * and reclaims the VIP).
     */
    nopreempt?: pulumi.Input<boolean>;
    /** A health check that can move the VIP (see TrackScript.weight). Default: none. */
    trackScript?: pulumi.Input<TrackScript>;
    /**
     * Further interfaces whose loss puts a node in FAULT, e.g. ["ovn0"] so a
     * node whose link into the cluster is down gives up the VIP. Not the VRRP
     * interface itself: keepalived always tracks that one. Default: none.
     */
    trackInterfaces?: pulumi.Input<pulumi.Input<string>[]>;
    /** Moves the VIP with Kube-OVN's active gateway of a centralized subnet (see FollowGateway). Default: absent. */
    followGateway?: FollowGateway;
    /**
     * keepalived's vrrp_garp_master_delay, 0..3600 seconds: when a second round
     * of gratuitous ARPs follows a transition to MASTER, so switches and peers
     * with stale ARP entries learn the new holder (0: no second round).
     * Default: absent (keepalived's own default).
     */
    garpMasterDelay?: pulumi.Input<number>;
}

/** The GatewayVip as the renderer takes it: the fields resolved, its nodes and password. */
export type GatewayVipSpec = pulumi.Unwrap<GatewayVipFields> & {
    /** At least 2 nodes (one node is the single point of failure the VIP exists to avoid); names and addresses unique. */
    nodes: VipNode[];
    /**
     * VRRP PASS authentication, 1..8 characters of A-Z a-z 0-9 _ . , : ; % + = ~ ^ * @ / -
     * (keepalived silently cuts longer passwords to 8). Cleartext on the wire: it
     * only keeps other VRRP groups from joining by accident. A secret: never
     * shown in messages. Default: absent (no authentication block).
     */
    authPass?: string;
};

export const VIP_DEFAULTS = {
    advertInt: 1,
    /** Node i gets firstPriority - i * priorityStep: the first node listed is the preferred master. */
    firstPriority: 150,
    priorityStep: 10,
    scriptInterval: 2,
    scriptFall: 2,
    scriptRise: 2,
    /**
     * keepalived starts the followGateway watcher this often; each run
     * watches for one second less, so a report misses no watch for longer
     * than that second (and the next run reads the Subnet before it watches).
     */
    followRun: 30,
} as const;

const SPEC_PROPS = [
    "instanceName", "vip", "segment", "virtualRouterId", "nodes", "advertInt", "authPass", "nopreempt",
    "trackScript", "trackInterfaces", "garpMasterDelay", "followGateway",
] as const;
const NODE_PROPS = ["name", "address", "interface", "priority"] as const;
const SCRIPT_PROPS = ["argv", "interval", "fall", "rise", "weight"] as const;
const FOLLOW_PROPS = ["subnet", "apiServer", "caCert", "token"] as const;

// 255 is reserved for the owner of the address (RFC 3768), which a VIP never has.
const MAX_PRIORITY = 254;

// ---------------------------------------------------------------------------
// Field checks

const checkInt = net.integer;

/** keepalived.conf gets no '@' in an interface name (see net.ifname). */
const checkIfname = (arg: string, v: unknown, errs: Problem[]) => net.ifname(arg, v, errs, { at: false });

function checkSegment(arg: string, v: unknown, errs: Problem[]): Cidr | undefined {
    const c = net.cidr4(arg, v, errs);
    if (c && c.prefix > 30) {
        errs.push(problem(arg, "prefix longer than /30 has no room for two nodes and a VIP", v));
        return undefined;
    }
    return c;
}

/** An address of the segment that a host may use: inside, and neither its network nor its broadcast address. */
function checkOnSegment(arg: string, ip: Ip, segment: Cidr | undefined, errs: Problem[]) {
    if (!segment) return;
    if (!net.contains(segment, ip)) errs.push(problem(arg, `outside segment ${segment.text}`, ip.text));
    else if (net.isNetworkOrBroadcast(segment, ip)) errs.push(problem(arg, `the network or broadcast address of segment ${segment.text}`, ip.text));
}

interface Vip {
    ip: Ip;
    prefix?: number;
}

function checkVip(arg: string, v: unknown, segment: Cidr | undefined, errs: Problem[]): Vip | undefined {
    if (typeof v !== "string") {
        errs.push(problem(arg, "must be an IPv4 address, optionally with /prefix", v));
        return undefined;
    }
    const slash = v.indexOf("/");
    const ip = net.ipv4(arg, slash < 0 ? v : v.slice(0, slash), errs);
    if (!ip) return undefined;
    let prefix: number | undefined;
    if (slash >= 0) {
        // Host bits are the point here (an address on a network), so parseCidr's network check does not apply.
        const len = v.slice(slash + 1);
        if (/^[1-9]\d?$/.test(len) && Number(len) <= 32) prefix = Number(len);
        if (prefix === undefined) {
            errs.push(problem(arg, "the prefix after the address must be /1 to /32", v));
            return undefined;
        }
        // /32 adds the bare address; any other prefix would give the VIP a connected route that disagrees with the nodes' own.
        if (segment && prefix !== segment.prefix && prefix !== 32) errs.push(problem(arg, `prefix /${prefix} is neither /32 nor the prefix of segment ${segment.text}`, v));
    }
    checkOnSegment(arg, ip, segment, errs);
    return { ip, prefix };
}

/** keepalived_conf's instance names are single words; this set also keeps them plain in logs and scripts. */
function checkInstanceName(arg: string, v: unknown, errs: Problem[]) {
    if (v !== undefined && (typeof v !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(v))) {
        errs.push(problem(arg, "must be 1-64 of A-Z a-z 0-9 _ -", v));
    }
}

/**
 * VRRPv2 carries the interval as whole seconds in an 8-bit field: keepalived
 * rounds a fraction (logging "must be an integer - rounding") and caps at
 * 255. Fractions down to 0.01 s exist only in VRRPv3, which has no
 * authentication, so integers 1..255 are the honest range here.
 */
function checkAdvertInt(arg: string, v: unknown, errs: Problem[]) {
    if (v !== undefined) checkInt(arg, v, 1, 255, errs, " (VRRPv2 advertises whole seconds)");
}

/**
 * PASS authentication is cleartext on the wire: it only stops routers of
 * another VRRP group from joining by accident. keepalived silently cuts the
 * password to 8 characters, so two configs that differ after the 8th would
 * still agree. The value is a secret: render shows its length only.
 */
export function checkAuthPass(arg: string, v: unknown, errs: Problem[]) {
    if (v === undefined) return;
    if (typeof v !== "string") {
        errs.push(problem(arg, "must be a string", v));
    } else if (v.length < 1 || v.length > 8) {
        errs.push(problem(arg, "must be 1 to 8 characters, keepalived silently truncates PASS passwords to 8", v));
    } else if (!/^[A-Za-z0-9_.,:;%+=~^*@\/-]+$/.test(v)) {
        // Spaces split the token, quotes start keepalived's quoting, # and ! start comments, $ expands variables.
        errs.push(problem(arg, "may hold only A-Z a-z 0-9 and _ . , : ; % + = ~ ^ * @ / -", v));
    }
}

// ---------------------------------------------------------------------------
// Nodes and priorities

interface Seen {
    names: Map<string, number>;
    addresses: Map<string, number>;
}

function checkNode(arg: string, i: number, n: unknown, segment: Cidr | undefined, vip: Vip | undefined, seen: Seen, errs: Problem[], known: readonly string[]) {
    const at = `${arg}[${i}]`;
    if (!net.object(at, n, known, errs)) return;
    const name = subdomain(`${at}.name`, n.name, "node name", errs);
    if (name !== undefined && seen.names.has(name)) errs.push(problem(`${at}.name`, `duplicate node name (also ${arg}[${seen.names.get(name)}])`, name));
    else if (name !== undefined) seen.names.set(name, i);
    const ip = net.ipv4(`${at}.address`, n.address, errs);
    if (ip) {
        if (seen.addresses.has(ip.text)) errs.push(problem(`${at}.address`, `duplicate address (also ${arg}[${seen.addresses.get(ip.text)}])`, ip.text));
        else seen.addresses.set(ip.text, i);
        if (vip && vip.ip.text === ip.text) errs.push(problem(`${at}.address`, "the VIP itself; the VIP must be an address no node owns", ip.text));
        checkOnSegment(`${at}.address`, ip, segment, errs);
    }
    checkIfname(`${at}.interface`, n.interface, errs);
    if (n.priority !== undefined) checkInt(`${at}.priority`, n.priority, 1, MAX_PRIORITY, errs, " (255 is reserved for the address owner)");
}

function checkNodes(arg: string, v: unknown, segment: Cidr | undefined, vip: Vip | undefined, errs: Problem[], known: readonly string[]): VipNode[] {
    const list = net.list(arg, v, errs);
    if (Array.isArray(v) && v.length < 2) errs.push(problem(arg, "needs at least 2 nodes, one node is a single point of failure", v));
    const seen: Seen = { names: new Map(), addresses: new Map() };
    list.forEach((n, i) => checkNode(arg, i, n, segment, vip, seen, errs, known));
    return list.filter(isObject) as unknown as VipNode[];
}

/**
 * Without a segment, a VIP written with its prefix names the nodes' network:
 * keepalived adds it with that prefix on every node's interface, so a node
 * outside that network would hold a VIP it cannot announce to its neighbours.
 */
function checkVipNetwork(arg: string, raw: unknown, vip: Vip | undefined, segment: Cidr | undefined, nodes: VipNode[], errs: Problem[]) {
    if (segment || !vip || vip.prefix === undefined || vip.prefix === 32) return;
    const network = net.networkOf(vip.ip, vip.prefix);
    const i = nodes.findIndex((n) => {
        const ip = net.parseIp(n.address);
        return typeof ip === "object" && !net.contains(network, ip);
    });
    if (i >= 0) errs.push(problem(arg, `outside the nodes' segment (nodes[${i}].address ${JSON.stringify(nodes[i].address)} is not in ${network.text})`, raw));
}

/** Each node's priority: as given, or 150, 140, 130... in list order. */
function priorities(nodes: VipNode[]): number[] {
    return nodes.map((n, i) => n.priority ?? VIP_DEFAULTS.firstPriority - i * VIP_DEFAULTS.priorityStep);
}

function checkPriorities(arg: string, nodes: VipNode[], errs: Problem[]) {
    const given = nodes.filter((n) => n.priority !== undefined).length;
    if (given > 0 && given < nodes.length) {
        errs.push(problem(arg, "give priority for every node or for none", nodes.map((n) => n.priority ?? null)));
        return;
    }
    const lowest = VIP_DEFAULTS.firstPriority - (nodes.length - 1) * VIP_DEFAULTS.priorityStep;
    if (given === 0 && lowest < 1) errs.push(problem(arg, `more than ${VIP_DEFAULTS.firstPriority / VIP_DEFAULTS.priorityStep} nodes need explicit priorities; nodes given`, nodes.length));
    // Equal priorities are broken by the higher primary address, which nobody reads as "preferred".
    const at = new Map<unknown, number>();
    nodes.forEach((n, i) => {
        if (n.priority === undefined) return;
        if (at.has(n.priority)) errs.push(problem(`${arg}[${i}].priority`, `same as ${arg}[${at.get(n.priority)}]`, n.priority));
        else at.set(n.priority, i);
    });
}

// ---------------------------------------------------------------------------
// Tracking

/**
 * keepalived runs the script itself (no shell) after splitting the `script`
 * string on spaces with its own quote handling; # and ! would start a
 * comment and $ a variable. So arguments are held to a plain set rather than
 * escaped.
 */
const SAFE_ARG = /^[A-Za-z0-9_.,:;%+=~^*@\/-]+$/;

function checkArgv(arg: string, v: unknown, errs: Problem[]) {
    net.list(arg, v, errs, 1).forEach((a, i) => {
        if (typeof a !== "string" || !SAFE_ARG.test(a)) {
            errs.push(problem(`${arg}[${i}]`, "may hold only A-Z a-z 0-9 and _ . , : ; % + = ~ ^ * @ / - (no whitespace, quotes, backslashes, control characters)", a));
        } else if (i === 0 && !a.startsWith("/")) {
            // enable_script_security checks the file and every directory above it, which needs a path, not a PATH lookup.
            errs.push(problem(`${arg}[0]`, "must be an absolute path", a));
        }
    });
}

/**
 * A weight moves the VIP only by priority comparison: the preferred node,
 * failing, must fall below the next one (negative weight) or a healthy next
 * one must rise above it (positive weight). nopreempt forbids exactly that
 * takeover, so there only weight 0 (FAULT) moves the VIP.
 */
function checkWeight(arg: string, w: number, prios: number[], nopreempt: boolean, errs: Problem[]) {
    if (w === 0) return;
    if (nopreempt) {
        errs.push(problem(arg, "with nopreempt a changed priority never moves the VIP; leave weight at 0 so a failing script puts the node in FAULT", w));
        return;
    }
    const sorted = [...prios].sort((a, b) => b - a);
    if (Math.abs(w) <= sorted[0] - sorted[1]) {
        errs.push(problem(arg, `|weight| must exceed the gap between the two highest priorities (${sorted[0]} - ${sorted[1]}) or a failing script never moves the VIP`, w));
    }
    const out = prios.find((p) => p + w < 1 || p + w > MAX_PRIORITY);
    if (out !== undefined) errs.push(problem(arg, `priority ${out} + weight leaves 1..${MAX_PRIORITY}; keepalived clamps it and nodes tie`, w));
}

function checkTrackScript(arg: string, v: unknown, prios: number[] | undefined, nopreempt: boolean, errs: Problem[]) {
    if (v === undefined) return;
    if (!net.object(arg, v, SCRIPT_PROPS, errs)) return;
    checkArgv(`${arg}.argv`, v.argv, errs);
    // Whole seconds: keepalived reads sub-second intervals only from 2.3.2 on.
    if (v.interval !== undefined) checkInt(`${arg}.interval`, v.interval, 1, 3600, errs);
    if (v.fall !== undefined) checkInt(`${arg}.fall`, v.fall, 1, 255, errs);
    if (v.rise !== undefined) checkInt(`${arg}.rise`, v.rise, 1, 255, errs);
    if (v.weight === undefined) return;
    const w = checkInt(`${arg}.weight`, v.weight, -253, 253, errs);
    if (w !== undefined && prios) checkWeight(`${arg}.weight`, w, prios, nopreempt, errs);
}

function checkTrackInterfaces(arg: string, v: unknown, nodes: VipNode[], errs: Problem[]) {
    if (v === undefined) return;
    const seen = new Set<unknown>();
    net.list(arg, v, errs).forEach((t, i) => {
        if (checkIfname(`${arg}[${i}]`, t, errs) === undefined) return;
        const own = nodes.findIndex((n) => n.interface === t);
        if (seen.has(t)) errs.push(problem(`${arg}[${i}]`, "listed twice", t));
        // keepalived always tracks the instance's own interface and ignores it in track_interface (with a warning).
        else if (own >= 0) errs.push(problem(`${arg}[${i}]`, `the VRRP interface of nodes[${own}], which keepalived tracks already`, t));
        seen.add(t);
    });
}

// ---------------------------------------------------------------------------
// Following Kube-OVN's active gateway

/** RFC 6750's b64token: the token goes into an HTTP header line, where a newline would add headers. */
const BEARER = /^[A-Za-z0-9\-._~+/]+=*$/;
const PEM = /^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+\r?\n-----END CERTIFICATE-----\s*$/;

/** The https URL goes into the script line, so it keeps to the plain set (no IPv6 brackets) and has no path. */
function checkApiServer(arg: string, v: unknown, errs: Problem[]) {
    let url: URL | undefined;
    try {
        url = typeof v === "string" ? new URL(v) : undefined;
    } catch { /* reported below */ }
    const why = "must be https://host[:port] (a host name or IPv4 address, no path, user, query or fragment)";
    if (typeof v !== "string" || !SAFE_ARG.test(v) || !url || url.protocol !== "https:" || url.username || url.password ||
        url.search || url.hash || (url.pathname !== "/" && url.pathname !== "") || v.endsWith("/")) {
        errs.push(problem(arg, why, v));
    }
}

/** The followGateway watcher's files go beside keepalived.conf and are named in its script line: a plain path. */
export function checkFollowConfigPath(arg: string, configPath: unknown, errs: Problem[]) {
    if (typeof configPath === "string" && !SAFE_ARG.test(configPath)) {
        errs.push(problem(arg, "with followGateway, may hold only A-Z a-z 0-9 and _ . , : ; % + = ~ ^ * @ / - (the watcher's files go beside it, named in keepalived's script line)", configPath));
    }
}

/** The effective priorities must fall in node order: with no verdict yet, the first node (the first gateway) holds the VIP. */
function checkFollowOrder(arg: string, nodes: VipNode[], errs: Problem[]) {
    const prios = priorities(nodes);
    for (let i = 1; i < prios.length; i++) {
        if (prios[i] >= prios[i - 1]) {
            errs.push(problem(`${arg}[${i}].priority`, `with followGateway, priorities must fall in node order (the subnet's gatewayNode order): not below nodes[${i - 1}]'s ${prios[i - 1]}`, prios[i]));
            return;
        }
    }
}

/**
 * The weight the active gateway gets: the spread of the priorities + 2, so
 * it outranks every other node whatever their order, even with its own
 * watcher failing (−1, see followScript) and theirs not.
 */
export function followWeight(nodes: VipNode[]): number {
    const prios = priorities(nodes);
    return Math.max(...prios) - Math.min(...prios) + 2;
}

function checkFollowGateway(arg: string, v: unknown, nodes: VipNode[] | undefined, nopreempt: boolean, errs: Problem[]) {
    if (v === undefined) return;
    if (!net.object(arg, v, FOLLOW_PROPS, errs)) return;
    if (subdomain(`${arg}.subnet`, v.subnet, "Subnet name", errs) !== undefined && !SAFE_ARG.test(v.subnet as string)) {
        errs.push(problem(`${arg}.subnet`, "must be a Subnet name", v.subnet));
    }
    checkApiServer(`${arg}.apiServer`, v.apiServer, errs);
    if (typeof v.caCert !== "string" || v.caCert.length > 100_000 || !PEM.test(v.caCert)) {
        errs.push(problem(`${arg}.caCert`, "must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)", typeof v.caCert === "string" ? `${v.caCert.slice(0, 40)}…` : v.caCert));
    }
    // Shown by render as its type and length only (a secret by its name).
    if (typeof v.token !== "string" || v.token.length > 16_384 || !BEARER.test(v.token)) {
        errs.push(problem(`${arg}.token`, "must be a bearer token: A-Z a-z 0-9 - . _ ~ + / then any = signs, at most 16384 characters", v.token));
    }
    // The active node takes the VIP by preemption, which nopreempt forbids.
    if (nopreempt) errs.push(problem(arg, "needs preemption: the active gateway takes the VIP by outranking the holder; remove nopreempt"));
    if (!nodes) return;
    checkFollowOrder(`${arg.slice(0, arg.lastIndexOf("."))}.nodes`, nodes, errs);
    const top = Math.max(...priorities(nodes)) + followWeight(nodes);
    if (top > MAX_PRIORITY) errs.push(problem(arg, `the highest priority plus the active gateway's weight (${followWeight(nodes)}) is ${top}, above ${MAX_PRIORITY}: narrow the priorities`));
    // A failing watcher takes 1 off (followScript): keepalived would clamp a priority of 0 to 1 and nodes tie.
    const bottom = Math.min(...priorities(nodes));
    if (bottom < 2) errs.push(problem(arg, "every priority must be 2 or more: a node whose watcher fails drops by 1", bottom));
}

// ---------------------------------------------------------------------------
// Validation

/** Every problem of a GatewayVipSpec, each naming the argument path and (except for the secret) the bad value. */
export function validateGatewayVip(s: GatewayVipSpec, arg = "args", opts: { nodeProps?: readonly string[] } = {}): Problem[] {
    const errs: Problem[] = [];
    if (!net.object(arg, s, SPEC_PROPS, errs)) return errs;
    const raw: Record<string, unknown> = { ...s };
    checkInstanceName(`${arg}.instanceName`, raw.instanceName, errs);
    const segment = raw.segment === undefined ? undefined : checkSegment(`${arg}.segment`, raw.segment, errs);
    const vip = checkVip(`${arg}.vip`, raw.vip, segment, errs);
    checkInt(`${arg}.virtualRouterId`, raw.virtualRouterId, 1, 255, errs);
    const n = errs.length;
    const nodes = checkNodes(`${arg}.nodes`, raw.nodes, segment, vip, errs, [...new Set([...(opts.nodeProps ?? []), ...NODE_PROPS])]);
    checkPriorities(`${arg}.nodes`, nodes, errs);
    // Weight checks compare priorities, which only mean something once the nodes are sound.
    const prios = errs.length === n && nodes.length >= 2 ? priorities(nodes) : undefined;
    checkAdvertInt(`${arg}.advertInt`, raw.advertInt, errs);
    checkAuthPass(`${arg}.authPass`, raw.authPass, errs);
    net.bool(`${arg}.nopreempt`, raw.nopreempt, errs);
    checkTrackScript(`${arg}.trackScript`, raw.trackScript, prios, raw.nopreempt === true, errs);
    checkFollowGateway(`${arg}.followGateway`, raw.followGateway, prios ? nodes : undefined, raw.nopreempt === true, errs);
    checkTrackInterfaces(`${arg}.trackInterfaces`, raw.trackInterfaces, nodes, errs);
    checkVipNetwork(`${arg}.vip`, raw.vip, vip, segment, nodes, errs);
    if (raw.garpMasterDelay !== undefined) checkInt(`${arg}.garpMasterDelay`, raw.garpMasterDelay, 0, 3600, errs);
    return errs;
}

// ---------------------------------------------------------------------------
// Rendering

const INDENT = "    ";

function block(head: string, body: string[]): string[] {
    return [`${head} {`, ...body.map((l) => INDENT + l), "}"];
}

function globalDefs(s: GatewayVipSpec, node: string): string[] {
    // Without router_id keepalived names itself after the host name it resolves at start
    // (gethostbyname), which waits out the resolver's timeout (5 s) where DNS is unreachable.
    const body: string[] = [`router_id ${node}`];
    // Without enable_script_security keepalived runs scripts as root even when
    // a non-root user could replace them; with it, it refuses such scripts.
    if (s.trackScript || s.followGateway) body.push("enable_script_security", "script_user root");
    if (s.garpMasterDelay !== undefined) body.push(`vrrp_garp_master_delay ${s.garpMasterDelay}`);
    return [...block("global_defs", body), ""];
}

const instanceName = (s: GatewayVipSpec) => s.instanceName ?? `RO_${s.virtualRouterId}`;
const scriptName = (s: GatewayVipSpec) => `${instanceName(s)}_check`;

function vrrpScript(s: GatewayVipSpec): string[] {
    const t = s.trackScript;
    if (!t) return [];
    const body = [
        `script "${t.argv.join(" ")}"`,
        `interval ${t.interval ?? VIP_DEFAULTS.scriptInterval}`,
        `fall ${t.fall ?? VIP_DEFAULTS.scriptFall}`,
        `rise ${t.rise ?? VIP_DEFAULTS.scriptRise}`,
    ];
    if (t.weight !== undefined) body.push(`weight ${t.weight}`);
    return [...block(`vrrp_script ${scriptName(s)}`, body), ""];
}

/**
 * The watcher a node runs to learn whether it is the active gateway. Constant
 * text: every value reaches it as an argument, so no input is ever parsed by
 * a shell. keepalived passes the arguments split on spaces, which is why
 * they keep to the plain set (SAFE_ARG).
 *
 * Why a watch and a tracked file rather than a check's exit status: keepalived
 * runs a check at most once a second (sub-second intervals arrive in 2.3.2)
 * and a weighted check moves the VIP only after the new gateway's whole
 * master-down interval, so a periodic check put up to one interval more on
 * every failover. A watch hears the report within milliseconds, and keepalived
 * reads a track_file through inotify the moment it changes.
 */
export const GATEWAY_CHECK_SCRIPT = `#!/bin/sh
# Installed by routed-overlay (GatewayVip followGateway) for keepalived. Watches
# the Kube-OVN Subnet and keeps in the record file 1 while its
# status.activateGateway names this node, 0 while it names another; keepalived
# tracks the file (track_file) and adds the weight for a 1. Without an answer,
# or with no gateway named, the file stands: an API outage must not move the
# VIP. It runs for about the given seconds, then keepalived starts it again, and
# it always exits 0: keepalived lowers a node whose runs fail, and neither an
# API outage nor a missing curl may move the VIP.
# Arguments: API URL, subnet, node, header file, CA file, record file, seconds.
api=$1 subnet=$2 node=$3 header=$4 ca=$5 record=$6 seconds=$7
end=$(( $(date +%s) + seconds ))
# sed, because nodes seldom have jq. A User-Agent other than curl's gets compact
# JSON, one object or watch event to a line, from the API server.
field() { sed -n "s/.*\\"$1\\" *: *\\"\\([^\\"]*\\)\\".*/\\1/p" | head -n 1; }
verdict() {
    active=$(printf '%s\\n' "$1" | field activateGateway)
    [ -n "$active" ] || return 0
    case ",$active," in
        *",$node,"*) v=1 ;;
        *) v=0 ;;
    esac
    [ "$(cat "$record" 2>/dev/null)" = "$v" ] && return 0
    printf '%s\\n' "$v" > "$record.tmp" && mv "$record.tmp" "$record"
}
ask() { curl -sSf -A routed-overlay --cacert "$ca" -H "@$header" "$@"; }
while left=$(( end - $(date +%s) )); [ "$left" -gt 2 ]; do
    if body=$(ask --max-time 5 "$api/apis/kubeovn.io/v1/subnets/$subnet"); then
        verdict "$body"
        rv=$(printf '%s\\n' "$body" | field resourceVersion)
        left=$(( end - $(date +%s) ))
        # A slow answer can leave too little of the run: --max-time 0 is no limit, timeoutSeconds 0 the server's own.
        [ "$left" -gt 1 ] || break
        # The API server ends the watch first; curl's bound is for a server that never does.
        ask -N --max-time "$left" "$api/apis/kubeovn.io/v1/subnets?watch=1&fieldSelector=metadata.name%3D$subnet&resourceVersion=$rv&timeoutSeconds=$(( left - 1 ))" |
            while IFS= read -r event; do verdict "$event"; done
    fi
    sleep 1
done
exit 0
`;

/** Where a node's keepalived files go: beside keepalived.conf, and the watcher's record in /run (gone with a reboot, like the VIP). */
export function gatewayCheckPaths(s: GatewayVipSpec, dir: string) {
    const base = `${dir}/${instanceName(s)}-gateway`;
    return { script: `${base}.sh`, header: `${base}.header`, ca: `${base}.ca`, record: `/run/routed-overlay-${instanceName(s)}-gateway.named` };
}

const followName = (s: GatewayVipSpec) => `${instanceName(s)}_gateway`;
const watchName = (s: GatewayVipSpec) => `${instanceName(s)}_gateway_watch`;

/**
 * The watcher and the file it keeps. The file weighs: a node named active
 * outranks every other. The watcher is tracked only because keepalived runs
 * no script that no instance tracks, and it exits 0 whatever the API does.
 * Its weight is −1, not 0: with weight 0 keepalived holds the instance in
 * FAULT until the script's first run ends (measured: 29 s without a VIP), and
 * a failure would be a FAULT; with −1, a watcher killed or hung three runs in
 * a row only costs its node one point, which no order of priorities feels
 * (followWeight). keepalived starts it every followRun seconds; each run stops one second
 * before the next is due, and keepalived's timeout, twice the period, only
 * ever cuts short a run that hangs. No faster handover through FAULT is
 * attempted: keepalived 2.2 sends no priority 0 when a master enters FAULT
 * (measured: the new gateway still waited its whole master-down interval,
 * with the VIP held by no one meanwhile).
 */
function followScript(s: GatewayVipSpec, node: string, dir: string): string[] {
    const f = s.followGateway;
    if (!f) return [];
    const p = gatewayCheckPaths(s, dir);
    const run = VIP_DEFAULTS.followRun;
    return [
        ...block(`vrrp_script ${watchName(s)}`, [
            `script "${[p.script, f.apiServer, f.subnet, node, p.header, p.ca, p.record, run - 1].join(" ")}"`,
            `interval ${run}`,
            `timeout ${2 * run}`,
            // A run lasts the period: three in a row fail only when the watcher is killed or hangs.
            "fall 3",
            "rise 1",
        ]),
        "",
        ...block(`track_file ${followName(s)}`, [
            `file "${p.record}"`,
            `weight ${followWeight(s.nodes)}`,
            // Kept across a restart of keepalived: the last verdict stands until the watcher reads a new one.
            "init_file 0",
        ]),
        "",
    ];
}

function vipText(s: GatewayVipSpec): string {
    if (s.vip.includes("/")) return s.vip;
    // Without a prefix keepalived would add a /32; the segment's prefix makes it an ordinary address of the segment.
    const prefix = s.segment ? s.segment.slice(s.segment.indexOf("/")) : "/32";
    return s.vip + prefix;
}

function vrrpInstance(s: GatewayVipSpec, i: number): string[] {
    const node = s.nodes[i];
    const prios = priorities(s.nodes);
    const master = !s.nopreempt && prios[i] === Math.max(...prios);
    const body = [
        // keepalived honours nopreempt only when every node starts as BACKUP.
        `state ${master ? "MASTER" : "BACKUP"}`,
        `interface ${node.interface}`,
        `virtual_router_id ${s.virtualRouterId}`,
        `priority ${prios[i]}`,
        `advert_int ${s.advertInt ?? VIP_DEFAULTS.advertInt}`,
        ...(s.nopreempt ? ["nopreempt"] : []),
        // Unicast, because many clouds and virtual switches drop multicast VRRP.
        `unicast_src_ip ${node.address}`,
        ...block("unicast_peer", s.nodes.filter((_, j) => j !== i).map((n) => n.address)),
        ...(s.authPass !== undefined ? block("authentication", ["auth_type PASS", `auth_pass ${s.authPass}`]) : []),
        ...block("virtual_ipaddress", [`${vipText(s)} dev ${node.interface}`]),
        ...(s.trackInterfaces?.length ? block("track_interface", s.trackInterfaces) : []),
        ...(s.trackScript || s.followGateway ? block("track_script", [...(s.trackScript ? [scriptName(s)] : []), ...(s.followGateway ? [`${watchName(s)} weight -1`] : [])]) : []),
        ...(s.followGateway ? block("track_file", [followName(s)]) : []),
    ];
    return block(`vrrp_instance ${instanceName(s)}`, body);
}

/** The directory of keepalived.conf, where the files it names go. */
export const DEFAULT_CONFIG_DIR = "/etc/keepalived";

/** keepalived.conf for the node named `node` of a spec that validateGatewayVip accepted; `dir` holds the files it names. */
export function renderKeepalivedConf(s: GatewayVipSpec, node: string, dir = DEFAULT_CONFIG_DIR): string {
    const i = s.nodes.findIndex((n) => n.name === node);
    if (i < 0) throw new Error(`renderKeepalivedConf: no node named ${JSON.stringify(node)} in the spec`);
    const lines = [
        `# keepalived.conf for ${node}, rendered by routed-overlay (GatewayVip); local changes are overwritten.`,
        "",
        ...globalDefs(s, node),
        ...vrrpScript(s),
        ...followScript(s, node, dir),
        ...vrrpInstance(s, i),
    ];
    return `${lines.join("\n")}\n`;
}

export interface NodePlan {
    node: string;
    /** keepalived.conf: holds authPass, a secret. */
    config: string;
    /** The files it names, by path (the followGateway watcher and its token: secrets). */
    files: Record<string, { content: string; mode: "0600" | "0700" }>;
    /** What the watcher writes while it runs, to remove with the instance. */
    scratch: string[];
}

/** Per node, in node order, of a valid spec: keepalived.conf and the files it names. Treat all of it as secret. */
export function planGatewayVip(s: GatewayVipSpec, dir = DEFAULT_CONFIG_DIR): NodePlan[] {
    return s.nodes.map((n) => {
        const f = s.followGateway;
        const p = gatewayCheckPaths(s, dir);
        return {
            node: n.name,
            config: renderKeepalivedConf(s, n.name, dir),
            files: f ? {
                [p.script]: { content: GATEWAY_CHECK_SCRIPT, mode: "0700" as const },
                // curl -H @file: the token never appears in an argv (visible in ps).
                [p.header]: { content: `Authorization: Bearer ${f.token}\n`, mode: "0600" as const },
                [p.ca]: { content: f.caCert.endsWith("\n") ? f.caCert : `${f.caCert}\n`, mode: "0600" as const },
            } : {},
            scratch: f ? [p.record, `${p.record}.tmp`] : [],
        };
    });
}

/** How long a failover of the VIP is expected to take, from the settings (see failoverBudget). */
export interface FailoverBudget {
    /** The master gone silent (host, link or keepalived down): the backup's Master_Down_Interval. */
    silentMaster: number;
    /** The track script failing on the master (when there is one): fall runs of interval, then the backup's skew. */
    trackScript?: number;
    /**
     * With followGateway: from the cluster naming a new active gateway to the
     * VIP on it. The watchers hear the report at once (milliseconds) and the
     * new gateway outranks the old, but a backup discards the advertisements
     * of a master below its own priority (RFC 3768 §6.4.2): it takes over when
     * its Master_Down_Timer, last reset by the old gateway's advertisement
     * before the report, runs out, i.e. at most its Master_Down_Interval at its
     * weighted priority after the report. A report in the one second a node's
     * watcher is restarted (once every followRun seconds) waits for it. Kube-OVN's
     * own time to notice the failure and move the gateway comes before it, and
     * is the cluster's.
     */
    followGateway?: number;
    /** The largest of them: what an operator should expect at most. */
    seconds: number;
}

/**
 * The failover budget of a GatewayVip, in seconds. A backup declares a
 * silent master dead after Master_Down_Interval = 3 × Advertisement_Interval
 * + Skew_Time, with Skew_Time = (256 − priority) / 256 of that backup (RFC
 * 3768 §6.1; keepalived follows it for VRRPv2); the highest-priority backup
 * is first. A master whose track script fails enters FAULT after `fall`
 * runs `interval` seconds apart and sends priority 0, on which the backup
 * takes over after its Skew_Time only (§6.4.2); with a weight the master
 * stays MASTER at a lower priority instead, and the backup, which discards
 * an advertisement of lower priority than its own (§6.4.2), takes over when
 * its Master_Down_Timer runs out: a whole Master_Down_Interval more. Gratuitous ARPs at the
 * transition move the peers at once, so the budget is the outage a client
 * sees.
 */
export function failoverBudget(s: Pick<GatewayVipSpec, "nodes" | "advertInt" | "trackScript" | "followGateway">): FailoverBudget {
    const advert = s.advertInt ?? VIP_DEFAULTS.advertInt;
    const backup = priorities(s.nodes).sort((a, b) => b - a)[1] ?? 0;
    const skew = (256 - backup) / 256;
    const silentMaster = 3 * advert + skew;
    const ts = s.trackScript;
    const trackScript = ts ? (ts.interval ?? VIP_DEFAULTS.scriptInterval) * (ts.fall ?? VIP_DEFAULTS.scriptFall) + (ts.weight ? 3 * advert : 0) + skew : undefined;
    // The lowest priority a named node can have (its watcher sound): the lowest priority + the weight.
    const follow = s.followGateway ? 3 * advert + (256 - Math.min(MAX_PRIORITY, Math.min(...priorities(s.nodes)) + followWeight(s.nodes))) / 256 : undefined;
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
        silentMaster: round(silentMaster),
        ...(trackScript !== undefined ? { trackScript: round(trackScript) } : {}),
        ...(follow !== undefined ? { followGateway: round(follow) } : {}),
        seconds: round(Math.max(silentMaster, trackScript ?? 0, follow ?? 0)),
    };
}
