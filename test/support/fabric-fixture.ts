import type { TunnelFabricSpec } from "../../components/render/fabric";

/**
 * The lab's three nodes (192.168.2.10-12 on eth0, pods 10.166.<i>.10/.11).
 * Overlay 172.29.0.0/24: private (RFC 1918) and clear of the lab's
 * 172.30.0.0/16 (ovn0) and 172.31.0.0/24 (datapath tunnel).
 * node3 is not a gateway candidate, so it shows the plain node role.
 */
export function threeNodes(activeGateway = "node1"): TunnelFabricSpec {
    return {
        nodes: [1, 2, 3].map((i) => ({
            name: `node${i}`,
            address: `192.168.2.${9 + i}`,
            overlayAddress: `172.29.0.${i}`,
            interface: "eth0",
            pods: [`10.166.${i}.10`, `10.166.${i}.11`],
        })),
        gatewayNodes: ["node1", "node2"],
        activeGateway,
        remoteCidrs: ["10.200.0.0/16", "10.201.0.0/16"],
        overlayCidr: "172.29.0.0/24",
    };
}
