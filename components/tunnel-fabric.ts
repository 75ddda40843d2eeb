import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ConnectionInput, FdbSet, RouteSet, Rule, VxlanLink } from "../provider/resources";
import { FABRIC_DEFAULTS, FabricNode, planTunnelFabric, TunnelFabricSpec, validateTunnelFabric } from "./render/fabric";
import { checkNamespace, routeConfigurationsOf } from "./render/routeconfiguration";
import { stringMap } from "../common/names";
import { described, Problem } from "../common/problems";
import { checkedConnection, checkNodeConnections, validateOnce, withoutConnections } from "./validate";

export interface TunnelFabricNode extends FabricNode {
    /**
     * How to reach the node over SSH to manage its link, FDB entries, rules and
     * routes (shaped like @pulumi/command's remote.ConnectionArgs, plus sudo).
     * Kept secret in the state.
     */
    connection: pulumi.Input<ConnectionInput>;
}

export interface TunnelFabricArgs extends Omit<TunnelFabricSpec, "nodes"> {
    /** The fabric's nodes, at least 2 (see FabricNode); each gets a VxlanLink, an FdbSet, a RouteSet and its Rules. */
    nodes: TunnelFabricNode[];
    /**
     * Also emit the same intent as Liqo RouteConfiguration objects
     * (networking.liqo.io/v1beta1) in this namespace, through the
     * component's kubernetes provider: "tunnel-fabric-<vni>-node-gw" for the
     * nodes and one "tunnel-fabric-<vni>-<node>-gw-node" per non-active node
     * with pods, for the gateway. The namespace must exist (Liqo's is "liqo").
     * Default: absent (no Kubernetes objects).
     */
    routeConfigurationNamespace?: string;
    /** Annotations added to every RouteConfiguration (e.g. pulumi.com/deletionPropagationPolicy). Default: none. */
    routeConfigurationAnnotations?: Record<string, string>;
}

/** Problems with the args: the fabric's (validateTunnelFabric), its nodes' connections and its RouteConfigurations'. */
export function validateTunnelFabricArgs(a: TunnelFabricArgs, arg = "args"): Problem[] {
    const { nodes, routeConfigurationNamespace, routeConfigurationAnnotations, ...rest } = a;
    // The nodes go to the fabric's check with their connections, which it knows as one more property and leaves alone.
    const errs = validateTunnelFabric({ ...rest, nodes } as TunnelFabricSpec, arg, { nodeProps: ["connection"] });
    if (errs.some((p) => p.path === arg)) return errs;
    if (routeConfigurationNamespace !== undefined) checkNamespace(`${arg}.routeConfigurationNamespace`, routeConfigurationNamespace, errs);
    stringMap(`${arg}.routeConfigurationAnnotations`, routeConfigurationAnnotations, false, errs);
    checkNodeConnections(`${arg}.nodes`, nodes, errs);
    return errs;
}

/** A name part made of a CIDR or address: "/" and ":" are not welcome in resource names. */
const slug = (s: string) => s.replace(/[/:]/g, "_");

/**
 * A Liqo-style fabric (seed 003): per node a unicast VXLAN link with learning
 * off and static FDB entries to every other node's VTEP; a routing table
 * (default 18952) with policy rules and routes that send cross-cluster
 * traffic to the active gateway's overlay address; on gateway nodes, per-pod
 * routes back toward the right VTEP. Changing `activeGateway` moves the rules
 * and routes in one `up`; links and FDB entries stay.
 */
export class TunnelFabric extends pulumi.ComponentResource {
    /** args.activeGateway: the node the fabric currently routes through (a plain string, also registered as an output). */
    public readonly activeGateway: string;
    /** The VxlanLink resources, one per node in natural node-name order (node2 before node10). */
    public readonly links: VxlanLink[] = [];

    constructor(name: string, args: TunnelFabricArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:TunnelFabric", name, {}, opts);
        const { nodes, routeConfigurationNamespace, routeConfigurationAnnotations, ...rest } = validateOnce<TunnelFabricArgs>(
            this, "TunnelFabric", name, args, (a) => validateTunnelFabricArgs(a as unknown as TunnelFabricArgs));
        const spec: TunnelFabricSpec = { ...rest, nodes: withoutConnections(nodes) };
        this.activeGateway = spec.activeGateway;
        const what = described("TunnelFabric", name);
        const conns = new Map(nodes.map((n, i) => [n.name, checkedConnection(this, what, `args.nodes[${i}].connection`, n.connection, n.name)]));

        for (const plan of planTunnelFabric(spec)) {
            const connection = conns.get(plan.node)!;
            const base = `${name}-${plan.node}`;
            const link = new VxlanLink(`${base}-link`, { connection, ...plan.link }, { parent: this });
            this.links.push(link);
            const after = { parent: this, dependsOn: [link] };
            new FdbSet(`${base}-fdb`, { connection, dev: plan.link.name, entries: plan.fdb.map(({ dev: _d, ...e }) => e) }, after);
            const table = rest.table ?? FABRIC_DEFAULTS.table;
            new RouteSet(`${base}-routes`, { connection, table, routes: plan.routes.map(({ table: _t, ...r }) => r) }, after);
            // Named by selector, so moving the gateway adds and removes rules instead of rewriting all of them.
            for (const r of plan.rules) {
                const sel = [r.from && `from-${slug(r.from)}`, r.to && `to-${slug(r.to)}`, r.iif && `iif-${r.iif}`].filter(Boolean).join("-");
                new Rule(`${base}-rule-${sel}`, { connection, ...r }, after);
            }
        }
        if (routeConfigurationNamespace) {
            for (const rc of routeConfigurationsOf(spec, routeConfigurationNamespace)) {
                const meta = rc.metadata as { name: string; annotations?: Record<string, string> };
                if (routeConfigurationAnnotations) meta.annotations = { ...meta.annotations, ...routeConfigurationAnnotations };
                new k8s.apiextensions.CustomResource(`${name}-${meta.name}`, rc as any, { parent: this });
            }
        }
        this.registerOutputs({ activeGateway: this.activeGateway });
    }
}
