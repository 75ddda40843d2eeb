import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ConntrackInvalidAccept, FirewallBackend, ForwardAccept, PathCheck, Sysctl } from "../provider/resources";
import * as net from "../common/net";
import { subdomain } from "../common/names";
import { described, Problem, problem } from "../common/problems";
import { gatewayNodeNames, renderSubnet, SubnetFields, SubnetSpecArgs, validateSubnetSpec } from "./render/subnet";
import { checkedConnection, requiredConnection, validateOnce } from "./validate";
import { NodeArgs, NODE_PROPS } from "./nodes";
import { checkNextHop, ExternalReturnRoute, ReturnRouteTarget, trustedReturnRouteArgs, validateReturnTargets } from "./external-return-route";
import { claimSubnet } from "./claims";
import { pathCheckArgs, PathVerifyArgs, validateVerify, verifyPath } from "./verify";

/**
 * A RoutedSubnet node: the shared NodeArgs. RoutedSubnet uses name,
 * address and connection; interface, priority, overlayAddress and pods are
 * accepted and not used.
 */
export type RoutedSubnetNode = NodeArgs;

/** The Subnet's fields (SubnetFields: some plain, some Inputs), and the component's own. */
export interface RoutedSubnetArgs extends SubnetFields {
    /** metadata.name of the Subnet (DNS-1123 subdomain). Default: the component's name. Plain: it names the Kubernetes object. */
    subnetName?: string;
    /**
     * The nodes that forward the subnet's traffic: every node for a
     * distributed gateway, at least the gateway nodes for a centralized one
     * (each gatewayNode must be listed). At least one; names unique.
     * Each gets the seed's prerequisites, owned by Pulumi: net.ipv4.ip_forward
     * 1 (plus net.ipv6.conf.all.forwarding 1 for an IPv6 CIDR, which also
     * makes the kernel ignore router advertisements on that host), restored to
     * the previous value on destroy; and per CIDR a FORWARD accept and a
     * conntrack-INVALID accept, inserted first in FORWARD.
     * The list and the names are plain (they name the child resources); the
     * addresses and connections may be Outputs.
     */
    nodes: NodeArgs[];
    /**
     * Where return routes point: an IP address of the same family as the
     * CIDR(s), typically a GatewayVip's `address`. Default: for a centralized
     * gateway the first gatewayNode's address, for a distributed one the first
     * node's; either way a single point of failure, and a warning says so.
     */
    nextHop?: pulumi.Input<string>;
    /**
     * Peers and routers outside the cluster that get the return route for every
     * CIDR of cidrBlock via nextHop (through an ExternalReturnRoute named
     * "<name>-return"). Default: none (add the routes yourself).
     */
    returnRoutes?: ReturnRouteTarget[];
    /**
     * Firewall the FORWARD and INVALID accepts go to. "auto" (default):
     * iptables (legacy or nf_tables flavour) when the host's iptables works,
     * else nftables, in the chain "inet filter forward".
     */
    firewallBackend?: FirewallBackend;
    /**
     * Check the path once everything is in place: a PathCheck
     * "<name>-verify" from `client` to the pod addresses `targets` (inside
     * cidrBlock), created after the Subnet, the prerequisites and the return
     * routes, so that `up` fails naming the first failing hop when no packet
     * gets through. The nodes' counters go into the diagnosis when the
     * client's next hop is one of them. Default: no check.
     */
    verify?: PathVerifyArgs;
}

/** The node return routes point at when nextHop is not given (see RoutedSubnet). */
function defaultNextHopNode(spec: { gatewayType?: string; gatewayNode?: string | string[] }, nodes: NodeArgs[]): NodeArgs | undefined {
    return spec.gatewayType === "centralized" ? nodes.find((n) => n.name === gatewayNodeNames(spec.gatewayNode)[0]) : nodes[0];
}

function checkNodes(arg: string, nodes: unknown, errs: Problem[]): Set<string> {
    const names = new Set<string>();
    const addresses = new Map<string, string>();
    net.list(arg, nodes, errs, 1, "nodes").forEach((n, i) => {
        const at = `${arg}[${i}]`;
        if (!net.object(at, n, NODE_PROPS, errs)) return;
        // The Kubernetes node name: gatewayNode names it, and so do the child resources.
        const nodeName = subdomain(`${at}.name`, n.name, "node name", errs);
        if (nodeName !== undefined && names.has(nodeName)) errs.push(problem(`${at}.name`, "appears twice", nodeName));
        if (nodeName !== undefined) names.add(nodeName);
        const address = net.unicastAddress(`${at}.address`, n.address, errs, "it is the next hop of return routes");
        // Two nodes with one address: the default next hop would be ambiguous, and one of them is misconfigured.
        if (address !== undefined && addresses.has(address)) errs.push(problem(`${at}.address`, `the address of ${addresses.get(address)} too`, n.address));
        else if (address !== undefined) addresses.set(address, `${at}`);
        requiredConnection(`${at}.connection`, n.connection, errs, "node", nodeName);
    });
    return names;
}

