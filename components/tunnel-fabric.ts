import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { FdbSet, InterfaceAddress, RouteSet, VxlanLink } from "../provider/resources";
import { FABRIC_DEFAULTS, legacyRuleNameParts, naturalCompare, NodePlan, planRules, planTunnelFabric, TunnelFabricFields, TunnelFabricSpec, validateTunnelFabric } from "./render/fabric";
import { checkNamespace, LIQO_API_VERSION, routeConfigurationNames, routeConfigurationsOf } from "./render/routeconfiguration";
import { stringMap } from "../common/names";
import { described, Problem } from "../common/problems";
import { checkedConnection, checkNodeConnections, Planned, validateOnce, via, withoutConnections } from "./validate";
import { NodeArgs, NODE_PROPS } from "./nodes";

/**
 * A TunnelFabric node: the shared NodeArgs. TunnelFabric uses name, address
 * (the VXLAN `local`, IPv4), interface (the link's underlay `dev`),
 * overlayAddress (required), pods and connection; priority is accepted and
 * not used.
 */
export type TunnelFabricNode = NodeArgs;

/** The fabric's fields that may be Inputs: they shape no resource name. */
/** The fabric's fields (TunnelFabricFields), and the component's own. */
export interface TunnelFabricArgs extends TunnelFabricFields {
    /**
     * The fabric's nodes, at least 2; each gets a VxlanLink, an FdbSet and a
     * RouteSet (the fabric table's routes and the rules that select it). The list, the names and the number of pods per
     * node are plain (they name the resources); addresses may be Outputs.
     */
    nodes: NodeArgs[];
    /**
     * Also emit the same intent as Liqo RouteConfiguration objects
     * (networking.liqo.io/v1beta1) in this namespace, through the
     * component's kubernetes provider: "tunnel-fabric-<vni>-node-gw" for the
     * nodes and one "tunnel-fabric-<vni>-<node>-gw-node" per non-active node
     * with pods, for the gateway. The namespace must exist (Liqo's is "liqo").
     * Default: absent (no Kubernetes objects).
     */
    routeConfigurationNamespace?: string;
    /** Annotations added to every RouteConfiguration. Default: none. */
    routeConfigurationAnnotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/** Problems with the args: the fabric's (validateTunnelFabric), its nodes' connections and its RouteConfigurations'. */
export function validateTunnelFabricArgs(a: TunnelFabricArgs, arg = "args"): Problem[] {
    const { nodes, routeConfigurationNamespace, routeConfigurationAnnotations, ...rest } = a;
    // The nodes go to the fabric's check with their connections, which it knows as one more property and leaves alone.
    const errs = validateTunnelFabric({ ...rest, nodes } as TunnelFabricSpec, arg, { nodeProps: NODE_PROPS });
    if (errs.some((p) => p.path === arg)) return errs;
    if (routeConfigurationNamespace !== undefined) checkNamespace(`${arg}.routeConfigurationNamespace`, routeConfigurationNamespace, errs);
    stringMap(`${arg}.routeConfigurationAnnotations`, routeConfigurationAnnotations, false, errs);
    checkNodeConnections(`${arg}.nodes`, nodes, errs);
    return errs;
}

/**
 * A Liqo-style fabric (seed 003): per node a unicast VXLAN link with learning
 * off and static FDB entries to every other node's VTEP; a routing table
 * (default 18952) with policy rules and routes that send cross-cluster
 * traffic to the active gateway's overlay address; on gateway nodes, per-pod
 * routes back toward the right VTEP. Changing `activeGateway` moves the rules
 * and routes in one `up`; links and FDB entries stay.
 */
// The child resources, behind getters: Pulumi's schema inference for component packages takes every
// class property for an output, and a child resource has no type in a schema (see RoutedSubnet).
interface FabricChildren {
    links: VxlanLink[];
    fdbs: FdbSet[];
    routes: RouteSet[];
    routeConfigurations: k8s.apiextensions.CustomResource[];
    gatewayAddresses: InterfaceAddress[];
}
const children = new WeakMap<TunnelFabric, FabricChildren>();

export class TunnelFabric extends pulumi.ComponentResource {
    /** args.activeGateway: the node the fabric currently routes through (a plain string, also registered as an output). */
    public readonly activeGateway: string;
    /** The VxlanLink resources, one per node in natural node-name order (node2 before node10). */
    get links(): VxlanLink[] { return children.get(this)!.links; }
    /** The FdbSet resources (the static all-zero-MAC entries to the other VTEPs), in the order of `links`. */
    get fdbs(): FdbSet[] { return children.get(this)!.fdbs; }
    /**
     * The RouteSet resources of the fabric table, in the order of `links`:
     * each holds the node's routes of the table and its policy rules (a
     * move is one update of each gateway's set, no rule resource created or
     * deleted).
     */
    get routes(): RouteSet[] { return children.get(this)!.routes; }
    /** With gatewayAddress: one InterfaceAddress per gateway candidate in the order of `links`, held by the active gateway's. */
    get gatewayAddresses(): InterfaceAddress[] { return children.get(this)!.gatewayAddresses; }
    /** The RouteConfiguration custom resources, when routeConfigurationNamespace is given. */
    get routeConfigurations(): k8s.apiextensions.CustomResource[] { return children.get(this)!.routeConfigurations; }

