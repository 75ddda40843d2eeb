/**
 * The lab's topology as plain data: a pure function of the options, so tests
 * and the lab scripts agree on every name and address without reading each other.
 *
 * Seed layout (Kube-OVN "Interconnection with Routes in Overlay Mode"):
 *   L2 192.168.2.0/24: node1 .10, node2 .11, ... , peer .100, router .1
 *   router eth1 192.168.3.1/24 <-> remote .100 (a second L2 behind the router)
 *   management 198.18.0.0/24 from the machine's namespace (198.18.0.1) to every host
 * Each node is two namespaces: the host itself and "<node>-ovs", which stands in
 * for Kube-OVN's datapath (OVS/OVN): the host reaches it through ovn0 like a real
 * node, and the ovs namespaces of all nodes are joined by a tunnel (VXLAN on
 * UDP 6081 stands in for Geneve, which this kernel lacks).
 */

export const NETNS_PREFIX = "ro-";

export interface LabOptions {
    nodes: number;
    podsPerNode: number;
    /** Pod subnets every lab pod gets one address in (one per seed scenario). */
    podCidrs: { cidr: string; prefix: string }[];
}

export const DEFAULT_OPTIONS: LabOptions = {
    nodes: 3,
    podsPerNode: 2,
    podCidrs: [
        { cidr: "10.166.0.0/16", prefix: "10.166" },
        { cidr: "100.64.0.0/16", prefix: "100.64" },
    ],
};

export type Role = "node" | "peer" | "router" | "remote";

export interface PodSpec {
    name: string;
    netns: string;
    /** Interface name of the pod's veth end inside the node's ovs namespace. */
    ovsIf: string;
    addresses: string[];
}

export interface HostSpec {
    name: string;
    role: Role;
    netns: string;
    /** Management address: where sshd listens. */
    mgmt: string;
    /** Interfaces with their CIDR-notation address. */
    interfaces: Record<string, string>;
    /** Present for role "node". */
    node?: {
        index: number;
        ovsNetns: string;
        /** The host's end of its link to the datapath (Kube-OVN's ovn0). */
        ovn0: string;
        tunnelAddress: string;
        pods: PodSpec[];
    };
}

export interface Topology {
    options: LabOptions;
    mgmtNetns: string;
    switchNetns: string;
    mgmtLink: { name: string; address: string; cidr: string };
    hosts: HostSpec[];
    datapathGateway: string;
    tunnel: { vni: number; port: number; cidr: string };
}

export const MGMT_CIDR = "198.18.0.0/24";
/** The machine's end of the management link. */
export const MGMT_ADDRESS = "198.18.0.1";

export function nodeName(i: number): string {
    return `node${i}`;
}

export function buildTopology(options: LabOptions = DEFAULT_OPTIONS): Topology {
    if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 80) {
        throw new Error(`lab: nodes must be an integer from 1 to 80, got ${options.nodes}`);
    }
    if (!Number.isInteger(options.podsPerNode) || options.podsPerNode < 0 || options.podsPerNode > 200) {
        throw new Error(`lab: podsPerNode must be an integer from 0 to 200, got ${options.podsPerNode}`);
    }
    const hosts: HostSpec[] = [];
    for (let i = 1; i <= options.nodes; i++) {
        const name = nodeName(i);
        const pods: PodSpec[] = [];
        for (let j = 0; j < options.podsPerNode; j++) {
            const pod = `p${j}`;
            pods.push({
                name: `${name}-${pod}`,
                netns: `${NETNS_PREFIX}${name}-${pod}`,
                ovsIf: pod,
                addresses: options.podCidrs.map((c) => `${c.prefix}.${i}.${10 + j}`),
            });
        }
        hosts.push({
            name,
            role: "node",
            netns: `${NETNS_PREFIX}${name}`,
            mgmt: `198.18.0.${10 + i}`,
            interfaces: { eth0: `192.168.2.${9 + i}/24` },
            node: {
                index: i,
                ovsNetns: `${NETNS_PREFIX}${name}-ovs`,
                ovn0: `172.30.0.${1 + i}/16`,
                tunnelAddress: `172.31.0.${i}/24`,
                pods,
            },
        });
    }
    hosts.push({ name: "peer", role: "peer", netns: `${NETNS_PREFIX}peer`, mgmt: "198.18.0.200", interfaces: { eth0: "192.168.2.100/24" } });
    hosts.push({
        name: "router",
        role: "router",
        netns: `${NETNS_PREFIX}router`,
        mgmt: "198.18.0.201",
        interfaces: { eth0: "192.168.2.1/24", eth1: "192.168.3.1/24" },
    });
    hosts.push({ name: "remote", role: "remote", netns: `${NETNS_PREFIX}remote`, mgmt: "198.18.0.202", interfaces: { eth0: "192.168.3.100/24" } });
    return {
        options,
        mgmtNetns: `${NETNS_PREFIX}mgmt`,
        switchNetns: `${NETNS_PREFIX}sw1`,
        mgmtLink: { name: "ro-mgmt0", address: MGMT_ADDRESS, cidr: MGMT_CIDR },
        hosts,
        datapathGateway: "172.30.0.1",
        tunnel: { vni: 100, port: 6081, cidr: "172.31.0.0/24" },
    };
}

/** Every network namespace of the topology, in creation order. */
export function allNetns(t: Topology): string[] {
    const out = [t.mgmtNetns, t.switchNetns];
    for (const h of t.hosts) {
        out.push(h.netns);
        if (h.node) {
            out.push(h.node.ovsNetns, ...h.node.pods.map((p) => p.netns));
        }
    }
    return out;
}

export function addressOf(cidr: string): string {
    return cidr.split("/")[0];
}