export function validateRoutedSubnet(name: string, a: RoutedSubnetArgs, arg = "args"): Problem[] {
    const { subnetName, nodes, nextHop, returnRoutes, firewallBackend, verify, ...spec } = a;
    const errs = validateSubnetSpec({ ...spec, name: subnetName ?? name } as SubnetSpecArgs, arg).map((p) =>
        // Without subnetName the Subnet is named after the component: say so, rather than blame an argument never given.
        subnetName === undefined && p.path === `${arg}.name` ? { ...p, path: "name", reason: `${p.reason}; it is the Subnet's name unless args.subnetName is given` } : p);
    if (errs.some((p) => p.path === arg)) return errs;
    const names = checkNodes(`${arg}.nodes`, nodes, errs);
    for (const g of gatewayNodeNames(spec.gatewayNode)) {
        if (!names.has(g)) errs.push(problem(`${arg}.gatewayNode`, "not among nodes (the gateway node needs the prerequisites)", g));
    }
    if (nextHop !== undefined) net.ipAddress(`${arg}.nextHop`, nextHop, errs);
    net.oneOf(`${arg}.firewallBackend`, firewallBackend, ["auto", "iptables", "nft"], errs);
    if (returnRoutes !== undefined && !(Array.isArray(returnRoutes) && returnRoutes.length === 0)) validateReturnTargets(`${arg}.returnRoutes`, returnRoutes, errs);
    // Every CIDR of the subnet is routed via the one next hop (the default node's address unless given).
    const cidrs = typeof spec.cidrBlock === "string" ? spec.cidrBlock.split(",").map((c) => net.parseCidr(c)) : [];
    const dests = cidrs.flatMap((cidr) => (typeof cidr === "object" ? [{ arg: "cidrBlock", cidr }] : []));
    const dflt = Array.isArray(nodes) ? defaultNextHopNode(spec, nodes.filter((n) => net.isObject(n)) as NodeArgs[]) : undefined;
    const why = nextHop === undefined && dflt ? ` (the default, the address of node ${dflt.name})` : "";
    if (nextHop !== undefined || returnRoutes?.length) checkNextHop(`${arg}.nextHop`, nextHop ?? dflt?.address, dests, errs, why);
    validateVerify(`${arg}.verify`, verify, dests, errs);
    return errs;
}

/**
 * A Kube-OVN overlay subnet whose pod IPs are reachable from outside by
 * routing (seed 000): the Subnet with natOutgoing false, the node
 * prerequisites, and return routes on the given peers and routers.
 *
 * The next hop of return routes, unless `nextHop` is given: for a
 * centralized gateway, the (first) gateway node, so that replies leave
 * through the node the requests came in by and no stateful firewall drops
 * them as asymmetric; for a distributed gateway, the first node. Both are a
 * single point of failure, and a warning says so: give a GatewayVip's
 * address as nextHop to avoid it.
 */
interface RoutedSubnetChildren {
    subnet: k8s.apiextensions.CustomResource;
    prerequisites: (Sysctl | ForwardAccept | ConntrackInvalidAccept)[];
    returnRoute?: ExternalReturnRoute;
    pathCheck?: PathCheck;
}
// The child resources, behind getters: Pulumi's schema inference for component packages takes every
// class property for an output, and a child resource (a Kubernetes CustomResource, a dynamic resource)
// has no type in a schema. Other languages see the component's outputs; TypeScript sees the children too.
const children = new WeakMap<RoutedSubnet, RoutedSubnetChildren>();

export class RoutedSubnet extends pulumi.ComponentResource {
    /** The address return routes point to: `nextHop` as given, or the default node's address. */
    public readonly nextHop: pulumi.Output<string>;
    /** cidrBlock as given (one CIDR, or two comma-joined for dual stack); a plain string, not an Output. */
    public readonly cidrBlock: string;
    /** The Subnet custom resource (kubeovn.io/v1, cluster-scoped), applied through the component's kubernetes provider. */
    get subnet(): k8s.apiextensions.CustomResource { return children.get(this)!.subnet; }
    /**
     * The node prerequisites, per node in `nodes` order: the ip_forward Sysctl
     * (and the IPv6 forwarding one for an IPv6 CIDR), then per CIDR the
     * ForwardAccept and the ConntrackInvalidAccept.
     */
    get prerequisites(): (Sysctl | ForwardAccept | ConntrackInvalidAccept)[] { return children.get(this)!.prerequisites; }
    /** The ExternalReturnRoute child ("<name>-return") when returnRoutes are given. */
    get returnRoute(): ExternalReturnRoute | undefined { return children.get(this)!.returnRoute; }
    /** The check of the path ("<name>-verify") when `verify` is given; it runs after everything else. */
    get pathCheck(): PathCheck | undefined { return children.get(this)!.pathCheck; }

