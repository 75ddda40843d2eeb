import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput, Keepalived } from "../provider/resources";
import { GatewayVipSpec, planGatewayVip, validateGatewayVip, VipNode } from "./render/keepalived";
import { assertValid, withoutConnections } from "./validate";
import { claimVrrp } from "./claims";
import * as net from "../provider/kinds/net";

export interface GatewayVipNode extends VipNode {
    /**
     * How to reach the node over SSH to write keepalived.conf and run
     * keepalived (shaped like @pulumi/command's remote.ConnectionArgs, plus
     * sudo). Kept secret in the state.
     */
    connection: pulumi.Input<ConnectionInput>;
}

export interface GatewayVipArgs extends Omit<GatewayVipSpec, "nodes" | "authPass"> {
    /**
     * The nodes that share the VIP, at least 2; the first is the preferred
     * master unless priorities say otherwise. They should be among the
     * RoutedSubnet's nodes: the VIP holder forwards the return traffic, so it
     * needs ip_forward and the FORWARD accepts, which GatewayVip does not set.
     */
    nodes: GatewayVipNode[];
    /**
     * VRRP PASS authentication, 1..8 characters (keepalived silently truncates
     * longer ones), e.g. `cfg.requireSecret("vrrpPass")`. May be a secret
     * Output: it is checked when known, kept secret in the state and written
     * in a 0600 file. Default: absent (no authentication).
     */
    authPass?: pulumi.Input<string>;
    /**
     * Absolute path of keepalived.conf on each node. Default
     * /etc/keepalived/keepalived.conf. An existing file there with other
     * content stops `up` (the component does not adopt it): use another path.
     * Changing it replaces the instance (stop, then start with the new file).
     */
    configPath?: string;
}

/** Problems with the args: the spec's (validateGatewayVip) and the component's own. */
export function validateGatewayVipArgs(a: GatewayVipArgs, spec: GatewayVipSpec, arg = "args"): string[] {
    const errs = validateGatewayVip(spec, arg);
    if (a.configPath !== undefined) net.absolutePath(`${arg}.configPath`, a.configPath, errs);
    return errs;
}

/**
 * A keepalived VRRP virtual address over several nodes, to use as the next
 * hop of return routes so that no single node is a point of failure (seed
 * 000's keepalived note). Unicast VRRP, since many clouds drop multicast.
 * A backup takes over about 3 x advertInt after the master dies; a graceful
 * stop hands over at once.
 */
export class GatewayVip extends pulumi.ComponentResource {
    /** The virtual address, without prefix: give it to RoutedSubnet or ExternalReturnRoute as nextHop. */
    public readonly address: pulumi.Output<string>;
    /** The Keepalived resources, one per node in `nodes` order (config file and daemon; `running` turns false after a refresh finds the daemon gone). */
    public readonly instances: Keepalived[] = [];

    constructor(name: string, args: GatewayVipArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:GatewayVip", name, {}, opts);
        const { nodes, authPass, configPath, ...rest } = args;
        const spec = (pass?: string): GatewayVipSpec => ({
            ...rest,
            nodes: withoutConnections(nodes),
            ...(pass !== undefined ? { authPass: pass } : {}),
        });
        // The password may be a secret Output; everything else (and a plain password) is checked now, at preview.
        assertValid("GatewayVip", name, validateGatewayVipArgs(args, spec(typeof authPass === "string" ? authPass : undefined)));
        assertValid("GatewayVip", name, claimVrrp(name, args));
        const configs = pulumi.output(authPass).apply((pass) => {
            assertValid("GatewayVip", name, validateGatewayVip(spec(pass)));
            return Object.fromEntries(planGatewayVip(spec(pass)).map((p) => [p.node, p.config]));
        });
        for (const n of nodes) {
            this.instances.push(new Keepalived(`${name}-${n.name}`, {
                connection: n.connection,
                config: configs.apply((c) => c[n.name]),
                ...(configPath ? { configPath } : {}),
            }, { parent: this }));
        }
        this.address = pulumi.output(args.vip.split("/")[0]);
        this.registerOutputs({ address: this.address });
    }
}
