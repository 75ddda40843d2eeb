/**
 * The bad-input corpus (issue 7, part 1): arguments that every component and
 * every provider resource must refuse, each with the message that says why.
 *
 * Every case is plain, JSON-serialisable data: a target (the component or
 * resource class), its constructor arguments, and `expect`, a pattern that
 * matches one message naming the argument path and the bad value. Secrets
 * are the exception: a bad authPass or keepalived config is named by its
 * length, never echoed. Cross-object cases first construct `setup` (which
 * must succeed) and then the case itself, all in one program.
 *
 * test/unit/bad-input.test.ts runs the corpus under pulumi.runtime.setMocks:
 * components must throw from their constructors, resources must fail the
 * dynamic provider's check (what `pulumi preview` calls). The cases are also
 * meant for a real `pulumi preview`, one program per case: connections point
 * at the lab peer's management address (198.18.0.200, in RFC 2544's
 * benchmarking space) with a pinned host key that is not the peer's, so
 * anything that did connect would be refused; provider checks never connect.
 */

import { utils as sshUtils } from "ssh2";

export const COMPONENTS = ["RoutedSubnet", "ExternalReturnRoute", "GatewayVip", "TunnelFabric"] as const;
export const RESOURCES = [
    "Route", "RouteSet", "Rule", "FdbEntry", "FdbSet", "VxlanLink", "ForwardAccept", "ConntrackInvalidAccept", "Sysctl", "FrrStaticRoute", "Keepalived",
    "InterfaceAddress",
] as const;
export type ComponentTarget = (typeof COMPONENTS)[number];
export type ResourceTarget = (typeof RESOURCES)[number];
export type Target = ComponentTarget | ResourceTarget;

/** One constructor call: `new <target>(name, args)`. */
export interface Construction {
    target: Target;
    name: string;
    args: Record<string, unknown>;
}

export interface BadInputCase {
    /** Unique; also the resource name of the construction unless `name` is given. */
    id: string;
    target: Target;
    name?: string;
    /** The constructor's second argument: usually an object, but the corpus also holds null, strings, numbers and lists. */
    args: unknown;
    /** Constructed first, in order, in the same program; each must succeed. */
    setup?: Construction[];
    /** Matches a message that names the argument path and the bad value. */
    expect: RegExp;
}

/**
 * A private key made for this test run: valid, so that connections pass
 * their check, and authorized nowhere.
 */
const THROWAWAY_KEY = sshUtils.generateKeyPairSync("ed25519").private;

/** A connection that passes validation and reaches nothing (no check connects). */
export const CONNECTION = {
    host: "198.18.0.200",
    user: "root",
    privateKey: THROWAWAY_KEY,
    hostKey: "SHA256:KLR9DN/vOaa7+L8+65a7hReJd6C0uWaRC9D2JkaQrBw",
};

const conn = () => ({ ...CONNECTION });
const node = (i: number) => ({ name: `node${i}`, address: `192.168.2.${9 + i}`, connection: conn() });

/** Valid arguments of every target: each case changes one thing. */
export const BASELINE: Record<Target, Record<string, unknown>> = {
    RoutedSubnet: { cidrBlock: "10.166.0.0/16", nodes: [node(1), node(2)], nextHop: "192.168.2.10" },
    ExternalReturnRoute: { destinations: ["10.166.0.0/16"], nextHop: "192.168.2.10", targets: [{ name: "peer", connection: conn(), dev: "eth0" }] },
    GatewayVip: {
        vip: "192.168.2.250",
        segment: "192.168.2.0/24",
        virtualRouterId: 51,
        nodes: [1, 2].map((i) => ({ ...node(i), interface: "eth0" })),
    },
    TunnelFabric: {
        nodes: [1, 2, 3].map((i) => ({
            name: `node${i}`,
            address: `192.168.2.${9 + i}`,
            overlayAddress: `172.29.0.${i}`,
            interface: "eth0",
            pods: [`10.166.${i}.10`],
            connection: conn(),
        })),
        gatewayNodes: ["node1", "node2"],
        activeGateway: "node1",
        remoteCidrs: ["10.200.0.0/16"],
        overlayCidr: "172.29.0.0/24",
    },
    Route: { connection: conn(), dst: "10.1.0.0/16", gateway: "192.168.2.1", dev: "eth0" },
    RouteSet: { connection: conn(), table: 100, routes: [{ dst: "10.1.0.0/16", gateway: "192.168.2.1" }] },
    Rule: { connection: conn(), priority: 100, from: "10.1.0.0/16", table: 100 },
    FdbEntry: { connection: conn(), dev: "vx0", dst: "192.168.2.11" },
    FdbSet: { connection: conn(), dev: "vx0", entries: [{ dst: "192.168.2.11" }, { dst: "192.168.2.12" }] },
    VxlanLink: { connection: conn(), name: "vx0", vni: 42, local: "192.168.2.10", dev: "eth0", addresses: ["172.29.0.1/24"] },
    ForwardAccept: { connection: conn(), cidr: "10.166.0.0/16" },
    ConntrackInvalidAccept: { connection: conn(), cidr: "10.166.0.0/16" },
    Sysctl: { connection: conn(), key: "net.ipv4.ip_forward", value: "1" },
    FrrStaticRoute: { connection: conn(), dst: "10.166.0.0/16", nexthop: "192.168.2.10" },
    Keepalived: { connection: conn(), config: "vrrp_instance RO_51 {\n    interface eth0\n    virtual_router_id 51\n}\n" },
    InterfaceAddress: { connection: conn(), dev: "liqo.vxlan", address: "172.29.0.254/24", held: true, announce: true },
};

/**
 * A secret no message may ever show. Valid as a VRRP password (at most 8
 * plain characters), so it passes where a password is checked.
 */
export const MARKER = "s3cr3tMK";

/** What no message may show: the marker, and every line of the throwaway private key's body. */
export const SECRETS: readonly string[] = [MARKER, ...THROWAWAY_KEY.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))];

/** The first secret a message shows, or undefined. */
export const leakedSecret = (said: string) => SECRETS.find((x) => said.includes(x));

/**
 * The args with the marker in every secret field: each connection's
 * password and privateKeyPassword (its privateKey the throwaway key), every authPass (added to a
 * GatewayVip's args when absent) and a keepalived config; `passwords:
 * false` leaves authPass and configs alone (their cases test those values).
 */
export function withMarkers(args: unknown, target?: Target, opts: { passwords?: boolean } = {}): unknown {
    const passwords = opts.passwords !== false;
    const walk = (v: unknown, key?: string): unknown => {
        if (Array.isArray(v)) return v.map((x) => walk(x));
        if (v && typeof v === "object") {
            const o: Record<string, unknown> = {};
            for (const [k, x] of Object.entries(v)) o[k] = walk(x, k);
            // The private key stays a valid one (the throwaway key, itself a secret that SECRETS covers).
            if ("privateKey" in o || "hostKey" in o) Object.assign(o, { privateKey: THROWAWAY_KEY, password: MARKER, privateKeyPassword: MARKER });
            if ("authPass" in o && passwords) o.authPass = MARKER;
            return o;
        }
        if (key === "config" && typeof v === "string" && passwords) return `${v}# auth_pass ${MARKER}\n`;
        return v;
    };
    const out = walk(args) as Record<string, unknown>;
    if (target === "GatewayVip" && passwords && out && typeof out === "object" && !Array.isArray(out) && !("authPass" in out)) out.authPass = MARKER;
    return out;
}

/** The baseline of `target` with `over` applied; keys set to undefined are removed (the result stays JSON). */
function withArgs(target: Target, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = JSON.parse(JSON.stringify(BASELINE[target]));
    for (const [k, v] of Object.entries(over)) {
        if (v === undefined) delete out[k];
        else out[k] = v;
    }
    return out;
}

