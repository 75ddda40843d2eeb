/**
 * What a change of a TunnelFabric spec does to each node's kernel objects:
 * the plans before and after, compared object by object. A test aid (the
 * components let Pulumi diff the resources), locked by golden files.
 */
import type { FdbSpec, InterfaceAddressSpec, RouteSpec, RuleSpec, VxlanLinkSpec } from "../../components/render/kernel-types";
import { naturalCompare, NodePlan, stableKey } from "../../components/render/fabric";


export interface ObjectDiff<T> {
    added: T[];
    removed: T[];
}

export interface NodeDiff {
    node: string;
    /** Present when the link differs (or the node appears or disappears). */
    link?: { before?: VxlanLinkSpec; after?: VxlanLinkSpec };
    /** Present when the node's hold on the gateway address differs. */
    gatewayAddress?: { before?: InterfaceAddressSpec; after?: InterfaceAddressSpec };
    fdb: ObjectDiff<FdbSpec>;
    rules: ObjectDiff<RuleSpec>;
    routes: ObjectDiff<RouteSpec>;
}

function diffList<T>(a: T[], b: T[]): ObjectDiff<T> {
    const ka = new Set(a.map(stableKey));
    const kb = new Set(b.map(stableKey));
    return { added: b.filter((x) => !ka.has(stableKey(x))), removed: a.filter((x) => !kb.has(stableKey(x))) };
}

const EMPTY: NodePlan = { node: "", link: undefined as unknown as VxlanLinkSpec, fdb: [], rules: [], routes: [] };

/**
 * Per node (union of both plans, sorted), the kernel objects to add and to
 * remove to go from plan a to plan b. A changed object shows as one removal
 * and one addition, which is how the providers replace routes and rules.
 */
export function diffPlans(a: NodePlan[], b: NodePlan[]): NodeDiff[] {
    const byName = (ps: NodePlan[]) => new Map(ps.map((p) => [p.node, p]));
    const ma = byName(a), mb = byName(b);
    const names = [...new Set([...ma.keys(), ...mb.keys()])].sort(naturalCompare);
    return names.map((node) => {
        const x = ma.get(node) ?? EMPTY, y = mb.get(node) ?? EMPTY;
        const d: NodeDiff = { node, fdb: diffList(x.fdb, y.fdb), rules: diffList(x.rules, y.rules), routes: diffList(x.routes, y.routes) };
        if (stableKey(x.link) !== stableKey(y.link)) d.link = { ...(x.link && { before: x.link }), ...(y.link && { after: y.link }) };
        if (stableKey(x.gatewayAddress) !== stableKey(y.gatewayAddress)) {
            d.gatewayAddress = { ...(x.gatewayAddress && { before: x.gatewayAddress }), ...(y.gatewayAddress && { after: y.gatewayAddress }) };
        }
        return { node: d.node, ...(d.link && { link: d.link }), ...(d.gatewayAddress && { gatewayAddress: d.gatewayAddress }), fdb: d.fdb, rules: d.rules, routes: d.routes };
    });
}

/** Whether a node diff changes nothing. */
export function isEmptyDiff(d: NodeDiff): boolean {
    return !d.link && !d.gatewayAddress && [d.fdb, d.rules, d.routes].every((o) => o.added.length === 0 && o.removed.length === 0);
}
