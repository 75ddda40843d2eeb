/**
 * Address and name checks shared by every kernel object kind. Addresses are
 * parsed by ip-num and written back in the form iproute2 prints (IPv6
 * compressed, lower case), so what a program asks for and what `ip -j` reads
 * back compare equal as strings.
 */
import { collapseIPv6Number, IPv4, IPv4CidrRange, IPv6, IPv6CidrRange, Validator } from "ip-num";

export type Family = 4 | 6;

const show = (v: unknown) => JSON.stringify(v);

export function familyOf(addr: string): Family | undefined {
    if (typeof addr !== "string") return undefined;
    const ip = addr.split("/")[0];
    if (Validator.isValidIPv4String(ip)[0] && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) return 4;
    if (ip.includes(":") && Validator.isValidIPv6String(ip)[0]) return 6;
    return undefined;
}

/** Canonical text of one address, or an error naming the argument. */
export function ipAddress(arg: string, v: unknown, errs: string[]): string | undefined {
    const fam = typeof v === "string" ? familyOf(v) : undefined;
    if (typeof v !== "string" || v.includes("/") || !fam) {
        errs.push(`${arg}: not an IP address: ${show(v)}`);
        return undefined;
    }
    return fam === 4 ? IPv4.fromString(v).toString() : collapseIPv6Number(IPv6.fromString(v).toString());
}

export interface Cidr {
    text: string;
    family: Family;
    prefix: number;
}

/**
 * Canonical CIDR with its host bits clear. A bare address is a host route
 * (/32 or /128), as iproute2 reads it. Host bits set are an error rather than
 * silently masked: `10.1.2.3/16` is far more often a typo than a wish.
 */
export function cidr(arg: string, v: unknown, errs: string[]): Cidr | undefined {
    if (typeof v !== "string" || v === "") {
        errs.push(`${arg}: not a CIDR: ${show(v)}`);
        return undefined;
    }
    const [ip, len, ...rest] = v.split("/");
    const fam = familyOf(ip);
    const max = fam === 6 ? 128 : 32;
    const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!fam || rest.length || !(prefix >= 0 && prefix <= max)) {
        errs.push(`${arg}: not a CIDR: ${show(v)}`);
        return undefined;
    }
    const range = fam === 4 ? IPv4CidrRange.fromCidr(`${ip}/${prefix}`) : IPv6CidrRange.fromCidr(`${ip}/${prefix}`);
    const first = range.getFirst();
    const addr = fam === 4 ? IPv4.fromString(ip) : IPv6.fromString(ip);
    if (first.getValue() !== addr.getValue()) {
        const net = fam === 4 ? first.toString() : collapseIPv6Number(first.toString());
        errs.push(`${arg}: ${show(v)} has host bits set; the network is ${net}/${prefix}`);
        return undefined;
    }
    const base = fam === 4 ? addr.toString() : collapseIPv6Number(addr.toString());
    return { text: `${base}/${prefix}`, family: fam, prefix };
}

/** Whether an address lies in a CIDR (both canonical, same family). */
export function contains(c: string, addr: string): boolean {
    const fam = familyOf(c);
    if (!fam || familyOf(addr) !== fam) return false;
    const range = fam === 4 ? IPv4CidrRange.fromCidr(c) : IPv6CidrRange.fromCidr(c);
    const a = fam === 4 ? IPv4.fromString(addr.split("/")[0]) : IPv6.fromString(addr.split("/")[0]);
    const v = a.getValue();
    return range.getFirst().getValue() <= v && v <= range.getLast().getValue();
}

/**
 * Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no
 * whitespace, not "." or "..". We also refuse ':' and anything outside a
 * conservative set, so a name is always one plain word in argv and configs.
 */
export function ifname(arg: string, v: unknown, errs: string[]): string | undefined {
    if (typeof v !== "string" || !/^[A-Za-z0-9_.@-]{1,15}$/.test(v) || v === "." || v === "..") {
        errs.push(`${arg}: not a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ -): ${show(v)}`);
        return undefined;
    }
    return v;
}

export function integer(arg: string, v: unknown, min: number, max: number, errs: string[]): number | undefined {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        errs.push(`${arg}: must be an integer from ${min} to ${max}, got ${show(v)}`);
        return undefined;
    }
    return v;
}

const TABLE_NAMES: Record<string, number> = { main: 254, local: 255, default: 253 };

/**
 * Routing table as a number. Names other than main/local/default would
 * depend on the host's /etc/iproute2/rt_tables, which preview cannot read,
 * so they are refused. 0 means "unspecified" to the kernel and cannot hold
 * routes; local (255) and default (253) belong to the kernel and distros.
 */
export function table(arg: string, v: unknown, errs: string[], opts: { allowMain?: boolean } = {}): number | undefined {
    const n = typeof v === "string" && v in TABLE_NAMES ? TABLE_NAMES[v] : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 0xffffffff) {
        errs.push(`${arg}: not a routing table (a number from 1 to 4294967295, or main): ${show(v)}`);
        return undefined;
    }
    if (n === 253 || n === 255 || (n === 254 && opts.allowMain === false)) {
        errs.push(`${arg}: table ${show(v)} is reserved (253 default, 254 main, 255 local); use your own table number`);
        return undefined;
    }
    return n;
}

/** MAC address in lower case, as `bridge -j fdb` prints it. */
export function mac(arg: string, v: unknown, errs: string[]): string | undefined {
    if (typeof v !== "string" || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(v)) {
        errs.push(`${arg}: not a MAC address (aa:bb:cc:dd:ee:ff): ${show(v)}`);
        return undefined;
    }
    return v.toLowerCase();
}

/** Names that go into firewall comments and link aliases: one plain word. */
export function marker(arg: string, v: unknown, errs: string[]): string | undefined {
    if (typeof v !== "string" || !/^[A-Za-z0-9_.:/-]{1,200}$/.test(v)) {
        errs.push(`${arg}: must be 1-200 of A-Z a-z 0-9 _ . : / -, got ${show(v)}`);
        return undefined;
    }
    return v;
}

export function bool(arg: string, v: unknown, errs: string[]): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") {
        errs.push(`${arg}: must be true or false, got ${show(v)}`);
        return undefined;
    }
    return v;
}

/** Fails on properties the kind does not know, so a typo is not silently ignored. */
export function noUnknown(raw: Record<string, unknown>, known: readonly string[], errs: string[], arg = "") {
    for (const k of Object.keys(raw)) {
        if (!known.includes(k)) errs.push(`${arg}${k}: unknown property (known: ${known.join(", ")})`);
    }
}
