import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { Keepalived, VrrpElection } from "../provider/resources";
import * as path from "path";
import { checkAuthPass, checkFollowConfigPath, DEFAULT_CONFIG_DIR, failoverBudget, GatewayVipFields, GatewayVipSpec, NodePlan, planGatewayVip, validateGatewayVip } from "./render/keepalived";
import { checkedConnection, checkNodeConnections, validateOnce, withoutConnections } from "./validate";
import { NodeArgs, NODE_PROPS } from "./nodes";
import { claimVrrp } from "./claims";
import * as net from "../common/net";
import { assertNoProblems, described, isOutput, Problem } from "../common/problems";

/**
 * A GatewayVip node: the shared NodeArgs. GatewayVip uses name, address,
 * interface (required), priority and connection; overlayAddress and pods are
 * accepted and not used.
 */
export type GatewayVipNode = NodeArgs;

/** The keepalived fields (GatewayVipFields: virtualRouterId plain, the others Inputs), and the component's own. */
export interface GatewayVipArgs extends GatewayVipFields {
    /**
     * The nodes that share the VIP, at least 2; the first is the preferred
     * master unless priorities say otherwise. They should be among the
     * RoutedSubnet's nodes: the VIP holder forwards the return traffic, so it
     * needs ip_forward and the FORWARD accepts, which GatewayVip does not set.
     * The list and the names are plain (they name the Keepalived resources).
     */
    nodes: NodeArgs[];
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
    configPath?: pulumi.Input<string>;
}

/**
 * Problems with the args: the spec's (validateGatewayVip, with authPass when
 * it is a plain string) and the component's own (configPath, connections).
 */
export function validateGatewayVipArgs(a: GatewayVipArgs, arg = "args"): Problem[] {
    const { nodes, authPass, configPath, ...rest } = a;
    // The nodes go to the spec's check with their connections, which it knows as one more property and leaves alone.
    const spec = { ...rest, nodes, ...(authPass !== undefined && !isOutput(authPass) ? { authPass } : {}) } as GatewayVipSpec;
    const errs = validateGatewayVip(spec, arg, { nodeProps: NODE_PROPS });
    if (errs.some((p) => p.path === arg)) return errs;
    if (configPath !== undefined && net.absolutePath(`${arg}.configPath`, configPath, errs) && rest.followGateway !== undefined) {
        checkFollowConfigPath(`${arg}.configPath`, configPath, errs);
    }
    checkNodeConnections(`${arg}.nodes`, nodes, errs);
    return errs;
}

/**
 * A keepalived VRRP virtual address over several nodes, to use as the next
 * hop of return routes so that no single node is a point of failure (seed
 * 000's keepalived note). Unicast VRRP, since many clouds drop multicast.
 * A backup takes over about 3 x advertInt after the master dies; a graceful
 * stop hands over at once.
 */
// The child resources, behind getters: Pulumi's schema inference for component packages takes every
// class property for an output, and a child resource has no type in a schema (see RoutedSubnet).
const children = new WeakMap<GatewayVip, { instances: Keepalived[]; election: VrrpElection }>();

export class GatewayVip extends pulumi.ComponentResource {
    /**
     * The virtual address, without prefix: give it to RoutedSubnet or ExternalReturnRoute as
     * nextHop. It resolves once keepalived runs on every node and exactly one node holds the VIP
     * (read back on every node), and carries the election and the Keepalived resources as
     * dependencies, so routes through it wait for them.
     */
    public readonly address: pulumi.Output<string>;
    /** The Keepalived resources, one per node in `nodes` order (config file and daemon; `running` turns false after a refresh finds the daemon gone). */
    get instances(): Keepalived[] { return children.get(this)!.instances; }
    /** The read-back of the election: which node holds the VIP (see VrrpElection). */
    get election(): VrrpElection { return children.get(this)!.election; }
    /** The node that held the VIP when last read (after up: the elected master; after a refresh: the holder then). */
    public readonly holder: pulumi.Output<string>;
    /**
     * The expected outage of a failover, in seconds, from the settings: the
     * larger of a silent master's detection (3 × advertInt + the backup's
     * skew) and a failing track script's (see failoverBudget). 3.45 with the
     * defaults.
     */
    public readonly failoverSeconds: pulumi.Output<number>;

