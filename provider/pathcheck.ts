/**
 * PathCheck: from one client host, do the listed pod addresses answer? It
 * owns nothing on the hosts. Create and update wait, bounded, until every
 * target answers, and otherwise fail naming the first hop of the path that
 * does not work, so that `up` does not report success for routes no packet
 * can follow. A refresh runs the check once and records the result; a
 * broken path is drift, and the next `up` checks again.
 *
 * The diagnosis is split in two: the I/O below collects raw readings (the
 * `ip -j` JSON, ping results, /proc counters) one step at a time, and the
 * pure `classify` turns them into the failure, so the reasoning is tested
 * against recorded outputs without hosts.
 */
import { Connection, describe as describeConnection, ExecResult, Transport, transportFor, validateConnection } from "./transport";
import { checkFailures, holdsUnknown, Problem, problem } from "../common/problems";
import * as net from "../common/net";
import { subdomain } from "../common/names";
import type { KindImpl } from "./runtime";

interface Endpoint {
    name: string;
    connection: Connection;
}

/** A host on the path whose counters the check may read: a node that forwards the targets' traffic. */
interface ForwardingHost extends Endpoint {
    address: string;
}

export interface PathCheckSpec {
    client: Endpoint;
    /** Pod addresses, canonical. */
    targets: string[];
    /** TCP port every target must accept a connection on, besides answering ping. */
    port?: number;
    /** How long create and update wait for every target to answer, in whole seconds. */
    seconds: number;
    /** The next hop the client must route the targets through (the return route's); absent: any route it has. */
    via?: string;
    /** Hosts that may be the next hop: when the client's next hop is one of them, its forwarding counters go in the message. */
    nodes?: ForwardingHost[];
}

export const PATH_CHECK_PROPS = ["client", "targets", "port", "seconds", "via", "nodes"] as const;
export const DEFAULT_PATH_SECONDS = 10;
const POLL_MS = 500;
/** Probes the client sends while the counters of the next hop are read: enough to move a counter, and short. */
const PROBES = 3;

export function normalizePathCheck(raw: Record<string, unknown>, errs: Problem[]): PathCheckSpec | undefined {
    let client: Endpoint | undefined;
    if (net.object("client", raw.client, ["name", "connection"], errs)) {
        const c = raw.client;
        const name = subdomain("client.name", c.name, "host name", errs);
        errs.push(...validateConnection(c.connection, "client.connection"));
        if (name !== undefined) client = { name, connection: c.connection as Connection };
    }
    const targets: string[] = [];
    net.list("targets", raw.targets, errs, 1, "targets").forEach((t, i) => {
        const ip = net.unicastAddress(`targets[${i}]`, t, errs, "a pod address to check");
        if (ip === undefined) return;
        const text = net.readIp(ip)!.text;
        if (targets.includes(text)) errs.push(problem(`targets[${i}]`, "appears twice", t));
        else targets.push(text);
    });
    const port = raw.port === undefined ? undefined : net.integer("port", raw.port, 1, 65535, errs);
    const seconds = raw.seconds === undefined ? DEFAULT_PATH_SECONDS : net.integer("seconds", raw.seconds, 1, 300, errs, " (whole seconds)");
    const via = raw.via === undefined ? undefined : net.unicastAddress("via", raw.via, errs, "the next hop the client routes through");
    const nodes: ForwardingHost[] = [];
    if (raw.nodes !== undefined) {
        net.list("nodes", raw.nodes, errs).forEach((n, i) => {
            if (!net.object(`nodes[${i}]`, n, ["name", "address", "connection"], errs)) return;
            const name = subdomain(`nodes[${i}].name`, n.name, "node name", errs);
            const address = net.unicastAddress(`nodes[${i}].address`, n.address, errs, "it is matched against the client's next hop");
            errs.push(...validateConnection(n.connection, `nodes[${i}].connection`));
            if (name !== undefined && address !== undefined) nodes.push({ name, address: net.readIp(address)!.text, connection: n.connection as Connection });
        });
    }
    if (errs.length || !client || seconds === undefined) return undefined;
    return {
        client, targets, seconds,
        ...(port !== undefined ? { port } : {}),
        ...(via !== undefined ? { via: net.readIp(via)!.text } : {}),
        ...(raw.nodes !== undefined ? { nodes } : {}),
    };
}

// ---------------------------------------------------------------------------
// Readings and their diagnosis (pure)

/** One command's result as the transport returns it. */
export type Reading = Pick<ExecResult, "code" | "stdout" | "stderr">;

