/**
 * The dynamic resources users and components create. Each is a thin class
 * over one kind of provider/kinds; all the work happens in the provider
 * process (provider/runtime.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { providerFor } from "./dynamic";
import type { Kind } from "./runtime";
import type { Connection } from "./transport/connection";
import type { RouteSpec, RouteType, RouteScope } from "./kinds/route";
import { keyedFdb, keyedRoutes, keyedRules } from "./wire";
import { ungroupRoutes } from "./kinds/route-text";
// Everything but the args' shape is the provider's check (at preview, with the values known).
import { objectArgs } from "../common/problems";
import type { RuleSpec } from "./kinds/rule";
import type { FdbSpec } from "./kinds/fdb";
import type { VxlanLinkSpec } from "./kinds/link";
import type { InterfaceAddressSpec } from "./kinds/address";
import type { FrrStaticRouteSpec } from "./kinds/frr";
import type { KeepalivedSpec } from "./kinds/keepalived";

/**
 * How to reach a host over SSH; every field may be a Pulumi input. Shaped
 * like @pulumi/command's remote.ConnectionArgs (its `proxy`, a jump host, is
 * not supported and refused). Written out field by field rather than mapped
 * from Connection: Pulumi's schema inference for component packages reads
 * interfaces, not mapped types.
 */
export interface ConnectionInput {
    /** An IP address or a DNS name (no port: give `port`). */
    host: pulumi.Input<string>;
    /** Default 22. */
    port?: pulumi.Input<number>;
    /** Default root. */
    user?: pulumi.Input<string>;
    /** Password authentication. A secret: never shown in messages. */
    password?: pulumi.Input<string>;
    /** The private key itself (PEM or OpenSSH), not its path. */
    privateKey?: pulumi.Input<string>;
    /** The password of an encrypted privateKey. */
    privateKeyPassword?: pulumi.Input<string>;
    /** Path of an SSH agent's socket on the machine running pulumi, to authenticate with its keys. */
    agentSocketPath?: pulumi.Input<string>;
    /**
     * The host's public key, pinned: a known_hosts line ("ssh-ed25519 AAAA..."),
     * the output of `ssh-keyscan HOST`, or an OpenSSH fingerprint
     * ("SHA256:..."). Required unless insecureIgnoreHostKey.
     */
    hostKey?: pulumi.Input<string>;
    /** Accept any host key. Prints a warning: anyone on the path can impersonate the host. */
    insecureIgnoreHostKey?: pulumi.Input<boolean>;
    /** Run every command through `sudo -n --`. */
    sudo?: pulumi.Input<boolean>;
    /** Seconds for one connection attempt (default 15). */
    perDialTimeout?: pulumi.Input<number>;
    /** Seconds one command may run on the host (default 120); then it is ended there and the operation fails naming the host and the command. */
    commandTimeout?: pulumi.Input<number>;
    /** Connection attempts before the host counts as unreachable (default 1; -1 for no limit). */
    dialErrorLimit?: pulumi.Input<number>;
}

// ConnectionInput states every field of Connection but proxy (refused at check), and no other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _connectionFields: Same<keyof ConnectionInput, Exclude<keyof Connection, "proxy">> = true;
void _connectionFields;

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/**
 * A short name of one resource of one stack, for the records and marks that
 * hosts keep (the sysctl owners, firewall comments): separate stacks cannot
 * see each other's state, so the host has to tell their objects apart.
 */
export function ownerId(type: string, name: string): string {
    return createHash("sha256").update(`${organization()}/${pulumi.getProject()}/${pulumi.getStack()}/${type}/${name}`).digest("hex").slice(0, 16);
}

/** The stack's organization; unit tests under setMocks may not name one (the SDK throws then). */
function organization(): string {
    try {
        return pulumi.getOrganization();
    } catch {
        return "";
    }
}

