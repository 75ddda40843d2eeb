/**
 * VXLAN links, modelled on `ip -j -d addr show dev X`. The kernel cannot
 * change a VXLAN's VNI, port, local address or underlay device after
 * creation, so those are identity; MTU, addresses and up/down change in
 * place. The link alias (IFLA_IFALIAS) carries the ownership mark.
 * `otherAddresses` are addresses other resources hold on the link (an
 * InterfaceAddress): the link neither reports nor removes them.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { BatchFailed, isGone, parseJsonArray, runBatch } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";

export const OWN_ALIAS = "routed-overlay";

export interface VxlanLinkSpec {
    name: string;
    vni: number;
    /** UDP port; default 4789 (IANA). */
    dstport?: number;
    /** Underlay source address. */
    local?: string;
    /** Underlay device. */
    dev?: string;
    mtu?: number;
    /** Default false: with static FDB entries, learning would let any sender redirect traffic. */
    learning?: boolean;
    /** Addresses with prefix length, e.g. "172.32.0.1/24". */
    addresses?: string[];
    /** Default true. */
    up?: boolean;
    /**
     * Addresses (with prefix length) that other resources may hold on this
     * link, e.g. a gateway address an InterfaceAddress moves between hosts:
     * refresh does not report them and no update removes them. Default none.
     */
    otherAddresses?: string[];
}

export interface VxlanLinkState {
    name: string;
    vni: number;
    dstport: number;
    learning: boolean;
    up: boolean;
    addresses: string[];
    local?: string;
    dev?: string;
    mtu?: number;
    /** The alias found on the link: routed-overlay's mark, or another owner's. */
    alias: string;
    otherAddresses: string[];
}

export const LINK_PROPS = ["name", "vni", "dstport", "local", "dev", "mtu", "learning", "addresses", "up", "otherAddresses"] as const;

/** An interface address: host part kept (it is the address), prefix required. */
export function ifaceAddress(arg: string, v: unknown, errs: Problem[]): string | undefined {
    const [ip, len, ...rest] = typeof v === "string" ? v.split("/") : [];
    const fam = ip ? net.familyOf(ip) : undefined;
    // iproute2 reads a prefix with a leading zero as octal ("/024" is /20).
    const n = len !== undefined && /^(0|[1-9]\d{0,2})$/.test(len) ? Number(len) : NaN;
    if (!fam || rest.length || !(n >= 1 && n <= (fam === 6 ? 128 : 32))) {
        errs.push(problem(arg, "not an interface address with a prefix length (\"172.32.0.1/24\")", v));
        return undefined;
    }
    return `${net.ipAddress(arg, ip, errs)}/${n}`;
}

export function normalizeLink(raw: Record<string, any>, errs: Problem[]): VxlanLinkState | undefined {
    const before = errs.length;
    net.noUnknown(raw, LINK_PROPS, errs);
    const l: VxlanLinkState = {
        name: net.ifname("name", raw.name, errs) ?? "",
        vni: net.integer("vni", raw.vni, 1, 0xffffff, errs) ?? 0,
        dstport: raw.dstport === undefined ? 4789 : net.integer("dstport", raw.dstport, 1, 65535, errs) ?? 0,
        learning: net.bool("learning", raw.learning, errs) ?? false,
        up: net.bool("up", raw.up, errs) ?? true,
        addresses: [],
        alias: OWN_ALIAS,
        otherAddresses: [],
    };
    // A multicast local would make the kernel join a group, and an unspecified one leaves the source to chance.
    if (raw.local !== undefined) l.local = net.unicastAddress("local", raw.local, errs, "local is the VTEP address the peers' FDB entries name");
    if (raw.dev !== undefined) l.dev = net.ifname("dev", raw.dev, errs);
    if (raw.mtu !== undefined) l.mtu = net.integer("mtu", raw.mtu, 68, 65535, errs);
    if (raw.addresses !== undefined && !Array.isArray(raw.addresses)) errs.push(problem("addresses", "must be a list", raw.addresses));
    for (const [i, a] of (Array.isArray(raw.addresses) ? raw.addresses : []).entries()) {
        const c = ifaceAddress(`addresses[${i}]`, a, errs);
        if (c && l.addresses.includes(c)) errs.push(problem(`addresses[${i}]`, "appears twice", c));
        else if (c) l.addresses.push(c);
    }
    l.addresses.sort();
    if (raw.otherAddresses !== undefined && !Array.isArray(raw.otherAddresses)) errs.push(problem("otherAddresses", "must be a list", raw.otherAddresses));
    for (const [i, a] of (Array.isArray(raw.otherAddresses) ? raw.otherAddresses : []).entries()) {
        const c = ifaceAddress(`otherAddresses[${i}]`, a, errs);
        if (c && l.addresses.includes(c)) errs.push(problem(`otherAddresses[${i}]`, "is also one of addresses", c));
        else if (c && !l.otherAddresses.includes(c)) l.otherAddresses.push(c);
    }
    l.otherAddresses.sort();
    return errs.length > before ? undefined : l;
}

export function createLines(l: VxlanLinkState): string[][] {
    const add = ["link", "add", l.name, "type", "vxlan", "id", String(l.vni), "dstport", String(l.dstport)];
    if (l.local) add.push("local", l.local);
    if (l.dev) add.push("dev", l.dev);
    add.push(l.learning ? "learning" : "nolearning");
    const set = ["link", "set", "dev", l.name, "alias", OWN_ALIAS];
    if (l.mtu !== undefined) set.push("mtu", String(l.mtu));
    return [add, set, ...l.addresses.map((a) => ["addr", "add", a, "dev", l.name]), ["link", "set", "dev", l.name, l.up ? "up" : "down"]];
}

