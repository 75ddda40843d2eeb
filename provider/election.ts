/**
 * VrrpElection: which node holds a VRRP virtual address, read back on every
 * node. It owns nothing on the hosts. Create and update wait, bounded, until
 * exactly one node holds the address, so that what is built from its
 * `holder` (GatewayVip.address, and the routes through it) waits for an
 * election that has settled; a refresh records who holds it now, and when
 * none or several do, the next `up` waits again and fails naming them.
 */
import { Connection, describe as describeConnection, transportFor, validateConnection } from "./transport";
import { checkFailures, holdsUnknown, Problem, problem } from "../common/problems";
import * as net from "../common/net";
import { subdomain } from "../common/names";
import type { KindImpl } from "./runtime";

interface ElectionNode {
    name: string;
    connection: Connection;
}

export interface VrrpElectionSpec {
    /** The virtual address, bare (no prefix). */
    address: string;
    /** Every node of the VRRP group. */
    nodes: ElectionNode[];
    /** How long create and update wait for exactly one holder, in whole seconds. */
    seconds: number;
    /** Opaque: any change makes up wait for the election again (GatewayVip passes a digest of its keepalived configs). */
    revision?: string;
    /**
     * How long one node must hold the address alone before it counts as
     * elected, in whole seconds (default 2). A lower-priority node whose
     * keepalived started first can be master for a moment before the
     * preferred node, started just after, preempts it: a single holder seen
     * once is not yet the election's result. GatewayVip passes advertInt + 1
     * (the preferred node preempts on the next advertisement it hears).
     */
    stable?: number;
}

export const ELECTION_PROPS = ["address", "nodes", "seconds", "revision", "stable"] as const;
const DEFAULT_STABLE = 2;
const POLL_MS = 200;

function normalize(raw: Record<string, unknown>, errs: Problem[]): VrrpElectionSpec | undefined {
    const ip = net.ipAddress("address", raw.address, errs);
    const nodes: ElectionNode[] = [];
    net.list("nodes", raw.nodes, errs, 1, "nodes").forEach((n, i) => {
        if (!net.object(`nodes[${i}]`, n, ["name", "connection"], errs)) return;
        const name = subdomain(`nodes[${i}].name`, n.name, "node name", errs);
        errs.push(...validateConnection(n.connection, `nodes[${i}].connection`));
        if (name !== undefined) nodes.push({ name, connection: n.connection as Connection });
    });
    if (raw.revision !== undefined && typeof raw.revision !== "string") errs.push(problem("revision", "must be a string", raw.revision));
    const seconds = raw.seconds;
    if (!(Number.isInteger(seconds) && (seconds as number) >= 1 && (seconds as number) <= 300)) errs.push(problem("seconds", "whole seconds from 1 to 300", seconds));
    if (raw.stable !== undefined && !(Number.isInteger(raw.stable) && (raw.stable as number) >= 1 && (raw.stable as number) <= 60)) errs.push(problem("stable", "whole seconds from 1 to 60", raw.stable));
    return ip && errs.length === 0 ? { address: ip, nodes, seconds: seconds as number } : undefined;
}

/** The nodes whose interfaces carry the address now, in `nodes` order (`ip -j addr show to ADDR`). */
export async function holders(e: VrrpElectionSpec): Promise<string[]> {
    const found = await Promise.all(e.nodes.map(async (n) => {
        const r = await transportFor(n.connection).run(["ip", "-j", "addr", "show", "to", e.address]);
        const links = JSON.parse(r.stdout.trim() || "[]") as { addr_info?: unknown[] }[];
        return links.some((l) => (l.addr_info ?? []).length > 0) ? n.name : undefined;
    }));
    return found.filter((n): n is string => n !== undefined);
}

/** The typed failure of an election that did not settle: who held the address last. */
export class ElectionUnsettled extends Error {
    constructor(public readonly address: string, public readonly holders: string[], nodes: ElectionNode[], seconds: number) {
        super(holders.length === 0
            ? `no node holds the VIP ${address} after ${seconds} s (nodes ${nodes.map((n) => `${n.name} at ${describeConnection(n.connection)}`).join(", ")}); is keepalived running, and do the nodes reach each other over VRRP (protocol 112)?`
            : `the VIP ${address} is held by ${holders.join(" and ")} at once after ${seconds} s (split brain): their VRRP advertisements do not reach each other; check unicast_peer addresses, firewalls (protocol 112) and authPass`);
        this.name = "ElectionUnsettled";
    }
}

/**
 * Polls every node until one alone has held the address for `stable`
 * seconds, or fails after `seconds` (when one node alone holds it then, it
 * is the result even if it has not held it that long).
 */
export async function elect(e: VrrpElectionSpec): Promise<string> {
    const deadline = Date.now() + e.seconds * 1000;
    const stable = (e.stable ?? DEFAULT_STABLE) * 1000;
    let held: string | undefined;
    let since = 0;
    for (;;) {
        const h = await holders(e);
        const now = Date.now();
        if (h.length !== 1) held = undefined;
        else if (h[0] !== held) [held, since] = [h[0], now];
        if (held !== undefined && now - since >= stable) return held;
        if (now >= deadline) {
            if (held !== undefined) return held;
            throw new ElectionUnsettled(e.address, h, e.nodes, e.seconds);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
}

type Inputs = Record<string, any>;
const identity = (v: Inputs) => JSON.stringify([v.address, (v.nodes ?? []).map((n: ElectionNode) => [n.name, n.connection?.host, n.connection?.port ?? 22])]);

export const vrrpElection: KindImpl = {
    async check(_olds, news) {
        const errs: Problem[] = [];
        const v = normalize(news, errs);
        const shown = errs.filter((p) => !holdsUnknown(p.value));
        if (shown.length || !v) return { inputs: news, failures: checkFailures(shown, news, [...ELECTION_PROPS]) };
        return { inputs: { ...news, address: v.address } };
    },
    async diff(_id, olds, news) {
        const changed = identity(olds) !== identity(news) || olds.seconds !== news.seconds || olds.revision !== news.revision
            || JSON.stringify(olds.nodes) !== JSON.stringify(news.nodes);
        // A holder that read did not find single: refresh shows it (the engine diffs what read found
        // against the inputs), and up waits for the election again. A VIP that moved to another single
        // holder (a failover) is VRRP at work, not drift: read records it and nothing changes.
        const unsettled = typeof olds.holder !== "string";
        return { changes: changed || unsettled, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        const holder = await elect(inputs as VrrpElectionSpec);
        return { id: `vrrp/${inputs.address}`, outs: { ...inputs, holder, holders: [holder] } };
    },
    async read(id, props) {
        const h = await holders(props as VrrpElectionSpec);
        return { id, props: { ...props, holder: h.length === 1 ? h[0] : null, holders: h } };
    },
    async update(_id, _olds, news) {
        const holder = await elect(news as VrrpElectionSpec);
        return { outs: { ...news, holder, holders: [holder] } };
    },
    async delete() {
        // Owns nothing on the hosts.
    },
};