/** A case of `target` whose args are the baseline with `over` applied. */
const bad = (target: Target) => (id: string, over: Record<string, unknown>, expect: RegExp, extra: Partial<BadInputCase> = {}): BadInputCase =>
    ({ id, target, args: withArgs(target, over), expect, ...extra });

/** The baseline's list of nodes, with `patch` applied to node `i`. */
function patchNode(target: Target, i: number, patch: Record<string, unknown>): Record<string, unknown>[] {
    const nodes = JSON.parse(JSON.stringify(BASELINE[target].nodes)) as Record<string, unknown>[];
    nodes[i] = { ...nodes[i], ...patch };
    for (const k of Object.keys(nodes[i])) if (nodes[i][k] === undefined) delete nodes[i][k];
    return nodes;
}

const subnet = bad("RoutedSubnet");
const ret = bad("ExternalReturnRoute");
const vip = bad("GatewayVip");
const fabric = bad("TunnelFabric");
const route = bad("Route");
const routeSet = bad("RouteSet");
const rule = bad("Rule");
const fdb = bad("FdbEntry");
const fdbSet = bad("FdbSet");
const vxlan = bad("VxlanLink");
const forward = bad("ForwardAccept");
const invalid = bad("ConntrackInvalidAccept");
const sysctl = bad("Sysctl");
const frr = bad("FrrStaticRoute");
const keepalived = bad("Keepalived");
const address = bad("InterfaceAddress");

const peer = { name: "peer", connection: conn(), dev: "eth0" };

/** A case whose args are given whole, not as a change to the baseline. */
const whole = (target: Target) => (id: string, args: unknown, expect: RegExp): BadInputCase => ({ id, target, args, expect });

/** A real host key (public, so fine to publish): cut or relabelled, it is a realistic paste error. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINGC5+zN5l1sj+EbmvPSe8/o/Kvf4kbhMQTEqLRVGH2B";
/** A connection with `patch` applied (keys set to undefined removed). */
function connWith(patch: Record<string, unknown>): Record<string, unknown> {
    const c: Record<string, unknown> = { ...CONNECTION, ...patch };
    for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
    return c;
}
/** The baseline's nodes, each with its connection patched. */
const nodesWithConn = (target: Target, patch: Record<string, unknown>) =>
    (BASELINE[target].nodes as Record<string, unknown>[]).map((n) => ({ ...n, connection: connWith(patch) }));

/**
 * Cases added with issue 13: what realistic mistakes look like in a CI log.
 * Shapes (args that are no object, lists given as one object or as a map),
 * misspelt properties that hold a connection (whose value must never be
 * shown), connections checked once per node (host:port, cut or relabelled
 * host keys), addresses the kernel reads differently from what was written
 * (octal octets and prefixes), endpoints that are no host (multicast,
 * unspecified), next hops inside what they route, and twins.
 */