    constructor(name: string, args: TunnelFabricArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:TunnelFabric", name, {}, opts);
        const { args: a, known, now } = validateOnce<TunnelFabricArgs>(
            this, "TunnelFabric", name, args, (a) => validateTunnelFabricArgs(a as unknown as TunnelFabricArgs));
        const { nodes, routeConfigurationNamespace, routeConfigurationAnnotations: _a, ...structure } = a;
        this.activeGateway = a.activeGateway;
        const own: FabricChildren = { links: [], fdbs: [], routes: [], routeConfigurations: [], gatewayAddresses: [] };
        children.set(this, own);
        const what = described("TunnelFabric", name);
        const conns = new Map(nodes.map((n, i) => [n.name, checkedConnection(this, what, `args.nodes[${i}].connection`, n.connection, n.name)]));
        const specOf = ({ nodes: resolved, routeConfigurationNamespace: _n, routeConfigurationAnnotations: _a, ...rest }: pulumi.Unwrap<TunnelFabricArgs>) =>
            ({ ...rest, nodes: withoutConnections(resolved) }) as TunnelFabricSpec;
        const spec = known.apply(specOf);
        const planAll = (s: TunnelFabricSpec) => new Map(planTunnelFabric(s).map((p) => [p.node, p]));
        // Planned now when the fabric's fields are plain, so the children take plain values.
        const plain = now(Object.keys(a).filter((k) => k !== "routeConfigurationAnnotations") as (keyof TunnelFabricArgs & string)[]);
        const plans: Planned<Map<string, NodePlan>> = plain ? planAll(specOf(plain as pulumi.Unwrap<TunnelFabricArgs>)) : spec.apply(planAll);
        const table = a.table ?? FABRIC_DEFAULTS.table;
        // Version 0.1 gave each rule a Rule resource of its own; their deletes, the last steps of the first
        // up of this version, leave the rules the RouteSets took over.
        const legacyRules = legacyRuleNameParts(structure);
        const linkName = a.linkName ?? FABRIC_DEFAULTS.linkName;

        // The engine generates steps one registration at a time, in the order they reach it, and a
        // node's objects are registered only once its link's step is done. Were every link
        // registered at once, the gateways' objects, which are what a move changes, would queue
        // behind every other node's link, and their round trips would start when the engine is
        // nearly done (at 32 nodes, 1.7 s in). So the gateway candidates come first, and the other
        // links wait for theirs: the gateways' hosts work while the engine goes through the rest.
        const names = nodes.map((n) => n.name).sort(naturalCompare);
        const candidate = (n: string) => a.gatewayNodes.includes(n);
        type NodeChildren = Omit<FabricChildren, "routeConfigurations">;
        const byNode = new Map<string, NodeChildren>();
        const candidateLinks: VxlanLink[] = [];
        for (const node of [...names.filter(candidate), ...names.filter((n) => !candidate(n))]) {
            const mine: NodeChildren = { links: [], fdbs: [], routes: [], gatewayAddresses: [] };
            byNode.set(node, mine);
            const connection = conns.get(node)!;
            const plan = via(plans, (p) => p.get(node)!);
            const base = `${name}-${node}`;
            const l = via(plan, (p) => p.link);
            const link = new VxlanLink(`${base}-link`, {
                connection, name: linkName, vni: l.vni, dstport: l.dstport, local: l.local, dev: l.dev, mtu: l.mtu,
                learning: l.learning, addresses: l.addresses, up: l.up, otherAddresses: l.otherAddresses,
            }, { parent: this, dependsOn: candidate(node) ? [] : candidateLinks });
            if (candidate(node)) candidateLinks.push(link);
            mine.links.push(link);
            const after = { parent: this, dependsOn: [link] };
            // Nothing waits for it: a move updates two of these while the rest of the fabric goes ahead.
            if (a.gatewayAddress !== undefined && candidate(node)) {
                const g = via(plan, (p) => p.gatewayAddress!);
                mine.gatewayAddresses.push(new InterfaceAddress(`${base}-gateway-address`, {
                    connection, dev: g.dev, address: g.address, held: g.held, announce: g.announce,
                }, after));
            }
            mine.fdbs.push(new FdbSet(`${base}-fdb`, { connection, dev: linkName, entries: via(plan, (p) => p.fdb.map(({ dev: _d, ...e }) => e)) }, after));
            mine.routes.push(new RouteSet(`${base}-routes`, {
                connection, table, routes: via(plan, (p) => p.routes.map(({ table: _t, ...r }) => r)),
                rules: planRules(structure, node).map(({ table: _t, ...r }) => r),
                takeOverRules: legacyRules.map((part) => `${base}-rule-${part}`),
            }, after));
        }
        // The getters keep natural node order, whatever the order of registration.
        for (const node of names) {
            const mine = byNode.get(node)!;
            for (const k of Object.keys(mine) as (keyof NodeChildren)[]) (own[k] as unknown[]).push(...mine[k]);
        }
        if (routeConfigurationNamespace) {
            const rcs = pulumi.all([spec, known]).apply(([s, k]) => new Map(routeConfigurationsOf(s, routeConfigurationNamespace).map((rc) => {
                const meta = rc.metadata as { name: string; annotations?: Record<string, string> };
                if (k.routeConfigurationAnnotations) meta.annotations = { ...meta.annotations, ...k.routeConfigurationAnnotations };
                return [meta.name, rc];
            })));
            for (const rcName of routeConfigurationNames(a)) {
                const rc = rcs.apply((m) => m.get(rcName)!);
                own.routeConfigurations.push(new k8s.apiextensions.CustomResource(`${name}-${rcName}`, {
                    apiVersion: LIQO_API_VERSION,
                    kind: "RouteConfiguration",
                    metadata: rc.apply((x) => x.metadata as k8s.types.input.meta.v1.ObjectMeta),
                    spec: rc.apply((x) => x.spec),
                }, { parent: this }));
            }
        }
        this.registerOutputs({ activeGateway: this.activeGateway });
    }
}
