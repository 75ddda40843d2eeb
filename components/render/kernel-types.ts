/**
 * Input shapes of the kernel objects this package's dynamic providers apply
 * (routes, policy rules, FDB entries, VXLAN links). Render functions return
 * these so that a plan is plain data: testable without a host, diffable, and
 * handed to the providers unchanged.
 */

export interface RouteSpec {
    dst: string;
    gateway?: string;
    dev?: string;
    table?: number;
    metric?: number;
    scope?: "global" | "link" | "host";
    src?: string;
    onlink?: boolean;
    type?: "unicast" | "blackhole" | "unreachable";
}

export interface RuleSpec {
    priority: number;
    from?: string;
    to?: string;
    iif?: string;
    oif?: string;
    fwmark?: number;
    fwmask?: number;
    table: number;
}

export interface FdbSpec {
    mac: string;
    dev: string;
    dst: string;
    vni?: number;
    port?: number;
    permanent?: boolean;
}

export interface VxlanLinkSpec {
    name: string;
    vni: number;
    dstport: number;
    local?: string;
    dev?: string;
    mtu?: number;
    learning?: boolean;
    addresses?: string[];
    up?: boolean;
}