const ISSUE_13: BadInputCase[] = [
    // ---- args that are not an object
    whole("RoutedSubnet")("subnet-args-null", null, /args: must be an object of RoutedSubnetArgs: null/),
    whole("ExternalReturnRoute")("return-args-string", "10.166.0.0/16 via 192.168.2.10", /args: must be an object of ExternalReturnRouteArgs: "10\.166\.0\.0\/16 via 192\.168\.2\.10"/),
    whole("GatewayVip")("vip-args-number", 51, /args: must be an object of GatewayVipArgs: 51/),
    whole("TunnelFabric")("fabric-args-list", [BASELINE.TunnelFabric], /args: must be an object of TunnelFabricArgs: \[\{"nodes":\[\{"name":"node1",.*"connection":"\(not shown: may be a secret\)"/),
    whole("Route")("route-args-null", null, /args: must be an object of RouteArgs: null/),
    whole("RouteSet")("route-set-args-list", [{ dst: "10.1.0.0/16", gateway: "192.168.2.1" }], /args: must be an object of RouteSetArgs: \[\{"dst":"10\.1\.0\.0\/16"/),
    whole("Sysctl")("sysctl-args-string", "net.ipv4.ip_forward=1", /args: must be an object of SysctlArgs: "net\.ipv4\.ip_forward=1"/),
    whole("Keepalived")("keepalived-args-number", 0, /args: must be an object of KeepalivedArgs: 0/),

    // ---- lists of the wrong shape, each holding connections that must not be shown
    subnet("subnet-nodes-one-object", { nodes: node(1) }, /args\.nodes: must be a list of at least 1 nodes: \{"name":"node1","address":"192\.168\.2\.10","connection":"\(not shown: may be a secret\)"\}/),
    subnet("subnet-nodes-as-map", { nodes: { node1: node(1), node2: node(2) } }, /args\.nodes: must be a list .*: \{"node1":\{"name":"node1",.*"connection":"\(not shown: may be a secret\)"/),
    ret("return-targets-one-object", { targets: peer }, /args\.targets: needs at least one host: \{"name":"peer","connection":"\(not shown: may be a secret\)","dev":"eth0"\}/),
    vip("vip-nodes-as-map", { nodes: { node1: { ...node(1), interface: "eth0" }, node2: { ...node(2), interface: "eth0" } } }, /args\.nodes: must be a list: \{"node1":\{.*"connection":"\(not shown: may be a secret\)"/),
    fabric("fabric-nodes-one-object", { nodes: (BASELINE.TunnelFabric.nodes as unknown[])[0] }, /args\.nodes: must be a list .*: \{"name":"node1",.*"connection":"\(not shown: may be a secret\)"/),
    subnet("subnet-return-routes-one-object", { returnRoutes: peer }, /args\.returnRoutes: needs at least one host: \{"name":"peer"/),
    fabric("fabric-gateway-nodes-string", { gatewayNodes: "node1,node2" }, /args\.gatewayNodes: must be a list of at least 1 entries: "node1,node2"/),
    routeSet("route-set-routes-as-map", { routes: { "10.1.0.0/16": { gateway: "192.168.2.1" } } }, /routes\["10\.1\.0\.0\/16"\]\.dst: not a CIDR: \(absent\)/),

    // ---- misspelt properties that hold a connection: refused, and never echoed
    subnet("subnet-node-conection", { nodes: patchNode("RoutedSubnet", 0, { connection: undefined, conection: conn() }) },
        /args\.nodes\[0\]\.conection: unknown property \(known: name, address, interface, connection, priority, overlayAddress, pods\): \(not shown: a secret, an object\)/),
    ret("return-target-connexion", { targets: [{ name: "peer", connexion: conn(), dev: "eth0" }] }, /args\.targets\[0\]\.connexion: unknown property .*: \(not shown: a secret, an object\)/),
    vip("vip-node-conn", { nodes: [1, 2].map((i) => ({ name: `node${i}`, address: `192.168.2.${9 + i}`, interface: "eth0", conn: conn() })) },
        /args\.nodes\[0\]\.conn: unknown property .*: \(not shown: a secret, an object\)/),
    fabric("fabric-node-ssh", { nodes: patchNode("TunnelFabric", 0, { connection: undefined, ssh: conn() }) }, /args\.nodes\[0\]\.ssh: unknown property .*: "\(a connection to 198\.18\.0\.200, not shown\)"/),
    route("route-conection", { connection: undefined, conection: conn() }, /conection: unknown property .*: \(not shown: a secret, an object\)/),
    sysctl("sysctl-private-key-misspelt", { connection: connWith({ privatekey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", privateKey: undefined }) },
        /connection\.privatekey: unknown property .*: \(not shown: a secret, \d+ characters\)/),
    vip("vip-auth-pass-misspelt", { auth_pass: "hunter2" }, /args\.auth_pass: unknown property .*: \(not shown: a secret, 7 characters\)/),

    // ---- connections: checked once per node at construction, naming the node
    subnet("subnet-connection-host-port", { nodes: nodesWithConn("RoutedSubnet", { host: "192.168.2.10:2222" }) },
        /args\.nodes\[0\]\.connection\.host: give the port as port: 2222, not in host \(node node1\): "192\.168\.2\.10:2222"/),
    vip("vip-connection-ipv6-brackets", { nodes: (BASELINE.GatewayVip.nodes as Record<string, unknown>[]).map((n) => ({ ...n, connection: connWith({ host: "[fd00::10]:22" }) })) },
        /args\.nodes\[1\]\.connection\.host: an IPv6 address without brackets .*\(node node2\): "\[fd00::10\]:22"/),
    fabric("fabric-connection-colons", { nodes: nodesWithConn("TunnelFabric", { host: ":::" }) }, /args\.nodes\[2\]\.connection\.host: not an IP address \(node node3\): ":::"/),
    subnet("subnet-connection-host-key-cut", { nodes: nodesWithConn("RoutedSubnet", { hostKey: HOST_KEY.slice(0, -10) }) },
        /args\.nodes\[0\]\.connection\.hostKey: the base64 part is not a complete ssh-ed25519 key \(cut short, or a key of another type\) \(node node1\)/),
    ret("return-connection-host-key-wrong-type", { targets: [{ ...peer, connection: connWith({ hostKey: `ssh-rsa ${HOST_KEY.split(" ")[1]}` }) }] },
        /args\.targets\[0\]\.connection\.hostKey: the base64 part is not a complete ssh-rsa key/),
    vip("vip-connection-host-key-banner", { nodes: (BASELINE.GatewayVip.nodes as Record<string, unknown>[]).map((n) => ({ ...n, connection: connWith({ hostKey: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" }) })) },
        /args\.nodes\[0\]\.connection\.hostKey: expected "ssh-ed25519 AAAA\.\.\.", a known_hosts line, ssh-keyscan output or "SHA256:\.\.\." \(node node1\)/),
    subnet("subnet-connection-no-credentials", { nodes: nodesWithConn("RoutedSubnet", { privateKey: undefined }) },
        /args\.nodes\[1\]\.connection: give privateKey, password or agentSocketPath \(node node2\)/),
    fabric("fabric-connection-missing", { nodes: patchNode("TunnelFabric", 1, { connection: undefined }) }, /args\.nodes\[1\]\.connection: required: how to reach the node over SSH/),
    subnet("subnet-connection-key-path", { nodes: nodesWithConn("RoutedSubnet", { privateKey: "~/.ssh/id_ed25519" }) },
        /args\.nodes\[0\]\.connection\.privateKey: looks like a file path: give the key's contents .* \(node node1\)$/m),
    ret("return-connection-key-pkcs8", { targets: [{ ...peer, connection: connWith({ privateKey: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n" }) }] },
        /args\.targets\[0\]\.connection\.privateKey: not a private key the SSH transport can read/),
    route("route-connection-host-key-marker", { connection: connWith({ hostKey: `@revoked * ${HOST_KEY}` }) }, /connection\.hostKey: known_hosts markers such as @revoked are not supported/),
    frr("frr-connection-host-port", { connection: connWith({ host: "router.example:22" }) }, /connection\.host: give the port as port: 22, not in host: "router\.example:22"/),
    keepalived("keepalived-connection-user", { connection: connWith({ user: "root -oProxyCommand=sh" }) }, /connection\.user: not a user name: "root -oProxyCommand=sh"/),

    // ---- IPv4 with leading zeros: iproute2 and iptables read them as octal
    subnet("subnet-cidr-octal", { cidrBlock: "010.30.0.0/16" }, /args\.cidrBlock: an IPv4 octet with a leading zero, which iproute2 and iptables read as octal .*: "010\.30\.0\.0\/16"/),
    subnet("subnet-node-address-octal", { nodes: patchNode("RoutedSubnet", 1, { address: "192.168.2.011" }) }, /args\.nodes\[1\]\.address: an IPv4 octet with a leading zero.*: "192\.168\.2\.011"/),
    subnet("subnet-next-hop-octal", { nextHop: "192.168.002.10" }, /args\.nextHop: an IPv4 octet with a leading zero.*: "192\.168\.002\.10"/),
    ret("return-destination-octal", { destinations: ["10.166.0.0/16", "010.167.0.0/16"] }, /args\.destinations\[1\]: an IPv4 octet with a leading zero.*: "010\.167\.0\.0\/16"/),
    ret("return-destination-octal-prefix", { destinations: ["10.166.0.0/016"] }, /args\.destinations\[0\]: a prefix length with a leading zero, which iproute2 reads as octal .*: "10\.166\.0\.0\/016"/),
    vip("vip-octal", { vip: "192.168.2.0250" }, /args\.vip: (an IPv4 octet with a leading zero|not an IPv4 address).*: "192\.168\.2\.0250"/),
    vip("vip-node-address-octal", { nodes: patchNode("GatewayVip", 0, { address: "192.168.02.10" }) }, /args\.nodes\[0\]\.address: an IPv4 octet with a leading zero.*: "192\.168\.02\.10"/),
    fabric("fabric-underlay-octal", { nodes: patchNode("TunnelFabric", 2, { address: "192.168.2.012" }) }, /args\.nodes\[2\]\.address: an IPv4 octet with a leading zero.*: "192\.168\.2\.012"/),
    fabric("fabric-remote-octal", { remoteCidrs: ["010.200.0.0/16"] }, /args\.remoteCidrs\[0\]: an IPv4 octet with a leading zero.*: "010\.200\.0\.0\/16"/),
    route("route-dst-octal", { dst: "010.1.0.0/16" }, /dst: an IPv4 octet with a leading zero.*: "010\.1\.0\.0\/16"/),
    route("route-gateway-octal", { gateway: "192.168.2.01" }, /gateway: an IPv4 octet with a leading zero.*: "192\.168\.2\.01"/),
    routeSet("route-set-gateway-octal", { routes: [{ dst: "10.1.0.0/16", gateway: "192.168.02.1" }] }, /routes\["10\.1\.0\.0\/16"\]\.gateway: an IPv4 octet with a leading zero.*: "192\.168\.02\.1"/),
    rule("rule-from-octal-prefix", { from: "10.1.0.0/016" }, /from: a prefix length with a leading zero, which iproute2 reads as octal .*: "10\.1\.0\.0\/016"/),
    forward("forward-cidr-octal", { cidr: "010.166.0.0/16" }, /cidr: an IPv4 octet with a leading zero.*: "010\.166\.0\.0\/16"/),
    invalid("invalid-cidr-octal", { cidr: "10.166.000.0/16" }, /cidr: an IPv4 octet with a leading zero.*: "10\.166\.000\.0\/16"/),
    frr("frr-nexthop-octal", { nexthop: "192.168.2.010" }, /nexthop: an IPv4 octet with a leading zero.*: "192\.168\.2\.010"/),
    vxlan("vxlan-address-octal-prefix", { addresses: ["172.29.0.1/024"] }, /addresses\[0\]: not an interface address with a prefix length .*: "172\.29\.0\.1\/024"/),
    fdb("fdb-dst-octal", { dst: "192.168.2.011" }, /dst: an IPv4 octet with a leading zero.*: "192\.168\.2\.011"/),

    // ---- tunnel endpoints that are no host: multicast, unspecified, broadcast
    vxlan("vxlan-local-multicast", { local: "239.1.1.1" }, /local: a multicast address, not a host's address; local is the VTEP address .*: "239\.1\.1\.1"/),
    vxlan("vxlan-local-unspecified", { local: "0.0.0.0" }, /local: an unspecified \("this network"\) address, not a host's address.*: "0\.0\.0\.0"/),
    fdb("fdb-dst-multicast", { dst: "224.0.0.251" }, /dst: a multicast address, not a host's address; dst is the remote VTEP's underlay address: "224\.0\.0\.251"/),
    fdbSet("fdb-set-dst-unspecified", { entries: [{ dst: "192.168.2.11" }, { dst: "0.0.0.0" }] }, /entries\[.*\]\.dst: an unspecified \("this network"\) address.*: "0\.0\.0\.0"/),
    fdbSet("fdb-set-dst-ipv6-multicast", { entries: [{ dst: "ff02::1" }] }, /entries\[.*\]\.dst: a multicast address, not a host's address.*: "ff02::1"/),
    fabric("fabric-underlay-multicast", { nodes: patchNode("TunnelFabric", 0, { address: "239.0.0.10" }) }, /args\.nodes\[0\]\.address: a multicast address, not a host's address.*: "239\.0\.0\.10"/),
    fabric("fabric-underlay-unspecified", { nodes: patchNode("TunnelFabric", 1, { address: "0.0.0.0" }) }, /args\.nodes\[1\]\.address: an unspecified .*: "0\.0\.0\.0"/),
    subnet("subnet-node-address-broadcast", { nodes: patchNode("RoutedSubnet", 0, { address: "255.255.255.255" }) }, /args\.nodes\[0\]\.address: the broadcast address, not a host's address.*: "255\.255\.255\.255"/),

    // ---- a next hop inside what it routes
    subnet("subnet-next-hop-pod-gateway", { nextHop: "10.166.0.1", returnRoutes: [peer] },
        /args\.nextHop: inside cidrBlock 10\.166\.0\.0\/16, the destination it routes; give the address of a node or a GatewayVip: "10\.166\.0\.1"/),
    subnet("subnet-next-hop-network", { nextHop: "10.166.0.0" }, /args\.nextHop: inside cidrBlock 10\.166\.0\.0\/16, the destination it routes.*: "10\.166\.0\.0"/),
    ret("return-next-hop-inside", { nextHop: "10.166.3.7" }, /args\.nextHop: inside destinations\[0\] 10\.166\.0\.0\/16, the destination it routes.*: "10\.166\.3\.7"/),
    ret("return-next-hop-multicast", { nextHop: "224.0.0.18" }, /args\.nextHop: a multicast address, not a host to route through: "224\.0\.0\.18"/),
    route("route-gateway-network-address", { gateway: "10.1.0.0" }, /gateway: the network address of dst 10\.1\.0\.0\/16, not a host: "10\.1\.0\.0"/),
    route("route-gateway-broadcast", { gateway: "10.1.255.255" }, /gateway: the broadcast address of dst 10\.1\.0\.0\/16, not a host: "10\.1\.255\.255"/),
    frr("frr-nexthop-network-address", { nexthop: "10.166.0.0" }, /nexthop: the network address of dst 10\.166\.0\.0\/16, not a host: "10\.166\.0\.0"/),
    routeSet("route-set-gateway-unspecified", { routes: [{ dst: "10.1.0.0/16", gateway: "0.0.0.0" }] }, /routes\[.*\]\.gateway: an unspecified .*, not a neighbour to route through: "0\.0\.0\.0"/),

    // ---- names that come from elsewhere
    subnet("subnet-component-name-as-subnet-name", {}, /^ {2}name: not a valid Subnet name .*; it is the Subnet's name unless args\.subnetName is given: "Routed_Subnet"$/m, { name: "Routed_Subnet" }),
    vip("vip-node-iface", { nodes: (BASELINE.GatewayVip.nodes as Record<string, unknown>[]).map(({ interface: i, ...n }) => ({ ...n, iface: i })) },
        /args\.nodes\[0\]\.iface: unknown property \(known: name, address, interface, connection, priority, overlayAddress, pods\): "eth0"/),

    // ---- twins
    subnet("subnet-two-nodes-one-address", { nodes: [node(1), { ...node(2), address: "192.168.2.10" }] }, /args\.nodes\[1\]\.address: the address of args\.nodes\[0\] too: "192\.168\.2\.10"/),
    ret("return-destination-twice-linux", { destinations: ["10.166.0.0/16", "10.166.0.0/16"] }, /args\.destinations\[1\]: the same destination as args\.destinations\[0\]; each is routed once: "10\.166\.0\.0\/16"/),
    ret("return-destination-twice-frr", { destinations: ["fd00:10:166::/112", "FD00:10:166::/112"], nextHop: "fd00::10", targets: [{ name: "router", kind: "frr", connection: conn() }] },
        /args\.destinations\[1\]: the same destination as args\.destinations\[0\]; each is routed once: "FD00:10:166::\/112"/),
    ret("return-destination-twice-host-route", { destinations: ["10.170.0.5", "10.170.0.5/32"], targets: [{ name: "router", kind: "frr", connection: conn() }] },
        /args\.destinations\[1\]: the same destination as args\.destinations\[0\]; each is routed once: "10\.170\.0\.5\/32"/),

    // ---- valid Linux stays valid, metacharacters do not
    sysctl("sysctl-multi-value-metachar", { key: "net.ipv4.ip_local_port_range", value: "32768 60999; reboot" }, /value: not a plain sysctl value .*: "32768 60999; reboot"/),
    sysctl("sysctl-multi-value-newline", { key: "net.ipv4.ip_local_port_range", value: "32768\n60999" }, /value: not a plain sysctl value .*: "32768\\n60999"/),
];

export const CORPUS: BadInputCase[] = [
    // ---- RoutedSubnet
    subnet("subnet-cidr-no-prefix", { cidrBlock: "10.166.0.0" }, /args\.cidrBlock: not a CIDR .*: "10\.166\.0\.0"/),
    subnet("subnet-cidr-prefix-33", { cidrBlock: "10.166.0.0/33" }, /args\.cidrBlock: not a CIDR .*: "10\.166\.0\.0\/33"/),
    subnet("subnet-cidr-garbage", { cidrBlock: "10.166.0.0/16; reboot" }, /args\.cidrBlock: not a CIDR .*: "10\.166\.0\.0\/16; reboot"/),
    subnet("subnet-cidr-host-bits", { cidrBlock: "10.166.0.1/16" }, /args\.cidrBlock: host bits set \(use the network address 10\.166\.0\.0\/16\): "10\.166\.0\.1\/16"/),
    subnet("subnet-cidr-ipv6-first", { cidrBlock: "fd00:10:166::/112,10.166.0.0/16" }, /args\.cidrBlock: at most one IPv4 and one IPv6 CIDR, IPv4 first: "fd00:10:166::\/112,10\.166\.0\.0\/16"/),
    subnet("subnet-gateway-outside", { gateway: "10.167.0.1" }, /args\.gateway: outside cidrBlock 10\.166\.0\.0\/16: "10\.167\.0\.1"/),
    subnet("subnet-gateway-ipv6-for-ipv4", { gateway: "fd00:10:166::1" }, /args\.gateway: outside cidrBlock 10\.166\.0\.0\/16: "fd00:10:166::1"/),
    subnet("subnet-gateway-broadcast", { gateway: "10.166.255.255" }, /args\.gateway: the network or broadcast address of 10\.166\.0\.0\/16.*: "10\.166\.255\.255"/),
    subnet("subnet-exclude-outside", { excludeIps: ["10.167.0.5"] }, /args\.excludeIps\[0\]: outside cidrBlock 10\.166\.0\.0\/16: "10\.167\.0\.5"/),
    subnet("subnet-exclude-reversed", { excludeIps: ["10.166.0.20..10.166.0.10"] }, /args\.excludeIps\[0\]: range start after its end: "10\.166\.0\.20\.\.10\.166\.0\.10"/),
    subnet("subnet-protocol-ipv4-ipv6-cidr", { cidrBlock: "fd00:10:166::/112", protocol: "IPv4" }, /args\.protocol: IPv4 needs a single IPv4 CIDR in cidrBlock fd00:10:166::\/112: "IPv4"/),
    subnet("subnet-centralized-no-gateway-node", { gatewayType: "centralized" }, /args\.gatewayNode: gatewayType centralized requires gatewayNode .*: \(absent\)/),
    subnet("subnet-gateway-node-number", { gatewayType: "centralized", gatewayNode: 5 }, /args\.gatewayNode: must be a node name list or Kube-OVN's comma-separated string: 5/),
    subnet("subnet-gateway-node-entry-number", { gatewayType: "centralized", gatewayNode: [5] }, /args\.gatewayNode\[0\]: must be "node" or "node:ip": 5/),
    subnet("subnet-gateway-node-not-a-node", { gatewayType: "centralized", gatewayNode: "node9" }, /args\.gatewayNode: not among nodes .*: "node9"/),
    subnet("subnet-nat-outgoing", { natOutgoing: true }, /args\.natOutgoing: must be false: routed mode exposes pod IPs.*: true/),
    subnet("subnet-other-vpc", { vpc: "tenant-a" }, /args\.vpc: routed interconnection works for overlay subnets of the default VPC .*: "tenant-a"/),
    subnet("subnet-unknown-property", { gatewaytype: "centralized" }, /args\.gatewaytype: unknown property .*: "centralized"/),
    subnet("subnet-no-nodes", { nodes: [] }, /args\.nodes: needs at least 1 node: \[\]/),
    subnet("subnet-node-twice", { nodes: [node(1), node(1)] }, /args\.nodes\[1\]\.name: appears twice: "node1"/),
    subnet("subnet-node-name-metachar", { nodes: patchNode("RoutedSubnet", 0, { name: "node1;reboot" }) }, /args\.nodes\[0\]\.name: not a valid node name .*: "node1;reboot"/),
    subnet("subnet-node-address", { nodes: patchNode("RoutedSubnet", 0, { address: "192.168.2.300" }) }, /args\.nodes\[0\]\.address: not an IP address: "192\.168\.2\.300"/),
    subnet("subnet-next-hop-not-ip", { nextHop: "gw.example" }, /args\.nextHop: not an IP address: "gw\.example"/),
    subnet("subnet-firewall-backend", { firewallBackend: "pf" }, /args\.firewallBackend: must be auto, iptables or nft: "pf"/),
    subnet("subnet-return-dev-metachar", { returnRoutes: [{ ...peer, dev: "eth0;reboot" }] }, /args\.returnRoutes\[0\]\.dev: not a Linux interface name .*: "eth0;reboot"/),
    subnet("subnet-ipv6-default-next-hop-ipv4", { cidrBlock: "fd00:10:166::/112", nextHop: undefined, returnRoutes: [peer] },
        /args\.nextHop: not of the IP family of the destinations \(the default, the address of node node1\): "192\.168\.2\.10"/),
    subnet("subnet-dual-stack-one-next-hop", { cidrBlock: "10.166.0.0/16,fd00:10:166::/112", nextHop: "192.168.2.250", returnRoutes: [peer] },
        /args\.nextHop: an IPv4 next hop cannot serve cidrBlock fd00:10:166::\/112: "192\.168\.2\.250"/),
    subnet("subnet-overlaps-another", { cidrBlock: "10.166.128.0/17" },
        /args\.cidrBlock: overlaps cidrBlock "10\.166\.0\.0\/16" of RoutedSubnet "first"; .*: "10\.166\.128\.0\/17"/,
        { setup: [{ target: "RoutedSubnet", name: "first", args: withArgs("RoutedSubnet", {}) }] }),
    subnet("subnet-name-twice", { cidrBlock: "10.167.0.0/16", subnetName: "shared" },
        /args\.subnetName: already the Subnet name of RoutedSubnet "first": "shared"/,
        { setup: [{ target: "RoutedSubnet", name: "first", args: withArgs("RoutedSubnet", { subnetName: "shared" }) }] }),

    // ---- ExternalReturnRoute
    ret("return-no-destinations", { destinations: [] }, /args\.destinations: needs at least 1 CIDR: \[\]/),
    ret("return-destination-malformed", { destinations: ["10.166.0.0/16x"] }, /args\.destinations\[0\]: not a CIDR: "10\.166\.0\.0\/16x"/),
    ret("return-destination-host-bits", { destinations: ["10.166.0.1/16"] }, /args\.destinations\[0\]: host bits set; the network is 10\.166\.0\.0\/16: "10\.166\.0\.1\/16"/),
    ret("return-next-hop-ipv6", { nextHop: "fd00::1" }, /args\.nextHop: not of the IP family of the destinations: "fd00::1"/),
    ret("return-next-hop-mixed", { destinations: ["10.166.0.0/16", "fd00:10:166::/112"] },
        /args\.nextHop: an IPv4 next hop cannot serve destinations\[1\] fd00:10:166::\/112: "192\.168\.2\.10"/),
    ret("return-next-hop-not-ip", { nextHop: "192.168.2.256" }, /args\.nextHop: not an IP address: "192\.168\.2\.256"/),
    ret("return-dev-subshell", { targets: [{ ...peer, dev: "$(id)" }] }, /args\.targets\[0\]\.dev: not a Linux interface name .*: "\$\(id\)"/),
    ret("return-dev-too-long", { targets: [{ ...peer, dev: "enp0s31f6-uplink0" }] }, /args\.targets\[0\]\.dev: not a Linux interface name .*: "enp0s31f6-uplink0"/),
    ret("return-target-name", { targets: [{ ...peer, name: "Peer_1" }] }, /args\.targets\[0\]\.name: not a valid target name \(DNS-1123 label.*\): "Peer_1"/),
    ret("return-target-kind", { targets: [{ ...peer, kind: "cisco" }] }, /args\.targets\[0\]\.kind: must be linux or frr: "cisco"/),
    ret("return-frr-with-dev", { targets: [{ ...peer, kind: "frr" }] }, /args\.targets\[0\]\.dev: FRR picks the interface itself; remove dev: "eth0"/),
    ret("return-unknown-property", { nexthop: "192.168.2.10" }, /args\.nexthop: unknown property .*: "192\.168\.2\.10"/),
    ret("return-target-unknown-property", { targets: [{ ...peer, device: "eth1" }] }, /args\.targets\[0\]\.device: unknown property .*: "eth1"/),

    // ---- GatewayVip
    vip("vip-vrid-0", { virtualRouterId: 0 }, /args\.virtualRouterId: must be an integer from 1 to 255: 0/),
    vip("vip-vrid-256", { virtualRouterId: 256 }, /args\.virtualRouterId: must be an integer from 1 to 255: 256/),
    vip("vip-vrid-float", { virtualRouterId: 51.5 }, /args\.virtualRouterId: must be an integer from 1 to 255: 51\.5/),
    vip("vip-priority-255", { nodes: [patchNode("GatewayVip", 0, { priority: 255 })[0], patchNode("GatewayVip", 1, { priority: 100 })[1]] },
        /args\.nodes\[0\]\.priority: must be an integer from 1 to 254 .*: 255/),
    vip("vip-priority-0", { nodes: [patchNode("GatewayVip", 0, { priority: 100 })[0], patchNode("GatewayVip", 1, { priority: 0 })[1]] },
        /args\.nodes\[1\]\.priority: must be an integer from 1 to 254 .*: 0/),
    vip("vip-outside-segment", { vip: "192.168.3.250" }, /args\.vip: outside segment 192\.168\.2\.0\/24: "192\.168\.3\.250"/),
    vip("vip-outside-nodes-network", { vip: "192.168.3.250/24", segment: undefined },
        /args\.vip: outside the nodes' segment \(nodes\[0\]\.address "192\.168\.2\.10" is not in 192\.168\.3\.0\/24\): "192\.168\.3\.250\/24"/),
    vip("vip-ipv6", { vip: "fd00::250", segment: undefined }, /args\.vip: IPv6 is not supported here, need an IPv4 address: "fd00::250"/),
    vip("vip-segment-host-bits", { segment: "192.168.2.1/24" }, /args\.segment: host bits set \(use the network address 192\.168\.2\.0\/24\): "192\.168\.2\.1\/24"/),
    vip("vip-interface-semicolon", { nodes: patchNode("GatewayVip", 0, { interface: "eth0;reboot" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "eth0;reboot"/),
    vip("vip-interface-backticks", { nodes: patchNode("GatewayVip", 0, { interface: "`reboot`" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "`reboot`"/),
    vip("vip-interface-subshell", { nodes: patchNode("GatewayVip", 1, { interface: "$(id)" }) }, /args\.nodes\[1\]\.interface: not a Linux interface name .*: "\$\(id\)"/),
    vip("vip-interface-too-long", { nodes: patchNode("GatewayVip", 0, { interface: "averyveryverylongif" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "averyveryverylongif"/),
    vip("vip-interface-slash", { nodes: patchNode("GatewayVip", 0, { interface: "eth0/1" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "eth0\/1"/),
    vip("vip-interface-space", { nodes: patchNode("GatewayVip", 0, { interface: "eth 0" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "eth 0"/),
    vip("vip-single-node", { nodes: patchNode("GatewayVip", 0, {}).slice(0, 1) }, /args\.nodes: needs at least 2 nodes, one node is a single point of failure: \[\{"name":"node1"/),
    vip("vip-unknown-property", { advert_int: 1 }, /args\.advert_int: unknown property .*: 1/),
    vip("vip-auth-pass-too-long", { authPass: "ninechars" }, /args\.authPass: must be 1 to 8 characters.*: \(not shown: a secret, 9 characters\)/),
    vip("vip-config-path-relative", { configPath: "keepalived.conf" }, /args\.configPath: not a plain absolute path: "keepalived\.conf"/),
    vip("vip-vrid-twice-on-segment", { vip: "192.168.2.251", nodes: [3, 4].map((i) => ({ ...node(i), interface: "eth0" })) },
        /args\.virtualRouterId: already used on segment 192\.168\.2\.0\/24 by GatewayVip "vip-a"; .*: 51/,
        { setup: [{ target: "GatewayVip", name: "vip-a", args: withArgs("GatewayVip", {}) }] }),
    vip("vip-vrid-twice-on-interface", {
        vip: "10.0.0.101",
        segment: undefined,
        virtualRouterId: 7,
        nodes: [{ name: "node1", address: "10.0.0.1", interface: "eth1", connection: conn() }, { name: "node3", address: "10.0.0.3", interface: "eth1", connection: conn() }],
    }, /args\.virtualRouterId: already used on interface eth1 of node node1 by GatewayVip "vip-a"; .*: 7/, {
        setup: [{
            target: "GatewayVip",
            name: "vip-a",
            args: withArgs("GatewayVip", {
                vip: "10.0.0.100",
                segment: undefined,
                virtualRouterId: 7,
                nodes: [{ name: "node1", address: "10.0.0.1", interface: "eth1", connection: conn() }, { name: "node2", address: "10.0.0.2", interface: "eth1", connection: conn() }],
            }),
        }],
    }),
    vip("vip-node-in-two-vips", { vip: "192.168.2.251", virtualRouterId: 52, nodes: [2, 3].map((i) => ({ ...node(i), interface: "eth0" })) },
        /args\.nodes\[0\]\.name: GatewayVip "vip-a" already runs keepalived on this node; .*: "node2"/,
        { setup: [{ target: "GatewayVip", name: "vip-a", args: withArgs("GatewayVip", {}) }] }),

    // ---- TunnelFabric
    fabric("fabric-overlay-host-bits", { overlayCidr: "172.29.0.1/24" }, /args\.overlayCidr: host bits set \(use the network address 172\.29\.0\.0\/24\): "172\.29\.0\.1\/24"/),
    fabric("fabric-overlay-malformed", { overlayCidr: "172.29.0.0/33" }, /args\.overlayCidr: not an IPv4 CIDR .*: "172\.29\.0\.0\/33"/),
    fabric("fabric-remote-ipv6", { remoteCidrs: ["fd00:200::/64"] }, /args\.remoteCidrs\[0\]: IPv6 is not supported here, need an IPv4 CIDR: "fd00:200::\/64"/),
    fabric("fabric-remote-host-bits", { remoteCidrs: ["10.200.1.0/16"] }, /args\.remoteCidrs\[0\]: host bits set .*: "10\.200\.1\.0\/16"/),
    fabric("fabric-table-0", { table: 0 }, /args\.table: not a routing table .*: 0/),
    fabric("fabric-table-253", { table: 253 }, /args\.table: table is reserved .*: 253/),
    fabric("fabric-table-254", { table: 254 }, /args\.table: table is reserved .*: 254/),
    fabric("fabric-table-255", { table: 255 }, /args\.table: table is reserved .*: 255/),
    fabric("fabric-vni-0", { vni: 0 }, /args\.vni: must be an integer from 1 to 16777215: 0/),
    fabric("fabric-vni-25-bit", { vni: 16777216 }, /args\.vni: must be an integer from 1 to 16777215: 16777216/),
    fabric("fabric-port-70000", { port: 70000 }, /args\.port: must be an integer from 1 to 65535: 70000/),
    fabric("fabric-mtu-float", { mtu: 1440.5 }, /args\.mtu: must be an integer from 68 to 9000: 1440\.5/),
    fabric("fabric-rule-priority-0", { rulePriority: 0 }, /args\.rulePriority: must be an integer from 1 to 32765: 0/),
    fabric("fabric-rule-priority-main", { rulePriority: 32766 }, /args\.rulePriority: must be an integer from 1 to 32765: 32766/),
    fabric("fabric-link-name-too-long", { linkName: "liqo.vxlan.fabric" }, /args\.linkName: not a Linux interface name .*: "liqo\.vxlan\.fabric"/),
    fabric("fabric-underlay-dev-subshell", { nodes: patchNode("TunnelFabric", 0, { interface: "$(id)" }) }, /args\.nodes\[0\]\.interface: not a Linux interface name .*: "\$\(id\)"/),
    fabric("fabric-overlay-ip-ipv6", { nodes: patchNode("TunnelFabric", 1, { overlayAddress: "fd00::2" }) }, /args\.nodes\[1\]\.overlayAddress: IPv6 is not supported here, need an IPv4 address: "fd00::2"/),
    fabric("fabric-pod-in-remote", { nodes: patchNode("TunnelFabric", 1, { pods: ["10.200.0.5"] }) }, /args\.nodes\[1\]\.pods\[0\]: a local pod inside .*: "10\.200\.0\.5"/),
    fabric("fabric-active-not-candidate", { activeGateway: "node3" }, /args\.activeGateway: must be one of args\.gatewayNodes .*: "node3"/),
    fabric("fabric-unknown-property", { activeGatway: "node2" }, /args\.activeGatway: unknown property .*: "node2"/),
    fabric("fabric-rc-namespace", { routeConfigurationNamespace: "Liqo_System" }, /args\.routeConfigurationNamespace: not a valid Kubernetes namespace .*: "Liqo_System"/),
    fabric("fabric-rc-annotation-key", { routeConfigurationAnnotations: { "bad key": "x" } }, /args\.routeConfigurationAnnotations: key is not a qualified name .*: "bad key"/),

    // ---- Route
    route("route-dst-prefix-33", { dst: "10.1.0.0/33" }, /dst: not a CIDR: "10\.1\.0\.0\/33"/),
    route("route-dst-garbage", { dst: "10.1.0.0/16 via 1.2.3.4" }, /dst: not a CIDR: "10\.1\.0\.0\/16 via 1\.2\.3\.4"/),
    route("route-dst-host-bits", { dst: "10.1.2.3/16" }, /dst: host bits set; the network is 10\.1\.0\.0\/16: "10\.1\.2\.3\/16"/),
    route("route-gateway-ipv6-for-ipv4", { gateway: "fd00::1" }, /gateway: not of the IP family of dst 10\.1\.0\.0\/16: "fd00::1"/),
    route("route-src-ipv6-for-ipv4", { src: "fd00::1" }, /src: not of the IP family of dst .*: "fd00::1"/),
    route("route-table-0", { table: 0 }, /table: not a routing table .*: 0/),
    route("route-table-253", { table: 253 }, /table: table is reserved .*: 253/),
    route("route-table-255", { table: 255 }, /table: table is reserved .*: 255/),
    route("route-table-local", { table: "local" }, /table: table is reserved .*: "local"/),
    route("route-table-unknown-name", { table: "vpn" }, /table: not a routing table .*: "vpn"/),
    route("route-metric-negative", { metric: -1 }, /metric: must be an integer from 0 to 4294967295: -1/),
    route("route-metric-float", { metric: 1.5 }, /metric: must be an integer from 0 to 4294967295: 1\.5/),
    route("route-proto-256", { proto: 256 }, /proto: must be an integer from 3 to 255: 256/),
    route("route-type-local", { type: "local" }, /type: must be one of unicast, blackhole, unreachable: "local"/),
    route("route-dev-semicolon", { dev: "eth0;reboot" }, /dev: not a Linux interface name .*: "eth0;reboot"/),
    route("route-dev-slash", { dev: "eth0/1" }, /dev: not a Linux interface name .*: "eth0\/1"/),
    route("route-unknown-property", { gatway: "192.168.2.1" }, /gatway: unknown property .*: "192\.168\.2\.1"/),
    route("route-connection-host-metachar", { connection: { ...CONNECTION, host: "198.18.0.200;reboot" } }, /connection\.host: not a host name or IP address: "198\.18\.0\.200;reboot"/),
    route("route-connection-port-0", { connection: { ...CONNECTION, port: 0 } }, /connection\.port: must be an integer from 1 to 65535: 0/),

    // ---- RouteSet (the resource keys routes by destination, and so do the messages)
    routeSet("route-set-table-255", { table: 255 }, /table: table is reserved .*: 255/),
    routeSet("route-set-table-0", { table: 0 }, /table: not a routing table .*: 0/),
    routeSet("route-set-metric-negative", { routes: [{ dst: "10.1.0.0/16", gateway: "192.168.2.1", metric: -5 }] },
        /routes\["10\.1\.0\.0\/16 metric -5"\]\.metric: must be an integer from 0 to 4294967295: -5/),
    routeSet("route-set-gateway-ipv6", { routes: [{ dst: "10.1.0.0/16", gateway: "fd00::1" }] }, /routes\["10\.1\.0\.0\/16"\]\.gateway: not of the IP family of dst .*: "fd00::1"/),
    routeSet("route-set-dev-backticks", { routes: [{ dst: "10.1.0.0/16", dev: "`id`" }] }, /routes\["10\.1\.0\.0\/16"\]\.dev: not a Linux interface name .*: "`id`"/),
    routeSet("route-set-duplicate-dst", { routes: [{ dst: "10.1.0.0/16", dev: "eth0" }, { dst: "10.1.0.0/16", dev: "eth1" }] },
        /routes\["10\.1\.0\.0\/16 \(#1\)"\]\.dst: appears twice \(metric 0\): "10\.1\.0\.0\/16"/),
    routeSet("route-set-routes-not-a-list", { routes: "10.1.0.0/16 via 192.168.2.1" }, /routes: must be a list of routes: "10\.1\.0\.0\/16 via 192\.168\.2\.1"/),
    routeSet("route-set-route-not-an-object", { routes: ["10.1.0.0/16"] }, /routes\["#0"\]: not a route: "10\.1\.0\.0\/16"/),
    routeSet("route-set-table-per-route", { routes: [{ dst: "10.1.0.0/16", dev: "eth0", table: 100 }] }, /routes\["10\.1\.0\.0\/16"\]\.table: set table on the RouteSet, not per route: 100/),

    // ---- Rule
    rule("rule-priority-0", { priority: 0 }, /priority: must be an integer from 1 to 32765: 0/),
    rule("rule-priority-main", { priority: 32766 }, /priority: must be an integer from 1 to 32765: 32766/),
    rule("rule-table-0", { table: 0 }, /table: not a routing table .*: 0/),
    rule("rule-table-local", { table: "local" }, /table: table is reserved .*: "local"/),
    rule("rule-table-253", { table: 253 }, /table: table is reserved .*: 253/),
    rule("rule-mixed-family", { to: "2001:db8::/32" }, /to: not of the IP family of from 10\.1\.0\.0\/16: "2001:db8::\/32"/),
    rule("rule-family-contradiction", { family: 6 }, /family: contradicts from\/to of IPv4: 6/),
    rule("rule-from-host-bits", { from: "10.1.2.3/16" }, /from: host bits set; the network is 10\.1\.0\.0\/16: "10\.1\.2\.3\/16"/),
    rule("rule-iif-subshell", { iif: "$(id)" }, /iif: not a Linux interface name .*: "\$\(id\)"/),
    rule("rule-oif-too-long", { oif: "averyveryverylongif" }, /oif: not a Linux interface name .*: "averyveryverylongif"/),
    rule("rule-fwmark-negative", { fwmark: -1 }, /fwmark: must be an integer from 0 to 4294967295: -1/),
    rule("rule-fwmask-alone", { fwmask: 255 }, /fwmask: needs fwmark: 255/),

    // ---- FdbEntry
    fdb("fdb-mac-short", { mac: "00:11:22:33:44" }, /mac: not a MAC address .*: "00:11:22:33:44"/),
    fdb("fdb-mac-dashes", { mac: "00-11-22-33-44-55" }, /mac: not a MAC address .*: "00-11-22-33-44-55"/),
    fdb("fdb-mac-not-hex", { mac: "00:11:22:33:44:zz" }, /mac: not a MAC address .*: "00:11:22:33:44:zz"/),
    fdb("fdb-mac-metachar", { mac: "00:11:22:33:44:55;reboot" }, /mac: not a MAC address .*: "00:11:22:33:44:55;reboot"/),
    fdb("fdb-dev-semicolon", { dev: "vx0;reboot" }, /dev: not a Linux interface name .*: "vx0;reboot"/),
    fdb("fdb-dst-not-ip", { dst: "192.168.2.300" }, /dst: not an IP address: "192\.168\.2\.300"/),
    fdb("fdb-vni-0", { vni: 0 }, /vni: must be an integer from 1 to 16777215: 0/),
    fdb("fdb-port-70000", { port: 70000 }, /port: must be an integer from 1 to 65535: 70000/),
    fdb("fdb-permanent-string", { permanent: "yes" }, /permanent: must be true or false: "yes"/),
    fdb("fdb-unknown-property", { vlan: 10 }, /vlan: unknown property .*: 10/),

    // ---- FdbSet
    fdbSet("fdb-set-mac", { entries: [{ dst: "192.168.2.11", mac: "00:11:22:33:44:gg" }] },
        /entries\["00:11:22:33:44:gg@192\.168\.2\.11"\]\.mac: not a MAC address .*: "00:11:22:33:44:gg"/),
    fdbSet("fdb-set-dev-too-long", { dev: "vxlan-fabric-0001" }, /dev: not a Linux interface name .*: "vxlan-fabric-0001"/),
    fdbSet("fdb-set-duplicate", { entries: [{ dst: "192.168.2.11" }, { dst: "192.168.2.11" }] },
        /entries\["00:00:00:00:00:00@192\.168\.2\.11 \(#1\)"\]: appears twice: "00:00:00:00:00:00@192\.168\.2\.11"/),
    fdbSet("fdb-set-entries-not-a-list", { entries: "192.168.2.11" }, /entries: must be a list of FDB entries: "192\.168\.2\.11"/),
    fdbSet("fdb-set-port-0", { entries: [{ dst: "192.168.2.11", port: 0 }] }, /entries\[.*\]\.port: must be an integer from 1 to 65535: 0/),

    // ---- VxlanLink
    vxlan("vxlan-vni-0", { vni: 0 }, /vni: must be an integer from 1 to 16777215: 0/),
    vxlan("vxlan-vni-25-bit", { vni: 16777216 }, /vni: must be an integer from 1 to 16777215: 16777216/),
    vxlan("vxlan-dstport-0", { dstport: 0 }, /dstport: must be an integer from 1 to 65535: 0/),
    vxlan("vxlan-dstport-65536", { dstport: 65536 }, /dstport: must be an integer from 1 to 65535: 65536/),
    vxlan("vxlan-name-too-long", { name: "liqo.vxlan.fabric" }, /name: not a Linux interface name .*: "liqo\.vxlan\.fabric"/),
    vxlan("vxlan-name-backticks", { name: "`reboot`" }, /name: not a Linux interface name .*: "`reboot`"/),
    vxlan("vxlan-dev-space", { dev: "eth0 eth1" }, /dev: not a Linux interface name .*: "eth0 eth1"/),
    vxlan("vxlan-address-no-prefix", { addresses: ["172.29.0.1"] }, /addresses\[0\]: not an interface address with a prefix length .*: "172\.29\.0\.1"/),
    vxlan("vxlan-mtu-67", { mtu: 67 }, /mtu: must be an integer from 68 to 65535: 67/),
    vxlan("vxlan-local-not-ip", { local: "192.168.2.300" }, /local: not an IP address: "192\.168\.2\.300"/),

    // ---- InterfaceAddress
    address("address-no-prefix", { address: "172.29.0.254" }, /address: not an interface address with a prefix length .*: "172\.29\.0\.254"/),
    address("address-dev-semicolon", { dev: "liqo.vxlan;id" }, /dev: not a Linux interface name .*: "liqo\.vxlan;id"/),
    address("address-held-string", { held: "yes" }, /held: must be true or false: "yes"/),
    address("address-unknown-property", { label: "gw" }, /label: unknown property .*: "gw"/),

    // ---- ForwardAccept, ConntrackInvalidAccept
    forward("forward-cidr-malformed", { cidr: "10.166.0.0/16/1" }, /cidr: not a CIDR: "10\.166\.0\.0\/16\/1"/),
    forward("forward-cidr-host-bits", { cidr: "10.166.0.1/16" }, /cidr: host bits set; the network is 10\.166\.0\.0\/16: "10\.166\.0\.1\/16"/),
    forward("forward-backend", { backend: "pf" }, /backend: must be auto, iptables or nft: "pf"/),
    forward("forward-nft-chain-injection", { nftChain: "inet filter forward; flush ruleset" }, /nftChain: expected .*: "inet filter forward; flush ruleset"/),
    forward("forward-unknown-property", { chain: "FORWARD" }, /chain: unknown property .*: "FORWARD"/),
    invalid("invalid-cidr-word", { cidr: "any" }, /cidr: not a CIDR: "any"/),
    invalid("invalid-cidr-host-bits", { cidr: "10.166.0.1/16" }, /cidr: host bits set; the network is 10\.166\.0\.0\/16: "10\.166\.0\.1\/16"/),
    invalid("invalid-cidr-ipv6-host-bits", { cidr: "fd00::1/64" }, /cidr: host bits set; the network is fd00::\/64: "fd00::1\/64"/),
    invalid("invalid-nft-chain-backticks", { nftChain: "inet filter `reboot`" }, /nftChain: expected .*: "inet filter `reboot`"/),

    // ---- Sysctl
    sysctl("sysctl-key-semicolon", { key: "net.ipv4.ip_forward;reboot" }, /key: not a sysctl key: "net\.ipv4\.ip_forward;reboot"/),
    sysctl("sysctl-key-path", { key: "../../etc/shadow" }, /key: not a sysctl key: "\.\.\/\.\.\/etc\/shadow"/),
    sysctl("sysctl-key-one-word", { key: "kernel" }, /key: not a sysctl key: "kernel"/),
    sysctl("sysctl-key-subshell", { key: "net.ipv4.conf.$(id).rp_filter" }, /key: not a sysctl key: "net\.ipv4\.conf\.\$\(id\)\.rp_filter"/),
    sysctl("sysctl-key-space", { key: "net.ipv4.ip_forward 1" }, /key: not a sysctl key: "net\.ipv4\.ip_forward 1"/),
    sysctl("sysctl-value-semicolon", { value: "1; reboot" }, /value: not a plain sysctl value .*: "1; reboot"/),
    sysctl("sysctl-value-empty", { value: "" }, /value: not a plain sysctl value .*: ""/),
    sysctl("sysctl-unknown-property", { persist: true }, /persist: unknown property .*: true/),

    // ---- FrrStaticRoute
    frr("frr-dst-host-bits", { dst: "10.166.0.1/16" }, /dst: host bits set; the network is 10\.166\.0\.0\/16: "10\.166\.0\.1\/16"/),
    frr("frr-nexthop-ipv6", { nexthop: "fd00::1" }, /nexthop: not of the IP family of dst 10\.166\.0\.0\/16: "fd00::1"/),
    frr("frr-nexthop-injection", { nexthop: "192.168.2.10 tag 1" }, /nexthop: not an IP address: "192\.168\.2\.10 tag 1"/),
    frr("frr-distance-0", { distance: 0 }, /distance: must be an integer from 1 to 255: 0/),
    frr("frr-distance-256", { distance: 256 }, /distance: must be an integer from 1 to 255: 256/),
    frr("frr-unknown-property", { tag: 5 }, /tag: unknown property .*: 5/),

    // ---- Keepalived (the config is a secret: messages give its length, never the text)
    keepalived("keepalived-config-path-relative", { configPath: "keepalived.conf" }, /configPath: not a plain absolute path: "keepalived\.conf"/),
    keepalived("keepalived-config-path-dotdot", { configPath: "/etc/keepalived/../../root/.ssh/authorized_keys" },
        /configPath: not a plain absolute path: "\/etc\/keepalived\/\.\.\/\.\.\/root\/\.ssh\/authorized_keys"/),
    keepalived("keepalived-pid-file-semicolon", { pidFile: "/run/keepalived.pid;reboot" }, /pidFile: not a plain absolute path: "\/run\/keepalived\.pid;reboot"/),
    keepalived("keepalived-config-empty", { config: "" }, /config: must be the text of keepalived\.conf.*: \(not shown: a secret, 0 characters\)/),
    ...ISSUE_13,
];
