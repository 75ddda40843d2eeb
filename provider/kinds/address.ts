/**
 * One IP address on one interface, modelled on `ip -j addr show dev X`, that
 * its resource holds or lets go (`held`). It exists for an address that moves
 * between hosts, like a fabric's gateway address: each candidate host has one
 * such resource and only the active one holds the address, so a move is an
 * update of two resources that nothing else waits for. With `announce`, the
 * host announces the address when it takes it (VxlanLink's gratuitous ARPs).
 *
 * An address carries no owner mark (an IPv4 label must begin with the
 * device's name, which leaves no room on a 15-character one): the address is
 * this resource's by declaration, and it is taken over when found.
 */
import type { Transport } from "../transport";
import type { Kind } from "./kind";
import { isGone, parseJsonArray } from "./iproute";
import { ifaceAddress } from "./link";
import * as net from "../../common/net";
import { Problem } from "../../common/problems";

export interface InterfaceAddressSpec {
    /** The interface, e.g. "liqo.vxlan"; it must exist (create the link first). */
    dev: string;
    /** The address with its prefix length, e.g. "172.29.0.254/24". */
    address: string;
    /** Whether this host holds the address. Default true. */
    held?: boolean;
    /** Announce the address with gratuitous ARPs when this host takes it (IPv4; needs arping). Default false. */
    announce?: boolean;
}

export interface InterfaceAddressState {
    dev: string;
    address: string;
    held: boolean;
    announce: boolean;
}

export const ADDRESS_PROPS = ["dev", "address", "held", "announce"] as const;

export function normalizeAddress(raw: Record<string, unknown>, errs: Problem[]): InterfaceAddressState | undefined {
    const before = errs.length;
    net.noUnknown(raw, ADDRESS_PROPS, errs);
    const a: InterfaceAddressState = {
        dev: net.ifname("dev", raw.dev, errs) ?? "",
        address: ifaceAddress("address", raw.address, errs) ?? "",
        held: net.bool("held", raw.held, errs) ?? true,
        announce: net.bool("announce", raw.announce, errs) ?? false,
    };
    return errs.length > before ? undefined : a;
}

export const addArgv = (a: InterfaceAddressState) => ["ip", "addr", "replace", a.address, "dev", a.dev];
export const delArgv = (a: InterfaceAddressState) => ["ip", "addr", "del", a.address, "dev", a.dev];

/** Whether `ip -j addr show dev X` lists the address with its prefix length. */
export function holdsAddress(listing: Record<string, any>[], address: string): boolean {
    return listing.some((e) => (e.addr_info ?? []).some((i: any) => `${i.local}/${i.prefixlen}` === address));
}

/**
 * Linux sends no gratuitous ARP when an IPv4 address is added (only when a
 * device comes up or changes its MAC, with arp_notify), so hosts that cached
 * the address at its previous holder's MAC would keep sending there. Two
 * announcements a second apart, in the background: the previous holder lets
 * the address go in parallel on its own host (a move does not wait on it,
 * and still completes when that host is down), and a host that asked for the
 * address while both held it may have taken the previous holder's answer; by
 * the second announcement that holder has let it go. In the background
 * because arping waits a whole interval (it takes no fraction of a second)
 * after each packet. The missing-command check stays in the foreground, so a
 * host without arping fails the step with a clear message; with no address
 * the script only checks.
 */
const HAS_ARPING = 'command -v arping >/dev/null 2>&1 || { echo "arping not found: announcing addresses on $dev needs it (Debian and Ubuntu: iputils-arping)" >&2; exit 127; }';
const ARPING = 'arping -q -U -c 2 -w 3 -I "$dev" "$a" </dev/null >/dev/null 2>&1 &';
const ANNOUNCE = ['dev=$1; shift', HAS_ARPING, `for a in "$@"; do ${ARPING} done`].join("\n");
/** Takes the address (the command after dev and address) and announces it, in one round trip; exit 100: the command failed. */
const TAKE = ['dev=$1 a=$2; shift 2', '"$@" || exit 100', HAS_ARPING, ARPING].join("\n");

/** The argv that announces the address (or, with none, checks for arping); none for an IPv6 address, which ARP does not carry. */
export function announceArgv(dev: string, address: string | undefined): string[] | undefined {
    const ip = address?.split("/")[0];
    if (ip !== undefined && net.familyOf(ip) !== 4) return undefined;
    return ["sh", "-c", ANNOUNCE, "routed-overlay", dev, ...(ip !== undefined ? [ip] : [])];
}

async function announce(t: Transport, dev: string, address: string | undefined) {
    const argv = announceArgv(dev, address);
    if (!argv) return;
    const r = await t.run(argv, { allowFailure: true });
    if (r.code !== 0) throw new Error(`${t.name}: ${r.stderr.trim() || `announcing ${address} on ${dev} failed (exit ${r.code})`}`);
}

/** The argv that takes the address, and announces it when asked (IPv4), in one round trip. */
export function takeArgv(a: InterfaceAddressState): string[] {
    const ip = a.address.split("/")[0];
    return a.announce && net.familyOf(ip) === 4 ? ["sh", "-c", TAKE, "routed-overlay", a.dev, ip, ...addArgv(a)] : addArgv(a);
}

async function take(t: Transport, a: InterfaceAddressState) {
    // replace, not add: idempotent, so a retry after a failed announce converges.
    const argv = takeArgv(a);
    const r = await t.run(argv, { allowFailure: true });
    if (r.code === 0) return;
    if (argv[0] === "ip" || r.code === 100) throw new Error(`${t.name}: ip addr replace ${a.address} dev ${a.dev}: ${r.stderr.trim()}`);
    throw new Error(`${t.name}: ${r.stderr.trim() || `announcing ${a.address} on ${a.dev} failed (exit ${r.code})`}`);
}

async function release(t: Transport, a: InterfaceAddressState) {
    const r = await t.run(delArgv(a), { allowFailure: true });
    // Gone already (or the link with it): what release wants.
    if (r.code !== 0 && !isGone(r.stderr) && !/Cannot assign requested address/.test(r.stderr)) {
        throw new Error(`${t.name}: ip addr del ${a.address} dev ${a.dev}: ${r.stderr.trim()}`);
    }
}

export const addressKind: Kind<InterfaceAddressState> = {
    properties: ADDRESS_PROPS,
    normalize: normalizeAddress,
    identity: ["dev", "address"],
    key: (a) => `addr/${a.dev}/${a.address}`,
    async read(t, a) {
        const r = await t.run(["ip", "-j", "addr", "show", "dev", a.dev], { allowFailure: true });
        if (r.code !== 0 && !isGone(r.stderr)) throw new Error(`${t.name}: ip addr show dev ${a.dev}: ${r.stderr.trim()}`);
        // Never undefined: an address let go is this resource's desired state too, so what refresh reports is `held`.
        return { ...a, held: r.code === 0 && holdsAddress(parseJsonArray(r.stdout), a.address) };
    },
    async create(t, a) {
        if (a.held) return take(t, a);
        // A standby checks for arping now, long before the move that needs it.
        if (a.announce) await announce(t, a.dev, undefined);
    },
    async update(t, o, n) {
        if (n.held && !o.held) await take(t, n);
        else if (!n.held && o.held) await release(t, n);
    },
    async remove(t, a) {
        if (a.held) await release(t, a);
    },
};