export function updateLines(o: VxlanLinkState, n: VxlanLinkState): string[][] {
    const lines: string[][] = [];
    if (o.alias !== OWN_ALIAS) lines.push(["link", "set", "dev", n.name, "alias", OWN_ALIAS]);
    if (n.mtu !== undefined && o.mtu !== n.mtu) lines.push(["link", "set", "dev", n.name, "mtu", String(n.mtu)]);
    for (const a of o.addresses) if (!n.addresses.includes(a)) lines.push(["addr", "del", a, "dev", n.name]);
    for (const a of n.addresses) if (!o.addresses.includes(a)) lines.push(["addr", "add", a, "dev", n.name]);
    if (o.up !== n.up) lines.push(["link", "set", "dev", n.name, n.up ? "up" : "down"]);
    return lines;
}

/** The live link in canonical form; link-local IPv6 addresses are the kernel's, not the user's. */
export function parseLink(e: Record<string, any>): VxlanLinkState {
    const d = e.linkinfo?.info_data ?? {};
    const l: VxlanLinkState = {
        name: e.ifname,
        vni: Number(d.id ?? 0),
        dstport: Number(d.port ?? 0),
        learning: d.learning !== false,
        up: Array.isArray(e.flags) && e.flags.includes("UP"),
        addresses: (e.addr_info ?? [])
            .filter((a: any) => a.scope !== "link" && a.family !== undefined)
            .map((a: any) => `${a.local}/${a.prefixlen}`)
            .sort(),
        alias: e.ifalias ?? "",
        otherAddresses: [],
    };
    if (d.local) l.local = d.local;
    if (d.link) l.dev = d.link;
    if (e.mtu !== undefined) l.mtu = Number(e.mtu);
    return l;
}

export async function readLink(t: Transport, name: string): Promise<(VxlanLinkState & { kind: string }) | undefined> {
    const res = await t.run(["ip", "-j", "-d", "addr", "show", "dev", name], { allowFailure: true });
    if (res.code !== 0) {
        if (isGone(res.stderr)) return undefined;
        throw new Error(`${t.name}: ip addr show dev ${name}: ${res.stderr.trim()}`);
    }
    const e = parseJsonArray(res.stdout)[0];
    return e && { ...parseLink(e), kind: e.linkinfo?.info_kind ?? "" };
}

const batch = (t: Transport, lines: string[][]) => runBatch(t, "ip", lines, lines.map((l) => `ip ${l.join(" ")}`));

/** Only the fields the desired link states are compared; MTU is the kernel's choice unless given. */
function project(live: VxlanLinkState, want: VxlanLinkState): VxlanLinkState {
    const p = { ...live, addresses: live.addresses.filter((a) => !want.otherAddresses.includes(a)), otherAddresses: want.otherAddresses };
    if (want.mtu === undefined) delete p.mtu;
    if (want.local === undefined && live.local === undefined) delete p.local;
    if (want.dev === undefined && live.dev === undefined) delete p.dev;
    return p;
}

const SAME_VXLAN: (keyof VxlanLinkState)[] = ["vni", "dstport", "local", "dev", "learning"];

export const linkKind: Kind<VxlanLinkState> = {
    properties: LINK_PROPS,
    normalize: normalizeLink,
    identity: ["name", "vni", "dstport", "local", "dev", "learning"],
    deleteBeforeReplace: true,
    key: (l) => `link/${l.name}`,
    async read(t, l) {
        const live = await readLink(t, l.name);
        if (!live || live.kind !== "vxlan") return undefined;
        const { kind: _k, ...rest } = live;
        return project(rest, l);
    },
    async create(t, l, adopt) {
        // `ip link add` refuses a name that is taken (EEXIST), whoever took it: one round trip, and the
        // link is read only when the name is taken.
        try {
            return void (await batch(t, createLines(l)));
        } catch (e) {
            if (!(e instanceof BatchFailed && e.applied === 0 && e.exists)) throw e;
        }
        const live = await readLink(t, l.name);
        if (live && live.alias !== OWN_ALIAS && !adopt) {
            throw alreadyExists(t.name, `the link ${l.name}`, `${live.kind || "unknown type"}, alias ${JSON.stringify(live.alias)}`);
        }
        if (live) {
            const differs = live.kind !== "vxlan" ? ["type"] : SAME_VXLAN.filter((k) => live[k] !== l[k] && !(l[k] === undefined && k !== "learning"));
            if (differs.length) {
                throw new Error(`${t.name}: the link ${l.name} exists with another ${differs.join(", ")}; ` +
                    "adopt can only take over a link that matches, delete it or choose another name");
            }
            return void (await batch(t, updateLines(project(live, l), l)));
        }
        await batch(t, createLines(l));
    },
    async update(t, olds, news) {
        await batch(t, updateLines(olds, news));
    },
    async remove(t, l) {
        const live = await readLink(t, l.name);
        // Whoever re-created the name since (another alias) owns it now.
        if (!live || live.alias !== OWN_ALIAS) return;
        const res = await t.run(["ip", "link", "del", "dev", l.name], { allowFailure: true });
        if (res.code !== 0 && !isGone(res.stderr)) throw new Error(`${t.name}: ip link del ${l.name}: ${res.stderr.trim()}`);
    },
};