/** What every host-object resource takes besides its own properties. */
export interface HostObjectArgs {
    /** How to reach the host. Kept secret in the state. */
    connection: pulumi.Input<ConnectionInput>;
    /**
     * Take over an identical object that already exists on the host instead
     * of failing. This stands in for `pulumi import`, which does not work with
     * dynamic providers (pulumi/pulumi#16175). Only read at create.
     */
    adopt?: pulumi.Input<boolean>;
    /**
     * A path check run after every update of the object (not at create): when
     * it fails, the update is undone on the host and `up` fails with the
     * diagnosis of the first failing hop (ChangeRolledBack). Kept secret in
     * the state (it holds the client's connection). Default: none.
     */
    probe?: pulumi.Input<PathCheckArgs>;
}

// One secret Output per connection, however many objects of the host take it: a component hands
// the same connection to every child of a node, and each Output costs the SDK promises and stacks.
const secretConnections = new WeakMap<object, pulumi.Output<unknown>>();
function secretConnection(c: unknown): unknown {
    if (c === null || typeof c !== "object") return pulumi.secret(c);
    let s = secretConnections.get(c);
    if (!s) secretConnections.set(c, (s = pulumi.secret(c)));
    return s;
}

/** Base of the host-object resources: keeps the connection secret in inputs and outputs alike. */
abstract class HostObject extends pulumi.dynamic.Resource {
    /** False after a refresh found the object gone from the host; the next up puts it back. */
    declare public readonly present: pulumi.Output<boolean>;

    protected constructor(kind: Kind, name: string, args: HostObjectArgs & Record<string, unknown>, outs: string[], opts?: pulumi.CustomResourceOptions, secrets: string[] = []) {
        const props: Record<string, unknown> = { ...args, connection: secretConnection(args.connection), present: undefined };
        if (args.probe !== undefined) props.probe = pulumi.secret(args.probe);
        for (const s of secrets) props[s] = pulumi.secret(args[s]);
        for (const o of outs) if (!(o in props)) props[o] = undefined;
        const secretOutputs = ["connection", ...(args.probe !== undefined ? ["probe"] : []), ...secrets];
        super(providerFor(kind), name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: secretOutputs }), "routed-overlay", kind);
    }
}

export interface SysctlArgs extends HostObjectArgs {
    /** The sysctl key, e.g. net.ipv4.ip_forward or net.ipv4.conf.eth0.rp_filter. */
    key: pulumi.Input<string>;
    /** The value as `sysctl -n` prints it; several words for multi-value keys ("32768 60999"). An integer is taken as its text. */
    value: pulumi.Input<string | number>;
}

/**
 * One sysctl on one host, which other Sysctl resources (of this stack or
 * another) may share: the host records its owners under
 * /run/routed-overlay/sysctl/<key>/, the value stays while one remains, and
 * the last owner's delete restores the value found before the first. Owners
 * must agree on the value. `refresh` reads the live value.
 */
export class Sysctl extends HostObject {
    declare public readonly key: pulumi.Output<string>;
    declare public readonly value: pulumi.Output<string>;
    /** The value the host had before its first owner set it. */
    declare public readonly previous: pulumi.Output<string>;
    /** This resource's name in the host's record of owners (a hash of organization, project, stack and resource name). */
    declare public readonly owner: pulumi.Output<string>;

    constructor(name: string, args: SysctlArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("Sysctl", name, args);
        super("Sysctl", name, { ...args, owner: ownerId("Sysctl", name) }, ["previous"], opts);
    }
}

export type RouteArgs = HostObjectArgs & Inputs<RouteSpec>;

/**
 * One route (`ip route`), stamped with routed-overlay's protocol number
 * unless `proto` says otherwise. The host records which resource of which
 * stack holds it (/run/routed-overlay/claims/<owner>): a create that finds
 * a route with our protocol that another stack holds stops, naming it.
 */
