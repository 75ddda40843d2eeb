/**
 * Address and number checks: the one implementation behind every component,
 * renderer (components/render) and kernel object kind (provider/kinds).
 * Addresses are parsed by ip-num and written back in the form iproute2 and
 * Go's net.IP print (IPv6 compressed, lower case), so what a program asks for
 * and what `ip -j` or Kube-OVN reads back compare equal as strings.
 *
 * Two layers:
 * - parsers (readIp, parseIp, parseCidr, contains, overlap, ...) return a
 *   value or the reason it is not one, and report nothing;
 * - validators (ipAddress, ipv4, cidr, cidr4, ifname, integer, table, mac,
 *   ...) push a Problem (common/problems.ts) naming the argument path and the
 *   value, and return the canonical value or undefined.
 */
import { collapseIPv6Number, IPv4, IPv4CidrRange, IPv6, IPv6CidrRange, Validator } from "ip-num";
import { Problem, problem } from "./problems";

export type Family = 4 | 6;

// ---------------------------------------------------------------------------
// Helpers

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------
// Parsers (no messages)

/** An IPv4 address's number, and an IPv4 CIDR's first and last: read once, where the object is made (see dotted). */
const N4: unique symbol = Symbol("IPv4 number");
const B4: unique symbol = Symbol("IPv4 bounds");

export type Ip = { family: 4; ip: IPv4; text: string; readonly [N4]?: number } | { family: 6; ip: IPv6; text: string };
export type Cidr =
    | { family: 4; range: IPv4CidrRange; text: string; prefix: number; readonly [B4]?: readonly [number, number] }
    | { family: 6; range: IPv6CidrRange; text: string; prefix: number };
export type Ip4 = Extract<Ip, { family: 4 }>;
export type Cidr4 = Extract<Cidr, { family: 4 }>;

/** RFC 5952 text for IPv6 (lower case, longest zero run compressed), as iproute2 and Go's net.IP print it. */
export const ipText = (ip: IPv4 | IPv6) => (ip instanceof IPv6 ? collapseIPv6Number(ip.toString()) : ip.toString());

// ---------------------------------------------------------------------------
// IPv4 in canonical dotted-quad form, read with integer arithmetic.
//
// ip-num builds every IPv4 value and mask through strings of binary digits,
// about 80 µs a CIDR: the check of a 10,000-route set spent 0.8 s there, on
// every preview and up. The canonical dotted quad (what programs and `ip -j`
// write) is read here instead, and ip-num's objects are made only when a
// caller asks for them (`ip`, `range`). Every other spelling goes to ip-num as
// before, so what is accepted and the messages do not change.

/**
 * The address as an unsigned 32-bit number, for a canonical dotted quad only:
 * four decimal octets of 0 to 255, without leading zeros. A loop over the
 * characters, not a regular expression: a route's check reads a few
 * addresses, and the four-group expression was the largest part of the check
 * of a 1,280-route set (test/unit/net.test.ts holds it to that expression).
 */
function dotted(v: string): number | undefined {
    let n = 0, octet = 0, digits = 0, dots = 0;
    for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if (c === 46 /* . */) {
            if (digits === 0 || dots === 3) return undefined;
            n = n * 256 + octet;
            octet = digits = 0;
            dots++;
        } else if (c >= 48 && c <= 57) {
            if (digits === 1 && octet === 0) return undefined;
            octet = octet * 10 + (c - 48);
            if (++digits > 3 || octet > 255) return undefined;
        } else return undefined;
    }
    return dots === 3 && digits > 0 ? n * 256 + octet : undefined;
}

const dottedText = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

