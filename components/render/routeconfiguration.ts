/**
 * Liqo RouteConfiguration objects (networking.liqo.io/v1beta1, namespaced;
 * seed 004 and lab/crds/liqo-routeconfigurations.yaml).
 *
 * Liqo's model, which the checks below follow:
 * - one RouteConfiguration is one kernel table; `spec.table.rules[]` become
 *   policy rules that all look up that table, and every rule's `routes[]`
 *   are installed into that same table (the rule does not scope its routes);
 * - the kernel table number is derived from `spec.table.name` (see
 *   liqoTableId), it cannot be chosen;
 * - route `gw` and `src` are IPv4 (CRD format ipv4);
 * - which host applies an object is chosen by labels: category "fabric" is
 *   applied by the fabric pod on every node, category "gateway" by the
 *   gateway pods (subcategory "fabric-node" plus route-unique narrows it to
 *   one node's entry on the gateway).
 */
import { Problem, problem } from "../../common/problems";
import { createHash } from "crypto";
import * as net from "../../common/net";
import { isObject } from "../../common/net";
import { label, stringMap, subdomain } from "../../common/names";
import { assertNoProblems } from "../../common/problems";
import {
    FABRIC_DEFAULTS,
    inboundSelectors,
    naturalCompare,
    nextHop,
    outboundSelectors,
    stableKey,
    TunnelFabricSpec,
    validateTunnelFabric,
    withFabricDefaults,
} from "./fabric";

export const LIQO_API_VERSION = "networking.liqo.io/v1beta1";
export const ROUTE_CATEGORY = "networking.liqo.io/route-category";
export const ROUTE_SUBCATEGORY = "networking.liqo.io/route-subcategory";
export const MANAGED_BY = "app.kubernetes.io/managed-by";

export interface LiqoTargetRef {
    apiVersion?: string;
    fieldPath?: string;
    kind?: string;
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
}

export type LiqoScope = "global" | "link" | "host" | "site" | "nowhere";

export interface LiqoRoute {
    dst: string;
    gw?: string;
    src?: string;
    dev?: string;
    onlink?: boolean;
    scope?: LiqoScope;
    targetRef?: LiqoTargetRef;
}

export interface LiqoRule {
    dst?: string;
    src?: string;
    iif?: string;
    oif?: string;
    fwmark?: number;
    priority?: number;
    targetRef?: LiqoTargetRef;
    routes: LiqoRoute[];
}

export interface RouteConfigurationInput {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    tableName: string;
    rules: LiqoRule[];
}

const RC_PROPS = ["name", "namespace", "labels", "tableName", "rules"] as const;
const RULE_PROPS = ["dst", "src", "iif", "oif", "fwmark", "priority", "targetRef", "routes"] as const;
const ROUTE_PROPS = ["dst", "gw", "src", "dev", "onlink", "scope", "targetRef"] as const;
const REF_PROPS = ["apiVersion", "fieldPath", "kind", "name", "namespace", "resourceVersion", "uid"] as const;
const SCOPES: readonly LiqoScope[] = ["global", "link", "host", "site", "nowhere"];

// ---------------------------------------------------------------------------
// Checks

function checkObjectName(arg: string, v: unknown, errs: Problem[]) {
    subdomain(arg, v, "Kubernetes object name", errs);
}

export function checkNamespace(arg: string, v: unknown, errs: Problem[]) {
    label(arg, v, "Kubernetes namespace", errs);
}

/**
 * Liqo appends "<id>\t<name>" to /etc/iproute2/rt_tables and finds entries
 * by substring, so whitespace or '#' in a table name would corrupt that file.
 */
function checkTableName(arg: string, v: unknown, errs: Problem[]) {
    if (typeof v !== "string" || !/^[A-Za-z0-9_.-]{1,253}$/.test(v)) errs.push(problem(arg, "not a table name (1-253 of A-Z a-z 0-9 _ . -)", v));
}

function checkTargetRef(arg: string, v: unknown, errs: Problem[]) {
    if (!net.object(arg, v, REF_PROPS, errs)) return;
    for (const k of REF_PROPS) if (v[k] !== undefined && typeof v[k] !== "string") errs.push(problem(`${arg}.${k}`, "must be a string", v[k]));
}