export class Route extends HostObject {
    declare public readonly dst: pulumi.Output<string>;
    declare public readonly gateway: pulumi.Output<string | undefined>;
    declare public readonly dev: pulumi.Output<string | undefined>;
    declare public readonly table: pulumi.Output<number>;
    declare public readonly metric: pulumi.Output<number>;
    declare public readonly type: pulumi.Output<RouteType>;
    declare public readonly scope: pulumi.Output<RouteScope | undefined>;
    declare public readonly proto: pulumi.Output<number>;

    constructor(name: string, args: RouteArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("Route", name, args);
        super("Route", name, { ...args, owner: ownerId("Route", name) }, ["table", "metric", "type", "proto"], opts);
    }
}

export type RuleArgs = HostObjectArgs & Inputs<RuleSpec>;

/** One policy routing rule (`ip rule`), stamped with routed-overlay's protocol number and claimed on the host as Route is. */
export class Rule extends HostObject {
    declare public readonly priority: pulumi.Output<number>;
    declare public readonly table: pulumi.Output<number>;
    declare public readonly family: pulumi.Output<number>;

    constructor(name: string, args: RuleArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("Rule", name, args);
        super("Rule", name, { ...args, owner: ownerId("Rule", name) }, ["family", "table"], opts);
    }
}

export type FdbEntryArgs = HostObjectArgs & Inputs<FdbSpec>;

/** One FDB entry of a VXLAN device (`bridge fdb append`); the default all-zero MAC floods to `dst`. */
export class FdbEntry extends HostObject {
    declare public readonly mac: pulumi.Output<string>;
    declare public readonly dst: pulumi.Output<string>;

    constructor(name: string, args: FdbEntryArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("FdbEntry", name, args);
        super("FdbEntry", name, { ...args }, ["mac", "permanent"], opts);
    }
}

export type VxlanLinkArgs = HostObjectArgs & Inputs<VxlanLinkSpec>;

/** A VXLAN link with learning off by default, marked with the alias "routed-overlay". */
export class VxlanLink extends HostObject {
    declare public readonly name: pulumi.Output<string>;
    declare public readonly addresses: pulumi.Output<string[]>;
    declare public readonly mtu: pulumi.Output<number | undefined>;

    constructor(name: string, args: VxlanLinkArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("VxlanLink", name, args);
        super("VxlanLink", name, { ...args }, ["dstport", "learning", "up", "addresses", "alias"], opts);
    }
}

export type InterfaceAddressArgs = HostObjectArgs & Inputs<InterfaceAddressSpec>;

/**
 * One IP address on one interface that this resource holds or lets go
 * (`held`): give each host that may hold a moving address (a fabric's gateway
 * address) one of these, held on one host at a time, and a move is an update
 * of two resources. With `announce`, the host sends gratuitous ARPs when it
 * takes the address (needs arping). The address carries no owner mark: it is
 * this resource's by declaration.
 */
export class InterfaceAddress extends HostObject {
    declare public readonly address: pulumi.Output<string>;
    declare public readonly held: pulumi.Output<boolean>;

    constructor(name: string, args: InterfaceAddressArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("InterfaceAddress", name, args);
        super("InterfaceAddress", name, { ...args }, ["held", "announce"], opts);
    }
}

/** Which firewall the FORWARD accepts go to (an `as const` object: the literals type-check, and schema inference makes it an enum). */
export const FirewallBackend = {
    /** iptables when the host's iptables works (legacy or nf_tables flavour), else nftables. */
    Auto: "auto",
    Iptables: "iptables",
    Nft: "nft",
} as const;
export type FirewallBackend = (typeof FirewallBackend)[keyof typeof FirewallBackend];

export interface ForwardAcceptArgs extends HostObjectArgs {
    /** Forwarded traffic from and to this CIDR is accepted, ahead of any DROP in FORWARD. */
    cidr: pulumi.Input<string>;
    /** Default "auto": iptables when the host has it, else nftables. */
    backend?: pulumi.Input<FirewallBackend>;
    /** nftables only: the chain that filters forwarded traffic, "FAMILY TABLE CHAIN" (default "inet filter forward"). */
    nftChain?: pulumi.Input<string>;
}