// Classes rather than object literals with a getter: a route's check makes several of each, and a
// literal's getter is a closure of its own per object.
class Addr4 {
    readonly family = 4 as const;
    readonly [N4]: number;
    #ip?: IPv4;
    constructor(n: number, readonly text: string) { this[N4] = n; }
    get ip(): IPv4 { return (this.#ip ??= new IPv4(BigInt(this[N4]))); }
}

class Cidr4Of {
    readonly family = 4 as const;
    #range?: IPv4CidrRange;
    readonly text: string;
    readonly [B4]: readonly [number, number];
    constructor(network: number, readonly prefix: number) {
        this.text = `${dottedText(network)}/${prefix}`;
        this[B4] = [network, (network | ~mask4(prefix)) >>> 0];
    }
    get range(): IPv4CidrRange { return (this.#range ??= IPv4CidrRange.fromCidr(this.text)); }
}

const ip4 = (n: number, text = dottedText(n)): Ip4 => new Addr4(n, text);

/** The address as a number. A route's check asks for it a dozen times (family, network, the not-unicast ranges, the next hop): the regular expression ran each time before. */
const num4 = (a: Ip4): number => a[N4] ?? dotted(a.text)!;

/** The mask of a prefix length as a number: JavaScript's shifts take the count modulo 32, hence /0 apart. */
const mask4 = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

const cidr4Of = (network: number, prefix: number): Cidr4 => new Cidr4Of(network, prefix);

/**
 * An IPv4 address or CIDR in canonical form as [first address, prefix
 * length], numbers (an address is a /32); undefined for anything else. For
 * sorting thousands of planned routes, which ip-num's bigint parsing made a
 * visible part of a large program's run.
 */
export function ipv4Order(s: string): [number, number] | undefined {
    const slash = s.indexOf("/");
    const n = dotted(slash < 0 ? s : s.slice(0, slash));
    const prefix = slash < 0 ? 32 : Number(s.slice(slash + 1));
    if (n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
    return [(n & mask4(prefix)) >>> 0, prefix];
}

/** The first and last address of an IPv4 CIDR, as numbers. */
function bounds4(c: Cidr4): readonly [number, number] {
    const b = c[B4];
    if (b) return b;
    const first = dotted(c.text.slice(0, c.text.indexOf("/")))!;
    return [first, (first | ~mask4(c.prefix)) >>> 0];
}

export function familyOf(addr: string): Family | undefined {
    if (typeof addr !== "string") return undefined;
    const ip = addr.split("/")[0];
    if (dotted(ip) !== undefined) return 4;
    if (Validator.isValidIPv4String(ip)[0] && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) return 4;
    if (ip.includes(":") && Validator.isValidIPv6String(ip)[0]) return 6;
    return undefined;
}

/**
 * An IPv4 octet with a leading zero ("010.1.2.3"): inet_aton, and so
 * iproute2 and iptables, read it as octal (8.1.2.3), while ip-num, Go and
 * Kube-OVN read it as decimal. Refused everywhere, so the package never
 * installs something other than what it shows.
 */
const OCTAL_OCTET = /(^|\.)0\d/;
export const LEADING_ZERO = "an IPv4 octet with a leading zero, which iproute2 and iptables read as octal (010 is 8); write it without the zero";

/** Any IPv4 or IPv6 address ip-num reads (and inet_aton reads alike), with its canonical text. */
export function readIp(v: string): Ip | undefined {
    const n = typeof v === "string" ? dotted(v) : undefined;
    if (n !== undefined) return ip4(n, v);
    if (Validator.isValidIPv4String(v)[0]) {
        if (OCTAL_OCTET.test(v)) return undefined;
        const ip = IPv4.fromString(v);
        return { family: 4, ip, text: ipText(ip) };
    }
    if (Validator.isValidIPv6String(v)[0]) {
        const ip = IPv6.fromString(v);
        return { family: 6, ip, text: ipText(ip) };
    }
    return undefined;
}

/**
 * Why a string that is no address is not one: the octal trap, an address
 * given with a prefix length where a bare one belongs (a GatewayVip's
 * "192.168.2.250/24" as a next hop), else the generic reason.
 */
function notAnAddress(v: unknown, generic: string): string {
    if (typeof v !== "string") return generic;
    const [addr, len, ...rest] = v.split("/");
    if (Validator.isValidIPv4String(addr)[0] && OCTAL_OCTET.test(addr)) return LEADING_ZERO;
    const ip = readIp(addr);
    if (generic !== NOT_A_CIDR && ip && len !== undefined && !rest.length) return `must be a bare address, without a prefix length (${ip.text})`;
    return generic;
}

/**
 * An address in canonical form, or the reason it is not one. Canonical
 * because Kube-OVN compares addresses as strings (the gateway against
 * excludeIps, the broadcast address against the gateway) and refuses
 * upper-case IPv6.
 */
export function parseIp(v: unknown): Ip | string {
    const ip = typeof v === "string" ? readIp(v) : undefined;
    if (!ip) return notAnAddress(v, "not an IP address");
    return ip.text === v ? ip : `not in canonical form (write ${ip.text})`;
}

/** The network of `ip` with `prefix` bits. */
export function networkOf(ip: Ip, prefix: number): Cidr {
    if (ip.family === 4) {
        const n = ip[N4] ?? dotted(ip.text);
        if (n !== undefined) return cidr4Of((n & mask4(prefix)) >>> 0, prefix);
        const range = IPv4CidrRange.fromCidr(`${ip.text}/${prefix}`);
        return { family: 4, range, prefix, text: `${ipText(range.getFirst())}/${prefix}` };
    }
    const range = IPv6CidrRange.fromCidr(`${ip.text}/${prefix}`);
    return { family: 6, range, prefix, text: `${ipText(range.getFirst())}/${prefix}` };
}

export const NOT_A_CIDR = "not a CIDR (address/prefix)";
/** A prefix length as iproute2 reads it: it parses "/016" as octal 14. */
const PREFIX = /^(0|[1-9]\d{0,2})$/;
const PREFIX_ZERO = "a prefix length with a leading zero, which iproute2 reads as octal (/016 is /14); write it without the zero";

/**
 * A CIDR with its host bits clear and in canonical form, or the reason it is
 * not one. Host bits are an error, not masked: Kube-OVN stores the string as
 * given, the kernel stores the masked network, so `10.1.2.3/16` would never
 * compare equal to what is read back (and is usually a typo).
 */
export function parseCidr(v: unknown): Cidr | string {
    // ip-num's isValidIPv6CidrNotation also passes a bare IPv6 address ("fd00::1"), hence the slash.
    const slash = typeof v === "string" ? v.indexOf("/") : -1;
    if (typeof v !== "string" || slash < 0 || !(Validator.isValidIPv4CidrNotation(v)[0] || Validator.isValidIPv6CidrNotation(v)[0])) return NOT_A_CIDR;
    const given = readIp(v.slice(0, slash));
    if (!given) return notAnAddress(v, NOT_A_CIDR);
    if (!PREFIX.test(v.slice(slash + 1))) return PREFIX_ZERO;
    const c = networkOf(given, Number(v.slice(slash + 1)));
    if (c.text === v) return c;
    if (!sameAsNetwork(given, c)) return `host bits set (use the network address ${c.text})`;
    return `not in canonical form (write ${c.text})`;
}

/** Whether an address is the network address of a CIDR of its own family. */
function sameAsNetwork(a: Ip, c: Cidr): boolean {
    if (a.family === 4 && c.family === 4) return num4(a) === bounds4(c)[0];
    return a.ip.isEquals(c.range.getFirst());
}

/** Whether an address lies in a CIDR (false across families). */
export function contains(c: Cidr, a: Ip): boolean {
    if (c.family === 4 && a.family === 4) {
        const [first, last] = bounds4(c), n = num4(a);
        return n >= first && n <= last;
    }
    if (c.family === 6 && a.family === 6) return c.range.contains(a.ip);
    return false;
}

/** Whether two CIDRs share an address (false across families). */
export function overlap(x: Cidr, y: Cidr): boolean {
    if (x.family === 4 && y.family === 4) return x.range.isOverlapping(y.range);
    if (x.family === 6 && y.family === 6) return x.range.isOverlapping(y.range);
    return false;
}

/** The first or the last address of a CIDR. */
export function isNetworkOrBroadcast(c: Cidr, a: Ip): boolean {
    return a.ip.isEquals(c.range.getFirst()) || a.ip.isEquals(c.range.getLast());
}


/** Unicast IPv4 and IPv6 ranges that are no host's address: a tunnel endpoint or next hop there is a mistake. */
const NOT_UNICAST = [
    ["0.0.0.0/8", "an unspecified (\"this network\") address"], ["224.0.0.0/4", "a multicast address"], ["255.255.255.255/32", "the broadcast address"],
    ["::/128", "the unspecified address"], ["ff00::/8", "a multicast address"],
].map(([c, what]) => ({ cidr: parseCidr(c) as Cidr, what }));

/** Why an address cannot be a host's own unicast address, or undefined when it can. */
export function notUnicast(ip: Ip): string | undefined {
    return NOT_UNICAST.find((r) => contains(r.cidr, ip))?.what;
}

/**
 * Why an address cannot be the next hop of a route to `dst`, or undefined.
 * A kernel route may legitimately go via an address inside its own
 * destination (a default route always does), so only what is never a
 * neighbour is refused: a multicast or unspecified address, and the network
 * or (IPv4) broadcast address of the destination itself, which reads as a
 * typo for the destination.
 */
export function badNextHop(dst: Cidr, hop: Ip): string | undefined {
    const bad = notUnicast(hop);
    if (bad) return `${bad}, not a neighbour to route through`;
    const hosts = dst.family === 4 ? dst.prefix <= 30 : dst.prefix <= 126;
    if (hosts && dst.prefix > 0 && contains(dst, hop)) {
        if (sameAsNetwork(hop, dst)) return `the network address of dst ${dst.text}, not a host`;
        if (dst.family === 4 && hop.family === 4 && num4(hop) === bounds4(dst)[1]) return `the broadcast address of dst ${dst.text}, not a host`;
    }
    return undefined;
}

/** The all-zero MAC: unicast VXLAN floods broadcast and unknown-unicast frames to every FDB entry with it. */
export const ZERO_MAC = "00:00:00:00:00:00";

// ---------------------------------------------------------------------------
// Validators: report a Problem naming the argument and the value, return the canonical value

/** Any address, returned canonical (the kinds accept "2001:DB8::1" and store "2001:db8::1"). */
export function ipAddress(arg: string, v: unknown, errs: Problem[]): string | undefined {
    const ip = typeof v === "string" && !v.includes("/") && familyOf(v) ? readIp(v) : undefined;
    if (!ip) {
        errs.push(problem(arg, notAnAddress(v, "not an IP address"), v));
        return undefined;
    }
    return ip.text;
}

/** An address that must be a host's own: not multicast, unspecified or broadcast. */
export function unicastAddress(arg: string, v: unknown, errs: Problem[], why: string): string | undefined {
    const text = ipAddress(arg, v, errs);
    const bad = text === undefined ? undefined : notUnicast(readIp(text)!);
    if (bad) {
        errs.push(problem(arg, `${bad}, not a host's address; ${why}`, v));
        return undefined;
    }
    return text;
}

/** An IPv4 address already in canonical form (the renderers', whose output is compared as text). */
export function ipv4(arg: string, v: unknown, errs: Problem[]): Ip4 | undefined {
    const ip = parseIp(v);
    if (typeof ip === "string" || ip.family !== 4) {
        const v6 = typeof v === "string" && !v.includes("/") && familyOf(v) === 6;
        const why = v6 ? "IPv6 is not supported here, need an IPv4 address" : ip === "not an IP address" ? "not an IPv4 address" : (ip as string);
        errs.push(problem(arg, why, v));
        return undefined;
    }
    return ip;
}

/**
 * Canonical CIDR with its host bits clear, for the kinds. A bare address is
 * a host route (/32 or /128), as iproute2 reads it; other spellings of a
 * valid CIDR (upper-case IPv6) are accepted and returned canonical. Host bits
 * set are an error rather than silently masked.
 */
export function cidr(arg: string, v: unknown, errs: Problem[]): Cidr | undefined {
    if (typeof v !== "string" || v === "") {
        errs.push(problem(arg, "not a CIDR", v));
        return undefined;
    }
    const [addr, len, ...rest] = v.split("/");
    // The canonical dotted quad read once: familyOf and readIp would each read it again.
    const n = dotted(addr);
    const fam = n !== undefined ? 4 : familyOf(addr);
    const max = fam === 6 ? 128 : 32;
    const prefix = len === undefined ? max : PREFIX.test(len) ? Number(len) : NaN;
    const ip = n !== undefined ? ip4(n, addr) : fam ? readIp(addr) : undefined;
    if (!ip || rest.length || !(prefix >= 0 && prefix <= max)) {
        const why = fam === 4 && !ip ? LEADING_ZERO : len !== undefined && /^0\d+$/.test(len) ? PREFIX_ZERO : "not a CIDR";
        errs.push(problem(arg, why, v));
        return undefined;
    }
    const c = networkOf(ip, prefix);
    if (!sameAsNetwork(ip, c)) {
        errs.push(problem(arg, `host bits set; the network is ${c.text}`, v));
        return undefined;
    }
    return c;
}

/** An IPv4 CIDR in canonical form with its host bits clear (the renderers'). */
export function cidr4(arg: string, v: unknown, errs: Problem[]): Cidr4 | undefined {
    const c = parseCidr(v);
    if (typeof c === "string" || c.family !== 4) {
        const why = typeof v === "string" && familyOf(v) === 6 ? "IPv6 is not supported here, need an IPv4 CIDR" : c === NOT_A_CIDR ? "not an IPv4 CIDR (a.b.c.d/n)" : (c as string);
        errs.push(problem(arg, why, v));
        return undefined;
    }
    return c;
}

/**
 * Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no
 * whitespace, not "." or "..". We also refuse ':' and anything outside a
 * conservative set, so a name is always one plain word in argv, configs and
 * Kubernetes objects. `at: false` also refuses '@', for keepalived.conf,
 * where GatewayVip has never let one through.
 */
export function ifname(arg: string, v: unknown, errs: Problem[], opts: { at?: boolean } = {}): string | undefined {
    const at = opts.at !== false;
    const re = at ? /^[A-Za-z0-9_.@-]{1,15}$/ : /^[A-Za-z0-9_.-]{1,15}$/;
    if (typeof v !== "string" || !re.test(v) || v === "." || v === "..") {
        errs.push(problem(arg, `not a Linux interface name (1-15 of A-Z a-z 0-9 _ .${at ? " @" : ""} -, not . or ..)`, v));
        return undefined;
    }
    return v;
}

export function integer(arg: string, v: unknown, min: number, max: number, errs: Problem[], why = ""): number | undefined {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        errs.push(problem(arg, `must be an integer from ${min} to ${max}${why}`, v));
        return undefined;
    }
    return v;
}

/** Policy rule priority: 0 shares the local table's slot; 32766 and 32767 are main and default, where a rule would come too late. */
export function rulePriority(arg: string, v: unknown, errs: Problem[]): number | undefined {
    return integer(arg, v, 1, 32765, errs);
}

const TABLE_NAMES: Record<string, number> = { main: 254, local: 255, default: 253 };

/**
 * Routing table as a number. Names other than main/local/default would
 * depend on the host's /etc/iproute2/rt_tables, which preview cannot read,
 * so they are refused. 0 means "unspecified" to the kernel and cannot hold
 * routes; local (255) and default (253) belong to the kernel and distros.
 * `allowMain: false` refuses main (254) too; `numbersOnly` refuses names and
 * numeric strings.
 */
export function table(arg: string, v: unknown, errs: Problem[], opts: { allowMain?: boolean; numbersOnly?: boolean } = {}): number | undefined {
    const names = !opts.numbersOnly;
    const n = !names ? v : typeof v === "string" && v in TABLE_NAMES ? TABLE_NAMES[v] : typeof v === "string" && /^[1-9]\d*$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 0xffffffff) {
        errs.push(problem(arg, `not a routing table (a number from 1 to 4294967295${names && opts.allowMain !== false ? ", or main" : ""})`, v));
        return undefined;
    }
    if (n === 253 || n === 255 || (n === 254 && opts.allowMain === false)) {
        errs.push(problem(arg, "table is reserved (253 default, 254 main, 255 local); use your own table number", v));
        return undefined;
    }
    return n;
}

/** MAC address in lower case, as `bridge -j fdb` prints it. */
export function mac(arg: string, v: unknown, errs: Problem[]): string | undefined {
    if (typeof v !== "string" || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(v)) {
        errs.push(problem(arg, "not a MAC address (aa:bb:cc:dd:ee:ff)", v));
        return undefined;
    }
    return v.toLowerCase();
}

/** A file path: absolute, one plain word in argv, no "..". */
export function absolutePath(arg: string, v: unknown, errs: Problem[]): string | undefined {
    if (typeof v !== "string" || !/^\/[A-Za-z0-9_./-]{1,200}$/.test(v) || v.includes("..")) {
        errs.push(problem(arg, "not a plain absolute path", v));
        return undefined;
    }
    return v;
}

/** Names that go into firewall comments and link aliases: one plain word. */
export function marker(arg: string, v: unknown, errs: Problem[]): string | undefined {
    if (typeof v !== "string" || !/^[A-Za-z0-9_.:/-]{1,200}$/.test(v)) {
        errs.push(problem(arg, "must be 1-200 of A-Z a-z 0-9 _ . : / -", v));
        return undefined;
    }
    return v;
}

/** An optional boolean. */
export function bool(arg: string, v: unknown, errs: Problem[]): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") {
        errs.push(problem(arg, "must be true or false", v));
        return undefined;
    }
    return v;
}

/** One of a fixed set of words (an enum); absent is fine unless `required`. */
export function oneOf<T extends string>(arg: string, v: unknown, words: readonly T[], errs: Problem[]): T | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !(words as readonly string[]).includes(v)) {
        errs.push(problem(arg, `must be ${words.slice(0, -1).join(", ")}${words.length > 1 ? " or " : ""}${words[words.length - 1]}`, v));
        return undefined;
    }
    return v as T;
}