function checkRoute(arg: string, v: unknown, errs: Problem[]) {
    if (!net.object(arg, v, ROUTE_PROPS, errs)) return;
    net.cidr4(`${arg}.dst`, v.dst, errs);
    if (v.gw !== undefined) net.ipv4(`${arg}.gw`, v.gw, errs);
    if (v.src !== undefined) net.ipv4(`${arg}.src`, v.src, errs);
    if (v.dev !== undefined) net.ifname(`${arg}.dev`, v.dev, errs);
    net.bool(`${arg}.onlink`, v.onlink, errs);
    if (v.scope !== undefined && !SCOPES.includes(v.scope as LiqoScope)) errs.push(problem(`${arg}.scope`, `must be one of ${SCOPES.join(", ")}`, v.scope));
    if (v.targetRef !== undefined) checkTargetRef(`${arg}.targetRef`, v.targetRef, errs);
    if (v.gw === undefined && v.dev === undefined) errs.push(problem(arg, "needs gw or dev", v));
    // The kernel resolves a gateway with a lookup one scope narrower than the
    // route's: for link/host scope only local addresses qualify, so the route
    // is refused ("Nexthop has invalid gateway").
    if (v.gw !== undefined && (v.scope === "link" || v.scope === "host" || v.scope === "nowhere")) {
        errs.push(problem(`${arg}.scope`, `a route via a gateway cannot have scope ${v.scope}`, v.scope));
    }
    if (v.onlink === true && (v.gw === undefined || v.dev === undefined)) errs.push(problem(`${arg}.onlink`, "needs both gw and dev", v));
}

function checkRule(arg: string, v: unknown, errs: Problem[]) {
    if (!net.object(arg, v, RULE_PROPS, errs)) return;
    if (v.dst !== undefined) net.cidr4(`${arg}.dst`, v.dst, errs);
    if (v.src !== undefined) net.cidr4(`${arg}.src`, v.src, errs);
    if (v.iif !== undefined) net.ifname(`${arg}.iif`, v.iif, errs);
    if (v.oif !== undefined) net.ifname(`${arg}.oif`, v.oif, errs);
    // Liqo refuses marks outside uint32; a mark of 0 is dropped by the netlink
    // library (no FRA_FWMARK attribute), leaving a rule that ignores marks.
    if (v.fwmark !== undefined) net.integer(`${arg}.fwmark`, v.fwmark, 1, 0xffffffff, errs);
    if (v.priority !== undefined) net.rulePriority(`${arg}.priority`, v.priority, errs);
    if (v.targetRef !== undefined) checkTargetRef(`${arg}.targetRef`, v.targetRef, errs);
    // A rule without selectors is "from all lookup <table>": every packet of
    // the host would consult this table before main.
    if (["dst", "src", "iif", "oif", "fwmark"].every((k) => v[k] === undefined)) {
        errs.push(problem(arg, "a rule needs at least one of dst, src, iif, oif, fwmark, or it matches all traffic", v));
    }
    if (!Array.isArray(v.routes)) errs.push(problem(`${arg}.routes`, "must be a list (the CRD requires it)", v.routes));
    else v.routes.forEach((r, i) => checkRoute(`${arg}.routes[${i}]`, r, errs));
}

/**
 * Every rule's routes land in the one table: the same destination twice is
 * fine when identical (seed 004's milan-gw-ext repeats its routes per input
 * interface), but two different next hops for one destination would fight
 * over a single kernel entry.
 */
function checkTableConflicts(arg: string, rules: unknown[], errs: Problem[]) {
    const seen = new Map<string, { at: string; key: string }>();
    rules.forEach((rule, i) => {
        if (!isObject(rule) || !Array.isArray(rule.routes)) return;
        rule.routes.forEach((r, j) => {
            if (!isObject(r) || typeof r.dst !== "string") return;
            const { targetRef: _ignored, ...hop } = r;
            const at = `${arg}[${i}].routes[${j}]`;
            const prev = seen.get(r.dst);
            if (prev && prev.key !== stableKey(hop)) errs.push(problem(at, `conflicts with ${prev.at} for the same dst in the same table`, r));
            else if (!prev) seen.set(r.dst, { at, key: stableKey(hop) });
        });
    });
}