abstract class FirewallAcceptBase extends HostObject {
    declare public readonly cidr: pulumi.Output<string>;
    /** The firewall the rules went to. */
    declare public readonly resolvedBackend: pulumi.Output<"iptables" | "nft">;
    /** Which of the two rules (source, destination) are in place. */
    declare public readonly directions: pulumi.Output<string[]>;

    protected constructor(name: string, args: ForwardAcceptArgs, invalidOnly: boolean, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs(invalidOnly ? "ConntrackInvalidAccept" : "ForwardAccept", name, args);
        super("FirewallAccept", name, { ...args, invalidOnly, marker: ownerId("FirewallAccept", name) }, ["resolvedBackend", "directions"], opts);
    }
}

/** Accepts forwarded traffic of a CIDR (seed: "no DROP in FORWARD for the subnet"). */
export class ForwardAccept extends FirewallAcceptBase {
    constructor(name: string, args: ForwardAcceptArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, args, false, opts);
    }
}

/** Accepts conntrack-INVALID forwarded packets of a CIDR, which asymmetric routing produces (seed 000). */
export class ConntrackInvalidAccept extends FirewallAcceptBase {
    constructor(name: string, args: ForwardAcceptArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, args, true, opts);
    }
}

export interface RouteSetArgs extends HostObjectArgs {
    /** The table all routes go to; default main. */
    table?: pulumi.Input<number | string>;
    /** The routes, without table. Applied in one round trip (`ip -batch -`). */
    routes: pulumi.Input<pulumi.Input<Inputs<Omit<RouteSpec, "table">>>[]>;
    /**
     * Policy rules that look up the table (`ip rule ... table <table>`), without
     * table. They are added after the table's routes and deleted before them,
     * and claimed on the host as Rule's are. Default: none.
     */
    rules?: pulumi.Input<pulumi.Input<Inputs<Omit<RuleSpec, "table">>>[]>;
    /**
     * Names of Rule resources of this stack whose rules this set takes over:
     * move a rule from a Rule resource into `rules` and list the Rule's name
     * here, and the rule stays on the host while the Rule resource's delete
     * lets go of it (a rule is deleted only when no resource holds it).
     */
    takeOverRules?: string[];
}

/**
 * Many routes of one table on one host as one resource: one read and one
 * batch per change, whatever the number of routes. The state keys each route
 * by destination and keeps it as its `ip route` words, so `pulumi preview
 * --diff` names each route that changes, in iproute2's terms, within the
 * group of its destination's network (provider/kinds/route-text.ts):
 * `~ 10.0.0.0/8: { ~ 10.203.0.0/16: "via 192.168.2.10 dev eth0" => "via 192.168.2.11 dev eth0" }`.
 * With `rules`, it is the table and the policy rules that select it, as a
 * Liqo RouteConfiguration's table is: a change that moves both (a fabric's
 * gateway move) is one update, and each rule shows in the diff by selector:
 * `+ "priority 18952 from 10.166.0.0/16 to 10.200.0.0/16": "lookup 18952"`.
 * Its routes and rules are claimed on the host as Route's and Rule's are.
 */
export class RouteSet extends HostObject {
    declare public readonly table: pulumi.Output<number>;
    /** Destination (plus ` metric N` off the family default) → the rest of the route, defaults left out. */
    declare public readonly routes: pulumi.Output<Record<string, string>>;
    /** The rules' selectors ("priority 100 from 10.1.0.0/16") → "lookup <table>"; undefined without rules. */
    declare public readonly rules: pulumi.Output<Record<string, string> | undefined>;

