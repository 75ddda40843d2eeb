/**
 * The lab's stand-in for the part of Kube-OVN's controller that reacts to a
 * Subnet: for a centralized gateway, OVN's policy routes send the subnet's
 * traffic that leaves the cluster to the active gateway node's ovn0, so it
 * enters and leaves the cluster through that node. The lab has no OVN, so the
 * same steering is made with policy routing in every other node's "-ovs"
 * namespace: replies from a pod on node2 cross the tunnel to node1's datapath
 * and leave by node1's eth0, exactly as they would with Kube-OVN.
 *
 * Only lab namespaces are touched; the plan is a pure function of the Subnet
 * objects and the topology, so it is unit-tested without the lab.
 */
import { execArgv } from "../provider/transport/exec";
import { addressOf, HostSpec, Topology } from "./topology";
import { gatewayNodeNames } from "../components/render/subnet";

/** The subset of a kubeovn.io/v1 Subnet the lab datapath acts on. */
export interface SubnetObject {
    metadata: { name: string };
    spec?: { cidrBlock?: string; gatewayType?: string; gatewayNode?: string; enableEcmp?: boolean };
    status?: { activateGateway?: string };
}

export interface EgressSteering {
    /** The "-ovs" namespace of a node that is not an active gateway. */
    netns: string;
    subnet: string;
    cidr: string;
    table: number;
    /** Tunnel addresses of the active gateways' datapaths (several with enableEcmp). */
    via: string[];
}

/** Tables and priorities the lab owns inside the ovs namespaces (nothing else uses them there). */
export const EGRESS_TABLE_BASE = 1000;
export const PRIO_LOCAL = 999;
export const PRIO_EGRESS = 1000;

/**
 * Kube-OVN's choice of gateway for a centralized subnet: the first ready
 * node of gatewayNode ("node" or "node:ip", comma-separated), or all of them
 * with enableEcmp. A lab node is ready while its datapath is (`healthy`:
 * every node when not given); names that are not lab nodes are ignored as
 * Kube-OVN ignores unknown nodes. Keyed by subnet name, in name order.
 */
export function activeGateways(subnets: SubnetObject[], t: Topology, healthy?: ReadonlySet<string>): Map<string, HostSpec[]> {
    const nodes = t.hosts.filter((h) => h.node && (!healthy || healthy.has(h.name)));
    const out = new Map<string, HostSpec[]>();
    subnets
        .filter((s) => s.spec?.gatewayType === "centralized" && s.spec.cidrBlock && s.spec.gatewayNode)
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
        .forEach((s) => {
            const ready = gatewayNodeNames(s.spec!.gatewayNode).map((w) => nodes.find((n) => n.name === w)).filter((n): n is HostSpec => !!n);
            out.set(s.metadata.name, s.spec!.enableEcmp ? ready : ready.slice(0, 1));
        });
    return out;
}

/**
 * What status.activateGateway says for each centralized subnet, as Kube-OVN
 * writes it: the active gateway node's name ("" when none is ready; the
 * active nodes comma-separated with enableEcmp).
 */
export function activateGatewayStatus(subnets: SubnetObject[], t: Topology, healthy?: ReadonlySet<string>): Map<string, string> {
    return new Map([...activeGateways(subnets, t, healthy)].map(([name, active]) => [name, active.map((h) => h.name).join(",")]));
}

/** The steering that sends each centralized subnet's egress from every other node to its active gateways. */
export function planEgress(subnets: SubnetObject[], t: Topology, healthy?: ReadonlySet<string>): EgressSteering[] {
    const nodes = t.hosts.filter((h) => h.node);
    const out: EgressSteering[] = [];
    const byName = new Map(subnets.map((s) => [s.metadata.name, s]));
    [...activeGateways(subnets, t, healthy)].forEach(([name, active], i) => {
        if (active.length === 0) return;
        // Only IPv4 CIDRs: the lab's datapath carries IPv4.
        const cidrs = byName.get(name)!.spec!.cidrBlock!.split(",").map((c) => c.trim()).filter((c) => !c.includes(":"));
        for (const n of nodes) {
            // A node whose datapath failed can steer nothing (its tunnel is down), as in Kube-OVN's OVN.
            if (active.includes(n) || (healthy && !healthy.has(n.name))) continue;
            for (const cidr of cidrs) {
                out.push({
                    netns: n.node!.ovsNetns,
                    subnet: name,
                    cidr,
                    table: EGRESS_TABLE_BASE + 1 + i,
                    via: active.map((a) => addressOf(a.node!.tunnelAddress)),
                });
            }
        }
    });
    return out;
}

/** The names of the nodes whose datapath works: its links to the host (ovn0) and to the other nodes (tun0) are up. */
export async function healthyNodes(t: Topology): Promise<Set<string>> {
    const out = new Set<string>();
    for (const h of t.hosts.filter((x) => x.node)) {
        const res = await ip(h.node!.ovsNetns, "-j", "link", "show");
        if (res.code !== 0) continue;
        const links = JSON.parse(res.stdout) as { ifname: string; flags?: string[] }[];
        const up = (name: string) => links.some((l) => l.ifname === name && (l.flags ?? []).includes("UP"));
        if (up("ovn0") && up("tun0")) out.add(h.name);
    }
    return out;
}

const ip = (netns: string, ...args: string[]) => execArgv(["ip", "-n", netns, ...args], { allowFailure: true });
const mustIp = (netns: string, ...args: string[]) => execArgv(["ip", "-n", netns, ...args], { context: `lab datapath: ${netns}` });

/** Replaces whatever steering the lab installed before with `plan`. */
export async function applyEgress(plan: EgressSteering[], t: Topology): Promise<void> {
    for (const h of t.hosts.filter((x) => x.node)) {
        const ns = h.node!.ovsNetns;
        for (const pref of [PRIO_LOCAL, PRIO_EGRESS]) {
            // `ip rule del pref N` removes one rule per call; stop when none is left.
            for (let i = 0; i < 256 && (await ip(ns, "rule", "del", "pref", String(pref))).code === 0; i++);
        }
        const tables = await ip(ns, "-j", "route", "show", "table", "all");
        const ours = new Set<number>();
        for (const r of tables.stdout.trim() ? (JSON.parse(tables.stdout) as { table?: string }[]) : []) {
            const n = Number(r.table);
            if (n > EGRESS_TABLE_BASE && n < EGRESS_TABLE_BASE + 1000) ours.add(n);
        }
        for (const table of ours) await ip(ns, "route", "flush", "table", String(table));
    }
    for (const s of plan) {
        const hops = s.via.length === 1
            ? ["via", s.via[0], "dev", "tun0"]
            : s.via.flatMap((v) => ["nexthop", "via", v, "dev", "tun0"]);
        await mustIp(s.netns, "route", "replace", "default", "table", String(s.table), ...hops);
        // Traffic to the cluster's own pods and nodes keeps the main table's routes; only what would
        // take the default route (leaving the cluster) goes to the gateway.
        await mustIp(s.netns, "rule", "add", "pref", String(PRIO_LOCAL), "from", s.cidr, "lookup", "main", "suppress_prefixlength", "0");
        await mustIp(s.netns, "rule", "add", "pref", String(PRIO_EGRESS), "from", s.cidr, "lookup", String(s.table));
    }
}