/** What was read about one target, step by step; a step is absent when an earlier one already decided. */
export interface PathReadings {
    client: string;
    target: string;
    via?: string;
    port?: number;
    /** The target answered ping / accepted TCP during the window. */
    icmp: boolean;
    tcp?: boolean;
    /** `ip -j route get TARGET` on the client. */
    route: Reading;
    /** The next hop: pinged from the client, then `ip -j neigh show to HOP dev DEV`; `node` when it is one of the nodes. */
    hop?: { ping: boolean; neigh: Reading; node?: string };
    /** The next hop's counters, when it is one of the nodes: before and after PROBES pings from the client. */
    node?: {
        name: string;
        /** /proc/sys/net/ipv4/ip_forward (or net/ipv6/conf/all/forwarding). */
        forwarding: Reading;
        /** /proc/net/snmp (or snmp6). */
        before: Reading;
        after: Reading;
        /** `iptables -L FORWARD -n -v -x` (ip6tables for IPv6) before and after. */
        firewallBefore: Reading;
        firewallAfter: Reading;
    };
}

/** Which hop of the path failed first. */
export type FailedHop = "route" | "next-hop" | "beyond-next-hop" | "port";

export interface PathFailure {
    target: string;
    hop: FailedHop;
    /** The address of the failing hop: the client's next hop, or the target. */
    at: string;
    message: string;
    /** The next hop's counters that moved during the probes, and its forwarding setting. */
    counters?: Record<string, string | number>;
}

interface RouteGet {
    dst?: string;
    gateway?: string;
    via?: { family?: string; host?: string };
    dev?: string;
    prefsrc?: string;
}

const firstLine = (r: Reading) => (r.stderr.trim() || r.stdout.trim()).split("\n")[0] || `exit ${r.code}`;

/** The route the client uses for the target, or why it has none. */
export function clientRoute(r: Reading): { hop?: string; dev?: string; text: string } | { error: string } {
    if (r.code !== 0) return { error: firstLine(r) };
    let routes: RouteGet[];
    try {
        routes = JSON.parse(r.stdout.trim() || "[]");
    } catch {
        return { error: `unreadable output: ${r.stdout.slice(0, 100)}` };
    }
    const g = routes[0];
    if (!g) return { error: "no route in the output" };
    const hop = g.gateway ?? g.via?.host;
    const text = [g.dst, hop && `via ${hop}`, g.dev && `dev ${g.dev}`, g.prefsrc && `src ${g.prefsrc}`].filter(Boolean).join(" ");
    return { hop, dev: g.dev, text };
}

function neighState(r: Reading): { state: string; lladdr?: string } {
    if (r.code !== 0) return { state: `unknown (${firstLine(r)})` };
    try {
        const n = (JSON.parse(r.stdout.trim() || "[]") as { state?: string[]; lladdr?: string }[])[0];
        return n ? { state: (n.state ?? ["NONE"]).join(","), lladdr: n.lladdr } : { state: "none (no entry)" };
    } catch {
        return { state: "unreadable" };
    }
}

/** The counters of /proc/net/snmp ("Ip:" header and values lines) or /proc/net/snmp6 ("Ip6X  N" lines). */
export function snmpCounters(text: string): Record<string, number> {
    const out: Record<string, number> = {};
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const six = /^(Ip6\w+)\s+(\d+)$/.exec(lines[i].trim());
        if (six) {
            out[six[1]] = Number(six[2]);
            continue;
        }
        if (!lines[i].startsWith("Ip: ") || !lines[i + 1]?.startsWith("Ip: ")) continue;
        const keys = lines[i].slice(4).trim().split(/\s+/);
        const values = lines[i + 1].slice(4).trim().split(/\s+/);
        if (values.every((v) => /^\d+$/.test(v))) keys.forEach((k, j) => { out[k] = Number(values[j]); });
        i++;
    }
    return out;
}