    constructor(name: string, args: RouteSetArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("RouteSet", name, args);
        const { takeOverRules, ...rest } = args;
        const takeOverFrom = takeOverRules?.length ? takeOverRules.map((n) => ownerId("Rule", n)) : undefined;
        super("RouteSet", name, { ...rest, owner: ownerId("RouteSet", name), routes: keyedRoutes(args.routes as pulumi.Input<Omit<RouteSpec, "table">[]>),
            ...(args.rules !== undefined && { rules: keyedRules(args.rules as pulumi.Input<Omit<RuleSpec, "table">[]>) }), takeOverFrom }, ["table"], opts);
        // The engine holds the routes in groups (provider/kinds/route-text.ts); the class's output is the map users expect.
        const grouped = this.routes as pulumi.Output<unknown>;
        (this as { routes: pulumi.Output<Record<string, string>> }).routes = grouped.apply((g) => ungroupRoutes(g) as Record<string, string>);
    }
}

export interface FdbSetArgs extends HostObjectArgs {
    dev: pulumi.Input<string>;
    entries: pulumi.Input<pulumi.Input<Inputs<Omit<FdbSpec, "dev">>>[]>;
}

/** Many FDB entries of one device on one host, applied in one round trip (`bridge -batch -`). */
export class FdbSet extends HostObject {
    declare public readonly dev: pulumi.Output<string>;
    declare public readonly entries: pulumi.Output<Record<string, Omit<FdbSpec, "dev">>>;

    constructor(name: string, args: FdbSetArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("FdbSet", name, args);
        super("FdbSet", name, { ...args, entries: keyedFdb(args.entries as pulumi.Input<Omit<FdbSpec, "dev">[]>) }, [], opts);
    }
}

export type FrrStaticRouteArgs = HostObjectArgs & Inputs<FrrStaticRouteSpec>;

/**
 * A static route in FRR's running configuration (through vtysh), tagged 214
 * as routed-overlay's. For routers whose table FRR owns.
 */
export class FrrStaticRoute extends HostObject {
    declare public readonly dst: pulumi.Output<string>;
    declare public readonly nexthop: pulumi.Output<string>;
    declare public readonly tag: pulumi.Output<number>;

    constructor(name: string, args: FrrStaticRouteArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("FrrStaticRoute", name, args);
        super("FrrStaticRoute", name, { ...args }, ["tag"], opts);
    }
}

export type KeepalivedArgs = HostObjectArgs & Inputs<KeepalivedSpec>;

/**
 * keepalived on one host: its config file (mode 0600, kept secret in the
 * state) and the running daemon, reloaded when the config changes.
 */
export class Keepalived extends HostObject {
    declare public readonly configPath: pulumi.Output<string>;
    /** False after a refresh found keepalived not running; the next up starts it. */
    declare public readonly running: pulumi.Output<boolean>;

    constructor(name: string, args: KeepalivedArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("Keepalived", name, args);
        super("Keepalived", name, { ...args }, ["configPath", "pidFile", "files", "scratch", "running"], opts, ["config", "files"]);
    }
}

export interface VrrpElectionArgs {
    /** The virtual address, without prefix. */
    address: pulumi.Input<string>;
    /** Every node of the VRRP group: its name and how to reach it. Kept secret in the state. */
    nodes: pulumi.Input<{ name: pulumi.Input<string>; connection: pulumi.Input<ConnectionInput> }[]>;
    /** How long create and update wait for exactly one holder, in whole seconds (1..300). */
    seconds: pulumi.Input<number>;
    /** Opaque; any change makes up wait for the election again (e.g. a digest of the keepalived configs). */
    revision?: pulumi.Input<string>;
    /** How long one node must hold the address alone to count as elected, in whole seconds (1..60, default 2). */
    stable?: pulumi.Input<number>;
}

/**
 * Which node holds a VRRP virtual address, read on every node (`ip -j addr
 * show to`). Owns nothing on the hosts: create and update wait until exactly
 * one node holds the address and fail naming the holders otherwise (none:
 * keepalived down or VRRP blocked; several: split brain); refresh records the
 * holder of the moment, and an unsettled one makes the next up wait again.
 */
