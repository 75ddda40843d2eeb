import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput } from "../provider/resources";

/**
 * A host of the cluster, in the one shape all the components take: define
 * the nodes once and pass the same list to RoutedSubnet, GatewayVip and
 * TunnelFabric. A component ignores the fields it does not use (listed
 * below); a property that is none of these is refused as unknown.
 */
export interface NodeArgs {
    /**
     * The Kubernetes node name: a DNS-1123 subdomain, unique. A plain string,
     * not an Input: it names the child resources (the resource graph must be
     * known before any value is), and gatewayNode/gatewayNodes refer to it.
     */
    name: string;
    /**
     * The node's IP address on the segment it shares with its peers and the
     * other nodes, e.g. "192.168.2.10": the default next hop of a
     * RoutedSubnet's return routes, keepalived's unicast source and peer
     * address for GatewayVip (IPv4), the VXLAN `local` and the other nodes'
     * FDB `dst` for TunnelFabric (IPv4). May be an Output (a StackReference's
     * or another resource's); it is checked once known.
     */
    address: pulumi.Input<string>;
    /**
     * The interface that carries `address`, e.g. "eth0". GatewayVip: required,
     * the interface keepalived adds the VIP to. TunnelFabric: the VXLAN link's
     * underlay `dev` (absent: not bound). RoutedSubnet: not used.
     */
    interface?: pulumi.Input<string>;
    /**
     * How to reach the node over SSH (shaped like @pulumi/command's
     * remote.ConnectionArgs, plus sudo and commandTimeout; host key pinned).
     * Kept secret in the state.
     */
    connection: pulumi.Input<ConnectionInput>;
    /** GatewayVip only: the node's VRRP priority (see GatewayVip). Not used by the other components. */
    priority?: pulumi.Input<number>;
    /** TunnelFabric only, and required there: the node's address on the VXLAN link, inside overlayCidr. */
    overlayAddress?: pulumi.Input<string>;
    /**
     * TunnelFabric only: IPv4 addresses of the pods on this node that the
     * gateways route back to. The list's length is plain (a node with pods
     * gets a Liqo RouteConfiguration of its own); each address may be an
     * Output.
     */
    pods?: pulumi.Input<string>[];
}

/** Every property of NodeArgs: each component accepts them all and uses its own. */
export const NODE_PROPS = ["name", "address", "interface", "connection", "priority", "overlayAddress", "pods"] as const;