/** A list (possibly of a minimum length); anything else is reported and reads as empty. */
export function list(arg: string, v: unknown, errs: Problem[], min = 0, what = "entries"): unknown[] {
    if (!Array.isArray(v)) {
        errs.push(problem(arg, `must be a list${min ? ` of at least ${min} ${what}` : ""}`, v));
        return [];
    }
    if (v.length < min) errs.push(problem(arg, `needs at least ${min} ${min === 1 ? what.replace(/ies$/, "y").replace(/s$/, "") : what}`, v));
    return v;
}

/** Fails on properties the object does not know, so a typo is not silently ignored (render hides a misspelt secret's value). */
export function noUnknown(raw: Record<string, unknown>, known: readonly string[], errs: Problem[], prefix = "", opts: { hideValues?: boolean } = {}) {
    for (const k of Object.keys(raw)) {
        if (known.includes(k)) continue;
        const reason = `unknown property (known: ${known.join(", ")})`;
        errs.push(opts.hideValues ? problem(`${prefix}${k}`, reason) : problem(`${prefix}${k}`, reason, raw[k]));
    }
}

/** Whether `v` (at argument path `arg`) is an object; its properties other than `known` are reported. */
export function object(arg: string, v: unknown, known: readonly string[], errs: Problem[]): v is Record<string, unknown> {
    if (!isObject(v)) {
        errs.push(problem(arg, "must be an object", v));
        return false;
    }
    noUnknown(v, known, errs, `${arg}.`);
    return true;
}