export class VrrpElection extends pulumi.dynamic.Resource {
    /** The node that held the address when last read. */
    declare public readonly holder: pulumi.Output<string>;
    /** Every node that held it when last read (one, when settled). */
    declare public readonly holders: pulumi.Output<string[]>;
    declare public readonly address: pulumi.Output<string>;

    constructor(name: string, args: VrrpElectionArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("VrrpElection", name, args);
        const props = { ...args, nodes: pulumi.secret(args.nodes), holder: undefined, holders: undefined };
        super(providerFor("VrrpElection"), name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["nodes", "revision"] }), "routed-overlay", "VrrpElection");
    }
}

/** A host on the path a PathCheck may read counters on: a node that can be the client's next hop. */
export interface PathCheckNode {
    /** The node's name in messages. */
    name: pulumi.Input<string>;
    /** The node's address as the client's next hop (matched against the client's route). */
    address: pulumi.Input<string>;
    /** How to reach the node over SSH, to read its counters. Kept secret in the state. */
    connection: pulumi.Input<ConnectionInput>;
}

export interface PathCheckArgs {
    /** The host the check runs from (a peer, a host behind a router): its name in messages, and how to reach it. Kept secret in the state. */
    client: pulumi.Input<{ name: pulumi.Input<string>; connection: pulumi.Input<ConnectionInput> }>;
    /** Pod addresses that must answer ping from the client (at least one). */
    targets: pulumi.Input<pulumi.Input<string>[]>;
    /** A TCP port every target must also accept a connection on (bash's /dev/tcp on the client, 3 s per try). Default: ICMP only. */
    port?: pulumi.Input<number>;
    /** How long create and update wait for every target to answer, in whole seconds (1..300). Default 10. */
    seconds?: pulumi.Input<number>;
    /** The next hop the client must route the targets through (its return route's); a route via anything else is the first failing hop. Default: any route. */
    via?: pulumi.Input<string>;
    /** Nodes whose forwarding counters the diagnosis reads when the client's next hop is one of them. Kept secret in the state. */
    nodes?: pulumi.Input<pulumi.Input<PathCheckNode>[]>;
}

/** One target's diagnosis as a refresh recorded it. */
export interface PathCheckFailure {
    target: string;
    /** The first failing hop: "route" (none on the client), "next-hop" (does not answer), "beyond-next-hop" (forwarding, firewall or overlay), "port" (ping answers, TCP does not). */
    hop: "route" | "next-hop" | "beyond-next-hop" | "port";
    /** The address of that hop (the client's name for "route"). */
    at: string;
    message: string;
    counters?: Record<string, string | number>;
}

/**
 * Whether pod addresses answer from a client host, over SSH from the
 * client: ping, and TCP to `port` when set. Owns nothing on the hosts.
 * Create and update wait, bounded by `seconds`, until every target answers,
 * and otherwise fail naming the first failing hop: no route on the client
 * (or one not via `via`), the next hop not answering (ping, ARP/ND), or the
 * next hop answering and the pod not (with the next hop's forwarding
 * setting, /proc/net/snmp and FORWARD counters when it is one of `nodes`).
 * A refresh checks once and records `ok` and `failures`; a broken path shows
 * as drift, and the next up checks again (after whatever else it repairs).
 */
export class PathCheck extends pulumi.dynamic.Resource {
    /** Whether every target answered when last checked. */
    declare public readonly ok: pulumi.Output<boolean>;
    /** The diagnosis per failing target when last checked (empty when ok). */
    declare public readonly failures: pulumi.Output<PathCheckFailure[]>;
    declare public readonly targets: pulumi.Output<string[]>;

    constructor(name: string, args: PathCheckArgs, opts?: pulumi.CustomResourceOptions) {
        args = objectArgs("PathCheck", name, args);
        const props = { ...args, client: pulumi.secret(args.client), nodes: args.nodes === undefined ? undefined : pulumi.secret(args.nodes), ok: undefined, failures: undefined };
        super(providerFor("PathCheck"), name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["client", "nodes"] }), "routed-overlay", "PathCheck");
    }
}