    constructor(name: string, args: GatewayVipArgs, opts?: pulumi.ComponentResourceOptions) {
        super("routed-overlay:index:GatewayVip", name, {}, opts);
        const { args: a, known, part } = validateOnce<GatewayVipArgs>(
            this, "GatewayVip", name, args, (a) => validateGatewayVipArgs(a as unknown as GatewayVipArgs), (a) => claimVrrp(name, a as unknown as Parameters<typeof claimVrrp>[1]));
        const { nodes, authPass, configPath } = a;
        // Without followGateway, whose token may be a secret: what the election and the outputs derive
        // from stays plain (a secret anywhere in `known` would make the VIP's address a secret too).
        const core = part(Object.keys(a).filter((k) => k !== "followGateway") as (keyof GatewayVipArgs)[]);
        // The password may be a secret Output: checked once it is known (the rest of the spec was checked above).
        const plans = pulumi.all([known, authPass]).apply(([k, pass]) => {
            if (isOutput(authPass)) {
                const errs: Problem[] = [];
                checkAuthPass("args.authPass", pass, errs);
                assertNoProblems(described("GatewayVip", name), errs, this);
            }
            const { configPath: file, nodes: resolved, ...rest } = k;
            const spec = { ...rest, nodes: withoutConnections(resolved), ...(pass !== undefined ? { authPass: pass } : {}) } as GatewayVipSpec;
            return Object.fromEntries(planGatewayVip(spec, file !== undefined ? path.posix.dirname(file) : DEFAULT_CONFIG_DIR).map((p) => [p.node, p]));
        });
        const configs = plans.apply((p) => Object.fromEntries(Object.entries(p).map(([n, x]) => [n, x.config])));
        const conns = nodes.map((n, i) => checkedConnection(this, described("GatewayVip", name), `args.nodes[${i}].connection`, n.connection, n.name));
        const instances: Keepalived[] = [];
        nodes.forEach((n, i) => {
            const plan = plans.apply((p): NodePlan => p[n.name]);
            instances.push(new Keepalived(`${name}-${n.name}`, {
                connection: conns[i],
                config: plan.config,
                // Absent without followGateway, as in the states of earlier versions.
                ...(a.followGateway !== undefined ? { files: plan.files, scratch: plan.scratch } : {}),
                ...(configPath !== undefined ? { configPath } : {}),
            }, { parent: this }));
        });
        // Read back on every node once all daemons run: exactly one holds the VIP, or up fails naming the
        // holders. A new config (another password, priority, node) makes the next up wait for it again.
        const election = new VrrpElection(`${name}-election`, {
            address: core.apply((k) => k.vip.split("/")[0]),
            nodes: nodes.map((n, i) => ({ name: n.name, connection: conns[i] })),
            // A backup takes over 3 x advertInt (plus skew) after a silence; margin for a preemption after that.
            seconds: core.apply((k) => Math.min(300, 4 * (k.advertInt ?? 1) + 11)),
            // A node that started first may hold the VIP until the preferred one preempts it, on the next advertisement.
            stable: core.apply((k) => (k.advertInt ?? 1) + 1),
            revision: pulumi.secret(configs.apply((c) => createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16))),
        }, { parent: this, dependsOn: instances });
        children.set(this, { instances, election });
        this.holder = election.holder;
        // The election's own address output: resolved only after its create or update waited for the election,
        // and carrying it (and through it every Keepalived) as a dependency, so routes through the VIP are made
        // after it is held and removed before keepalived stops. An input echoed as an output, it stays known at
        // a preview that updates the election, so routes through the VIP do not show as changing then.
        this.address = election.address;
        // A number of seconds, never a secret, even when followGateway's token made `known` one.
        this.failoverSeconds = pulumi.unsecret(known.apply((k) => failoverBudget({
            nodes: withoutConnections(k.nodes) as GatewayVipSpec["nodes"], advertInt: k.advertInt, trackScript: k.trackScript, followGateway: k.followGateway,
        }).seconds));
        this.registerOutputs({ address: this.address, holder: this.holder, failoverSeconds: this.failoverSeconds });
    }
}