/** The FORWARD chain of `iptables -L FORWARD -n -v -x`: its policy, packets dropped by it, and packets dropped by DROP/REJECT rules. */
export function forwardChain(r: Reading): { policy: string; policyPackets: number; ruleDrops: number } | undefined {
    if (r.code !== 0) return undefined;
    const head = /^Chain FORWARD \(policy (\w+) (\d+) packets/m.exec(r.stdout);
    if (!head) return undefined;
    let ruleDrops = 0;
    for (const line of r.stdout.split("\n").slice(2)) {
        const f = line.trim().split(/\s+/);
        if (f.length >= 3 && /^\d+$/.test(f[0]) && (f[2] === "DROP" || f[2] === "REJECT")) ruleDrops += Number(f[0]);
    }
    return { policy: head[1], policyPackets: Number(head[2]), ruleDrops };
}

const V4 = { forwarding: "net.ipv4.ip_forward", forw: "ForwDatagrams", addrErr: "InAddrErrors", noRoute: "OutNoRoutes" };
const V6 = { forwarding: "net.ipv6.conf.all.forwarding", forw: "Ip6OutForwDatagrams", addrErr: "Ip6InAddrErrors", noRoute: "Ip6OutNoRoutes" };

/** What the next hop's counters say about the probes it received, and the counters that say it. */
function forwardingVerdict(r: NonNullable<PathReadings["node"]>, family: 4 | 6, target: string): { says: string; counters: Record<string, string | number> } {
    const k = family === 4 ? V4 : V6;
    const counters: Record<string, string | number> = {};
    const fwd = r.forwarding.code === 0 ? r.forwarding.stdout.trim() : undefined;
    if (fwd !== undefined) counters[k.forwarding] = fwd;
    const before = r.before.code === 0 ? snmpCounters(r.before.stdout) : {};
    const after = r.after.code === 0 ? snmpCounters(r.after.stdout) : {};
    const delta = (c: string) => (c in before && c in after ? after[c] - before[c] : undefined);
    for (const c of [k.forw, k.addrErr, k.noRoute]) {
        const d = delta(c);
        if (d !== undefined) counters[`${c} +`] = d;
    }
    const fb = forwardChain(r.firewallBefore), fa = forwardChain(r.firewallAfter);
    if (fa) {
        counters["FORWARD policy"] = fa.policy;
        if (fb) {
            counters["FORWARD policy drops +"] = fa.policyPackets - fb.policyPackets;
            counters["FORWARD DROP/REJECT rules +"] = fa.ruleDrops - fb.ruleDrops;
        }
    }
    const n = r.name;
    let says: string;
    if (fwd === "0") says = `forwarding is off on ${n} (${k.forwarding} = 0)`;
    else if ((delta(k.addrErr) ?? 0) > 0 && !(delta(k.forw) ?? 0)) says = `${n} drops the probes as not its own (${k.addrErr} rose): forwarding is off on the interface`;
    else if ((delta(k.noRoute) ?? 0) > 0) says = `${n} has no route to ${target} (${k.noRoute} rose)`;
    else if (fb && fa && (fa.policyPackets > fb.policyPackets || fa.ruleDrops > fb.ruleDrops)) says = `${n}'s firewall drops the probes in FORWARD`;
    else if ((delta(k.forw) ?? 0) > 0) says = `${n} forwards the probes (${k.forw} rose): the overlay or the pod does not answer, or the reply takes another path`;
    else says = `${n}'s counters show no forwarding of the probes`;
    return { says, counters };
}

const countersText = (c: Record<string, string | number>) =>
    Object.entries(c).map(([k, v]) => (k.endsWith(" +") ? `${k}${v}` : `${k} ${v}`)).join(", ");

/**
 * The first failing hop for one target, from what was read; undefined when
 * the target answered (ICMP, and TCP when a port is set).
 */
export function classify(r: PathReadings): PathFailure | undefined {
    if (r.icmp && r.tcp !== false) return undefined;
    const from = `the client ${r.client}`;
    const route = clientRoute(r.route);
    if ("error" in route) {
        return { target: r.target, hop: "route", at: r.client, message: `no route on ${from} to ${r.target}: ip route get says "${route.error}"` };
    }
    if (r.via !== undefined && route.hop !== r.via) {
        const uses = route.hop ? `it routes it ${route.text}` : `it sends it straight out (${route.text}), as on-link`;
        return { target: r.target, hop: "route", at: r.client, message: `no route on ${from} to ${r.target} via ${r.via}: ${uses}; its return route is missing or another route wins` };
    }
    const hop = route.hop ?? r.target;
    const node = r.hop?.node ?? r.node?.name;
    const named = node ? `${hop} (${node})` : hop;
    if (r.icmp && r.tcp === false) {
        return { target: r.target, hop: "port", at: r.target, message: `${r.target} answers ping from ${from} but does not accept TCP port ${r.port}: is the service listening, or does a firewall drop it?` };
    }
    if (!r.hop) return { target: r.target, hop: "beyond-next-hop", at: r.target, message: `${r.target} does not answer ${from} (route ${route.text})` };
    if (!r.hop.ping) {
        const n = neighState(r.hop.neigh);
        const arp = n.state.startsWith("FAILED") || n.state.startsWith("INCOMPLETE") || n.state.startsWith("none")
            ? `ARP/ND gets no answer (neighbour ${n.state})`
            : `the neighbour entry says ${n.state}${n.lladdr ? ` (${n.lladdr})` : ""}, which is either cached from before or a host that drops ping`;
        const what = route.hop ? `the next hop ${named} of ${from}` : `${r.target}, on-link from ${from},`;
        return { target: r.target, hop: "next-hop", at: hop, message: `${what} does not answer: no ping reply, and ${arp} (route ${route.text})` };
    }
    if (!route.hop) return { target: r.target, hop: "beyond-next-hop", at: r.target, message: `${r.target} answers ARP on-link from ${from} but not ping` };
    const base = `the next hop ${named} answers ${from} but ${r.target} does not (forwarding, firewall or overlay beyond it)`;
    if (!r.node) {
        return { target: r.target, hop: "beyond-next-hop", at: hop, message: `${base}; no connection to ${hop} among the check's nodes, so no counters` };
    }
    const v = forwardingVerdict(r.node, net.familyOf(r.target) === 6 ? 6 : 4, r.target);
    return { target: r.target, hop: "beyond-next-hop", at: hop, counters: v.counters, message: `${base}: ${v.says}; during ${PROBES} probes: ${countersText(v.counters)}` };
}

/** The typed failure of a path check: every failing target's diagnosis, the first one in the message. */
export class PathUnreachable extends Error {
    readonly first: PathFailure;
    constructor(public readonly client: string, public readonly failures: PathFailure[], seconds: number) {
        const more = failures.length > 1 ? ` (and ${failures.length - 1} more: ${failures.slice(1).map((f) => `${f.target} at ${f.hop}`).join(", ")})` : "";
        super(`path check from ${client} failed after ${seconds} s, first failing hop "${failures[0].hop}": ${failures[0].message}${more}`);
        this.name = "PathUnreachable";
        this.first = failures[0];
    }
}

/**
 * The typed failure of a change undone: the path check that followed it
 * failed, so the host got its previous objects back (probe and rollback).
 */
export class ChangeRolledBack extends Error {
    constructor(public readonly host: string, public readonly what: string, public readonly cause: PathUnreachable) {
        super(`${host}: ${what}: the change made the path check fail, so the previous state was restored on the host; ${cause.message}`);
        this.name = "ChangeRolledBack";
    }
}

/** Checks the path after a change, within its window; throws PathUnreachable naming the first failing hop. */
export async function requirePath(s: PathCheckSpec): Promise<void> {
    const failures = await checkPath(s, s.seconds);
    if (failures.length) throw new PathUnreachable(`${s.client.name} (${describeConnection(s.client.connection)})`, failures, s.seconds);
}

// ---------------------------------------------------------------------------
// I/O

const ping = (t: Transport, addr: string, count = 1) =>
    t.run(["ping", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "1", addr], { allowFailure: true }).then((r) => r.code === 0);

/**
 * A TCP connect with what every Debian host has: bash's /dev/tcp, bounded by
 * coreutils timeout (no netcat needed). The script text is constant; the
 * address and port reach it as $0 and $1, never spliced into it.
 */
const TCP_CONNECT = 'exec 3<>"/dev/tcp/$0/$1"';
const tcp = (t: Transport, addr: string, port: number) =>
    t.run(["timeout", "3", "bash", "-c", TCP_CONNECT, addr, String(port)], { allowFailure: true }).then((r) => r.code === 0);

interface Answer { icmp: boolean; tcp?: boolean }

async function probe(t: Transport, s: PathCheckSpec, target: string): Promise<Answer> {
    const icmp = await ping(t, target);
    if (s.port === undefined) return { icmp };
    return { icmp, tcp: await tcp(t, target, s.port) };
}

const answered = (a: Answer) => a.icmp && a.tcp !== false;

/** Probes every target until all answer or `seconds` have passed (0: one round); the last answer of each. */
async function probeAll(s: PathCheckSpec, seconds: number): Promise<Map<string, Answer>> {
    const t = transportFor(s.client.connection);
    const deadline = Date.now() + seconds * 1000;
    const last = new Map<string, Answer>();
    let pending = s.targets;
    for (;;) {
        const round = await Promise.all(pending.map(async (target) => [target, await probe(t, s, target)] as const));
        for (const [target, a] of round) last.set(target, a);
        pending = round.filter(([, a]) => !answered(a)).map(([target]) => target);
        if (!pending.length || Date.now() >= deadline) return last;
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
}

const cat = (t: Transport, file: string) => t.run(["cat", file], { allowFailure: true });

/** Reads the path to one target that did not answer, hop by hop, stopping where classify can already decide. */
export async function readPath(s: PathCheckSpec, target: string, a: Answer): Promise<PathReadings> {
    const t = transportFor(s.client.connection);
    const r: PathReadings = { client: s.client.name, target, via: s.via, port: s.port, icmp: a.icmp, tcp: a.tcp, route: await t.run(["ip", "-j", "route", "get", target], { allowFailure: true }) };
    const route = clientRoute(r.route);
    if ("error" in route || (s.via !== undefined && route.hop !== s.via) || a.icmp) return r;
    const hop = route.hop ?? target;
    // The ping resolves the neighbour first, so the entry read next is this attempt's, not a stale one.
    let hopPing = false;
    for (let i = 0; i < 3 && !hopPing; i++) hopPing = await ping(t, hop);
    const neigh = await t.run(["ip", "-j", "neigh", "show", "to", hop, ...(route.dev ? ["dev", route.dev] : [])], { allowFailure: true });
    const node = s.nodes?.find((n) => n.address === hop);
    r.hop = { ping: hopPing, neigh, ...(node ? { node: node.name } : {}) };
    if (!hopPing || !node || !route.hop) return r;
    const n = transportFor(node.connection);
    const six = net.familyOf(target) === 6;
    const snmp = six ? "/proc/net/snmp6" : "/proc/net/snmp";
    const fw = () => n.run([six ? "ip6tables" : "iptables", "-w", "2", "-L", "FORWARD", "-n", "-v", "-x"], { allowFailure: true });
    const before = await cat(n, snmp);
    const firewallBefore = await fw();
    await ping(t, target, PROBES);
    const after = await cat(n, snmp);
    const firewallAfter = await fw();
    const forwarding = await cat(n, six ? "/proc/sys/net/ipv6/conf/all/forwarding" : "/proc/sys/net/ipv4/ip_forward");
    r.node = { name: node.name, forwarding, before, after, firewallBefore, firewallAfter };
    return r;
}

/** Runs the check: the failures (first failing hop per target, in `targets` order), none when every target answers. */
export async function checkPath(s: PathCheckSpec, seconds: number): Promise<PathFailure[]> {
    const answers = await probeAll(s, seconds);
    const failures: PathFailure[] = [];
    for (const target of s.targets) {
        const a = answers.get(target)!;
        if (answered(a)) continue;
        const f = classify(await readPath(s, target, a));
        if (f) failures.push(f);
    }
    return failures;
}

async function verified(inputs: Record<string, any>): Promise<Record<string, any>> {
    await requirePath(inputs as PathCheckSpec);
    return { ...inputs, ok: true, failures: [] };
}

type Inputs = Record<string, any>;
const spec = (v: Inputs) => JSON.stringify(PATH_CHECK_PROPS.map((k) => v[k] ?? null));

export const pathCheck: KindImpl = {
    async check(_olds, news) {
        const errs: Problem[] = [];
        const v = normalizePathCheck(news, errs);
        const shown = errs.filter((p) => !holdsUnknown(p.value));
        if (shown.length || !v) return { inputs: news, failures: checkFailures(shown, news, [...PATH_CHECK_PROPS]) };
        return { inputs: { ...news, ...v } };
    },
    async diff(_id, olds, news) {
        // A refresh that found the path broken recorded ok false: the engine diffs that against the
        // inputs, so refresh shows drift and the next up checks the path again.
        return { changes: spec(olds) !== spec(news) || olds.ok !== true, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        const s = inputs as PathCheckSpec;
        return { id: `path/${s.client.name}/${s.targets.join(",")}`, outs: await verified(inputs) };
    },
    async read(id, props) {
        // One round, no waiting: a refresh reports the path as it is now.
        const failures = await checkPath(props as PathCheckSpec, 0);
        return { id, props: { ...props, ok: failures.length === 0, failures } };
    },
    async update(_id, _olds, news) {
        return { outs: await verified(news) };
    },
    async delete() {
        // Owns nothing on the hosts.
    },
};