    constructor(name: string, args: RoutedSubnetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:RoutedSubnet", name, {}, opts);
        const { args: a, known, part } = validateOnce<RoutedSubnetArgs>(
            this, "RoutedSubnet", name, args, (a) => validateRoutedSubnet(name, a as unknown as RoutedSubnetArgs), (a) => claimSubnet(name, a));
        const { subnetName, nodes, nextHop, returnRoutes, firewallBackend, verify } = a;
        this.cidrBlock = a.cidrBlock;
        // The Subnet depends on its own fields only: a next hop that is not known yet (a GatewayVip being
        // updated) must not make the Subnet unknown at preview, which the kubernetes provider shows as a replace.
        const subnetKeys = Object.keys(a).filter((k) => !["subnetName", "nodes", "nextHop", "returnRoutes", "firewallBackend", "verify"].includes(k)) as (keyof RoutedSubnetArgs & string)[];
        const manifest = part(subnetKeys).apply((spec) => renderSubnet({ ...(spec as unknown as Omit<SubnetSpecArgs, "name">), name: subnetName ?? name }));
        const subnet = new k8s.apiextensions.CustomResource(name, {
            apiVersion: "kubeovn.io/v1",
            kind: "Subnet",
            metadata: manifest.apply((m) => m.metadata as k8s.types.input.meta.v1.ObjectMeta),
            spec: manifest.apply((m) => m.spec),
        }, { parent: this });

        const prerequisites: (Sysctl | ForwardAccept | ConntrackInvalidAccept)[] = [];
        const own: RoutedSubnetChildren = { subnet, prerequisites };
        children.set(this, own);
        const cidrs = a.cidrBlock.split(",").map((c) => c.trim());
        const what = described("RoutedSubnet", name);
        const connections = nodes.map((n, i) => checkedConnection(this, what, `args.nodes[${i}].connection`, n.connection, n.name));
        nodes.forEach((n, i) => {
            const conn = { connection: connections[i] };
            prerequisites.push(new Sysctl(`${name}-${n.name}-ip-forward`, { ...conn, key: "net.ipv4.ip_forward", value: "1" }, { parent: this }));
            if (cidrs.some((c) => c.includes(":"))) {
                prerequisites.push(new Sysctl(`${name}-${n.name}-ipv6-forwarding`, { ...conn, key: "net.ipv6.conf.all.forwarding", value: "1" }, { parent: this }));
            }
            cidrs.forEach((cidr, i) => {
                const suffix = cidrs.length > 1 ? `-${i}` : "";
                prerequisites.push(new ForwardAccept(`${name}-${n.name}-forward${suffix}`, { ...conn, cidr, backend: firewallBackend }, { parent: this }));
                prerequisites.push(new ConntrackInvalidAccept(`${name}-${n.name}-invalid${suffix}`, { ...conn, cidr, backend: firewallBackend }, { parent: this }));
            });
        });

        // Through `known`, so a deferred problem (an Output address that is not one) fails what uses the next hop.
        const used = !!returnRoutes?.length;
        this.nextHop = nextHop !== undefined ? known.apply((k) => k.nextHop!) : this.defaultNextHop(name, a, known, used);
        // The client routes through the next hop when it is one of our linux targets; anywhere else (behind a router) any route will do.
        const check = verify ? pathCheckArgs(this, what, verify, {
            known: part(["verify"]).apply((k) => k.verify as PathVerifyArgs),
            via: returnRoutes?.some((t) => t.name === verify.client.name && (t.kind ?? "linux") === "linux") ? this.nextHop : undefined,
            nodes: nodes.map((n, i) => ({ name: n.name, address: known.apply((k) => k.nodes[i].address), connection: connections[i] })),
            arg: "args.verify",
        }) : undefined;
        if (used) {
            const targets = returnRoutes!.map((t, i) => ({ ...t, connection: checkedConnection(this, what, `args.returnRoutes[${i}].connection`, t.connection) }));
            const ret = trustedReturnRouteArgs({ destinations: cidrs, nextHop: this.nextHop, targets }, verify?.rollbackOnFailure ? check : undefined);
            own.returnRoute = new ExternalReturnRoute(`${name}-return`, ret, { parent: this });
        }
        if (check) own.pathCheck = verifyPath(this, name, check, [subnet, ...prerequisites, ...(own.returnRoute ? own.returnRoute.routes : [])]);
        this.registerOutputs({ subnet, nextHop: this.nextHop });
    }

    private defaultNextHop(name: string, a: RoutedSubnetArgs, known: pulumi.Output<pulumi.Unwrap<RoutedSubnetArgs>>, used: boolean): pulumi.Output<string> {
        const node = defaultNextHopNode(a, a.nodes)!;
        // Only worth a warning when this component installs routes through it.
        if (used) pulumi.log.warn(
            `RoutedSubnet ${name}: return routes point at the single node ${node.name}; ` +
                "it is a single point of failure. Give nextHop a GatewayVip's address to fail over.",
            this,
        );
        const i = a.nodes.indexOf(node);
        return known.apply((k) => k.nodes[i].address);
    }
}