/** Every problem of a RouteConfiguration input, each naming the argument path and the bad value. */
export function validateRouteConfiguration(rc: RouteConfigurationInput, arg = "routeConfiguration"): Problem[] {
    const errs: Problem[] = [];
    if (!net.object(arg, rc, RC_PROPS, errs)) return errs;
    checkObjectName(`${arg}.name`, rc.name, errs);
    checkNamespace(`${arg}.namespace`, rc.namespace, errs);
    stringMap(`${arg}.labels`, rc.labels, true, errs);
    checkTableName(`${arg}.tableName`, rc.tableName, errs);
    if (!Array.isArray(rc.rules) || rc.rules.length === 0) {
        errs.push(problem(`${arg}.rules`, "must be a non-empty list (CRD minItems 1)", rc.rules));
        return errs;
    }
    rc.rules.forEach((r, i) => checkRule(`${arg}.rules[${i}]`, r, errs));
    checkTableConflicts(`${arg}.rules`, rc.rules, errs);
    return errs;
}

// ---------------------------------------------------------------------------
// Rendering. Keys come out in alphabetical order, as `kubectl get -o yaml`
// prints them (and as seed 004 shows them); list order is the input's,
// because Liqo hands out implicit rule priorities in list order.

function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of [...keys].sort()) {
        const v = (o as Record<string, unknown>)[k];
        if (v !== undefined) out[k] = v;
    }
    return out;
}

function renderRoute(r: LiqoRoute): Record<string, unknown> {
    const out = pick(r, ROUTE_PROPS);
    if (r.targetRef) out.targetRef = pick(r.targetRef, REF_PROPS);
    return out;
}

function renderRule(r: LiqoRule): Record<string, unknown> {
    const out = pick(r, RULE_PROPS);
    out.routes = r.routes.map(renderRoute);
    if (r.targetRef) out.targetRef = pick(r.targetRef, REF_PROPS);
    return out;
}

/** The RouteConfiguration object; throws an InvalidArgumentsError listing every problem when the input is invalid. */
export function renderRouteConfiguration(rc: RouteConfigurationInput): Record<string, unknown> {
    assertNoProblems("RouteConfiguration", validateRouteConfiguration(rc));
    return renderValid(rc);
}

function renderValid(rc: RouteConfigurationInput): Record<string, unknown> {
    const labels = rc.labels && Object.keys(rc.labels).length ? pick(rc.labels, Object.keys(rc.labels)) : undefined;
    return {
        apiVersion: LIQO_API_VERSION,
        kind: "RouteConfiguration",
        metadata: { ...(labels && { labels }), name: rc.name, namespace: rc.namespace },
        spec: { table: { name: rc.tableName, rules: rc.rules.map(renderRule) } },
    };
}

/**
 * The kernel table Liqo's route controller uses for a table name: the first
 * four bytes of SHA-256(name) read little-endian, with the top bit cleared
 * and bit 8 set so the id is never one of the system tables 0..255.
 */
export function liqoTableId(tableName: string): number {
    const h = createHash("sha256").update(tableName, "utf8").digest();
    const b3 = h[3] >> 1;
    const b1 = h[1] | 1;
    return ((b3 << 24) | (h[2] << 16) | (b1 << 8) | h[0]) >>> 0;
}

// ---------------------------------------------------------------------------
// The TunnelFabric as Liqo objects

/**
 * The intent of planTunnelFabric expressed as RouteConfigurations, mapped
 * onto Liqo's roles (seed 004):
 *
 * - `<prefix>-node-gw` (category fabric, applied on every node), like seed
 *   004's `milan-node-gw`: one rule per remote CIDR (`dst`, plus `src` per
 *   local CIDR when given) whose route goes `gw <gatewayAddress, or the
 *   active gateway's overlay IP> dev <linkName>`. It is the non-gateway
 *   nodes' part of the plan.
 * - `<prefix>-<node>-gw-node` for every node except the active gateway
 *   (category gateway, subcategory fabric), like seed 004's
 *   `rome-worker-gw-node`: the symmetric-routing rules (`iif gatewayInIf`,
 *   or `src <remote CIDR>`) with one /32 route per pod of that node via the
 *   node's overlay address. It is the active gateway's part of the plan.
 *   Seed 004's extra `dst <node overlay>/32 scope link` rule is left out:
 *   Liqo gives its Geneve interfaces host addresses, our VXLAN link carries
 *   the overlay prefix, so main already has the connected route.
 *
 * What Liqo's model cannot express:
 * - the VXLAN link and its FDB entries (Liqo creates its own Geneve
 *   interfaces from InternalNode objects): the TunnelFabric's link and FDB
 *   providers stay necessary;
 * - the table number: Liqo derives it from the name (liqoTableId), so there
 *   is one table per object instead of the single table 18952, and
 *   `spec.table` of the fabric has no effect here; the rule priority does
 *   carry over (`priority`);
 * - "every node but the gateway": category fabric has no node selector,
 *   since in Liqo the gateway is a pod behind its own Geneve link, never a
 *   node. On the active gateway node the node-gw route points at the node
 *   itself (its own overlay address or the gateway address it holds);
 * - the gateway address itself: Liqo has no object for an address that
 *   moves with the active gateway, so the VXLAN link provider keeps it;
 * - routes pre-installed on standby gateways: gateway objects are applied by
 *   the gateway pod wherever it runs, so only the active gateway's view is
 *   rendered.
 *
 * Output order: the node-gw object, then the gw-node objects by node name.
 */
export function fabricRouteConfigurations(spec: TunnelFabricSpec, namespace: string): Record<string, unknown>[] {
    const errs = validateTunnelFabric(spec);
    checkNamespace("namespace", namespace, errs);
    assertNoProblems("TunnelFabric", errs);
    return routeConfigurationsOf(spec, namespace);
}

/** The nodes that get a gateway-side RouteConfiguration of their own: not active, with pods; by natural name order. */
function podNodes<N extends { name: string; pods?: unknown[] }>(nodes: N[], activeGateway: string): N[] {
    return [...nodes].sort((a, b) => naturalCompare(a.name, b.name)).filter((n) => n.name !== activeGateway && (n.pods ?? []).length > 0);
}

/**
 * The names of routeConfigurationsOf's objects, in its order. They depend on
 * vni, activeGateway, the node names and whether a node has pods, never on
 * an address: the TunnelFabric component names its resources from them
 * before the addresses (which may be Outputs) are known.
 */
export function routeConfigurationNames(s: { vni?: number; activeGateway: string; nodes: { name: string; pods?: unknown[] }[] }): string[] {
    const prefix = `tunnel-fabric-${s.vni ?? FABRIC_DEFAULTS.vni}`;
    return [`${prefix}-node-gw`, ...podNodes(s.nodes, s.activeGateway).map((n) => `${prefix}-${n.name}-gw-node`)];
}

/** fabricRouteConfigurations of a spec and namespace already validated (the TunnelFabric component's). */
export function routeConfigurationsOf(spec: TunnelFabricSpec, namespace: string): Record<string, unknown>[] {
    const r = withFabricDefaults(spec);
    const prefix = `tunnel-fabric-${r.vni}`;
    const gw = r.nodes.find((n) => n.name === r.activeGateway)!;
    const base = { [MANAGED_BY]: "routed-overlay" };

    const nodeGw: RouteConfigurationInput = {
        name: `${prefix}-node-gw`,
        namespace,
        labels: { ...base, [ROUTE_CATEGORY]: "fabric" },
        tableName: `${prefix}-node-gw`,
        rules: outboundSelectors(r).map((s) => ({
            dst: s.to,
            ...(s.from !== undefined && { src: s.from }),
            priority: r.rulePriority,
            routes: [{ dev: r.linkName, dst: s.to!, gw: nextHop(r, gw) }],
        })),
    };

    const gwNodes: RouteConfigurationInput[] = podNodes(r.nodes, r.activeGateway)
        .map((n) => {
            const routes = [...(n.pods ?? [])]
                .sort(naturalCompare)
                .map((p) => ({ dev: r.linkName, dst: `${p}/32`, gw: n.overlayAddress }));
            return {
                name: `${prefix}-${n.name}-gw-node`,
                namespace,
                labels: { ...base, [ROUTE_CATEGORY]: "gateway", [ROUTE_SUBCATEGORY]: "fabric" },
                tableName: `${prefix}-${n.name}`,
                rules: inboundSelectors(r).map((s) => ({
                    ...(s.to !== undefined && { dst: s.to }),
                    ...(s.iif !== undefined && { iif: s.iif }),
                    priority: r.rulePriority,
                    ...(s.from !== undefined && { src: s.from }),
                    routes,
                })),
            };
        });

    return [nodeGw, ...gwNodes].map(renderValid);
}
