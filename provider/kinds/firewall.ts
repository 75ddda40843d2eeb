/**
 * The two firewall prerequisites of a routed overlay (seed 000): a FORWARD
 * accept for the subnet, because many hosts drop forwarded traffic by
 * default, and an accept of conntrack INVALID packets for it, because
 * asymmetric return paths make the host see only half of a connection.
 *
 * A rule goes to whatever firewall the host uses: iptables (legacy or its
 * nf_tables flavour: both are what `iptables` edits) when the binary is
 * there, otherwise nftables, into a chain the user names. With nftables an
 * accept in a base chain of our own would not help: a drop in any other base
 * chain of the hook still drops, so the rule must go into the chain that drops.
 * Rules are inserted first in the chain and carry a comment with the
 * resource's marker and the CIDR, which is the ownership mark.
 */
import type { Transport } from "../transport";
import { Kind } from "./kind";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";

export type Backend = "iptables" | "nft";
export type Direction = "src" | "dst";

export interface FirewallAcceptSpec {
    /** The subnet whose forwarded traffic is accepted, as source and as destination. */
    cidr: string;
    /** Accept only packets conntrack marks INVALID (the asymmetric-routing case); default false. */
    invalidOnly?: boolean;
    /** Default "auto": iptables when the host has it, else nft. */
    backend?: "auto" | Backend;
    /** nftables only: "FAMILY TABLE CHAIN" of the chain that filters forwarded traffic; default "inet filter forward". */
    nftChain?: string;
    /** Ownership mark written into the rules' comments; the resource classes pass a hash of the stack and the resource name. */
    marker: string;
}

export interface FirewallAccept {
    cidr: string;
    invalidOnly: boolean;
    backend: "auto" | Backend;
    nftChain: string;
    marker: string;
    /** Which of the two rules (source, destination) are in place. */
    directions: Direction[];
}

export const FIREWALL_PROPS = ["cidr", "invalidOnly", "backend", "nftChain", "marker"] as const;
const NFT_CHAIN = /^(ip|ip6|inet) [A-Za-z0-9_-]{1,64} [A-Za-z0-9_-]{1,64}$/;

export function normalizeFirewall(raw: Record<string, any>, errs: Problem[]): FirewallAccept | undefined {
    const before = errs.length;
    net.noUnknown(raw, FIREWALL_PROPS, errs);
    const c = net.cidr("cidr", raw.cidr, errs);
    const backend = net.oneOf("backend", raw.backend, ["auto", "iptables", "nft"], errs) ?? "auto";
    const nftChain = raw.nftChain ?? "inet filter forward";
    if (typeof nftChain !== "string" || !NFT_CHAIN.test(nftChain)) errs.push(problem("nftChain", "expected \"FAMILY TABLE CHAIN\" such as \"inet filter forward\"", raw.nftChain));
    const f: FirewallAccept = {
        cidr: c?.text ?? "",
        invalidOnly: net.bool("invalidOnly", raw.invalidOnly, errs) ?? false,
        backend,
        nftChain,
        marker: net.marker("marker", raw.marker, errs) ?? "",
        directions: ["dst", "src"],
    };
    return errs.length > before ? undefined : f;
}

/**
 * The ownership mark: the marker (the resource classes pass a hash of the
 * organization, project, stack and resource name, so that another stack's
 * rule for the same CIDR is not ours) and the CIDR, so that a rule is
 * recognised by its comment alone (nft shows no match in a comparable form).
 */
const comment = (f: FirewallAccept, d: Direction) => `routed-overlay:${f.marker}:${f.cidr}:${f.invalidOnly ? "invalid" : "accept"}:${d}`;
const v6 = (f: FirewallAccept) => f.cidr.includes(":");

// ---- iptables ----

/** The match and target words of one rule, in the order `iptables -S` prints them back. */
export function iptablesRule(f: FirewallAccept, d: Direction): string[] {
    const w = [d === "src" ? "-s" : "-d", f.cidr];
    if (f.invalidOnly) w.push("-m", "conntrack", "--ctstate", "INVALID");
    w.push("-m", "comment", "--comment", comment(f, d), "-j", "ACCEPT");
    return w;
}

const iptables = (f: FirewallAccept) => (v6(f) ? "ip6tables" : "iptables");
export const iptablesInsertArgv = (f: FirewallAccept, d: Direction) => [iptables(f), "-w", "5", "-I", "FORWARD", "1", ...iptablesRule(f, d)];
export const iptablesDeleteArgv = (f: FirewallAccept, d: Direction) => [iptables(f), "-w", "5", "-D", "FORWARD", ...iptablesRule(f, d)];

/** The directions whose rule is present in `iptables -S FORWARD` output (matched on the comment and the rule). */
export function iptablesPresent(f: FirewallAccept, listing: string): Direction[] {
    const lines = new Set(listing.split("\n").map((l) => l.trim().replace(/"/g, "")));
    return (["dst", "src"] as Direction[]).filter((d) => lines.has(["-A", "FORWARD", ...iptablesRule(f, d)].join(" ")));
}

// ---- nftables ----

export function nftRule(f: FirewallAccept, d: Direction): string[] {
    const w = [v6(f) ? "ip6" : "ip", d === "src" ? "saddr" : "daddr", f.cidr];
    if (f.invalidOnly) w.push("ct", "state", "invalid");
    // nft parses its argv as one command line: the comment needs its own double quotes.
    w.push("accept", "comment", `"${comment(f, d)}"`);
    return w;
}

export const nftInsertArgv = (f: FirewallAccept, d: Direction) => ["nft", "insert", "rule", ...f.nftChain.split(" "), ...nftRule(f, d)];
export const nftListArgv = (f: FirewallAccept) => ["nft", "-j", "-a", "list", "chain", ...f.nftChain.split(" ")];

/** Handles of our rules per direction in `nft -j -a list chain` output. */
export function nftHandles(f: FirewallAccept, json: string): Partial<Record<Direction, number[]>> {
    const out: Partial<Record<Direction, number[]>> = {};
    const items = (JSON.parse(json).nftables ?? []) as Record<string, any>[];
    for (const it of items) {
        const r = it.rule;
        if (!r) continue;
        for (const d of ["dst", "src"] as Direction[]) if (r.comment === comment(f, d)) (out[d] ??= []).push(r.handle);
    }
    return out;
}

// ---- lifecycle ----

/**
 * The backend to use and which of our rules it holds. With "auto", the
 * iptables listing is both the probe and the read: one round trip.
 */
async function inspect(t: Transport, f: FirewallAccept): Promise<{ b: Backend; dirs: Direction[]; handles: Partial<Record<Direction, number[]>> }> {
    if (f.backend !== "nft") {
        const res = await t.run([iptables(f), "-w", "5", "-S", "FORWARD"], { allowFailure: f.backend === "auto" });
        if (res.code === 0) return { b: "iptables", dirs: iptablesPresent(f, res.stdout), handles: {} };
        const nft = await t.run(["nft", "--version"], { allowFailure: true });
        if (nft.code !== 0) throw new Error(`${t.name}: neither ${iptables(f)} nor nft works on this host: ${res.stderr.trim()}`);
    }
    const res = await t.run(nftListArgv(f), { allowFailure: true });
    if (res.code !== 0) throw new Error(`${t.name}: nftables chain "${f.nftChain}" not found (set nftChain to the chain that filters forwarded traffic): ${res.stderr.trim()}`);
    const handles = nftHandles(f, res.stdout);
    return { b: "nft", dirs: (["dst", "src"] as Direction[]).filter((d) => handles[d]?.length), handles };
}

async function insert(t: Transport, f: FirewallAccept, b: Backend, dirs: Direction[]) {
    for (const d of dirs) await t.run(b === "iptables" ? iptablesInsertArgv(f, d) : nftInsertArgv(f, d));
}

export const firewallKind: Kind<FirewallAccept> = {
    properties: FIREWALL_PROPS,
    normalize: normalizeFirewall,
    identity: ["cidr", "invalidOnly", "backend", "nftChain", "marker"],
    computed: ["resolvedBackend"],
    key: (f) => `firewall/${f.marker}/${f.invalidOnly ? "invalid" : "accept"}/${f.cidr}`,
    async read(t, f) {
        const { dirs } = await inspect(t, f);
        return dirs.length ? { ...f, directions: dirs } : undefined;
    },
    async create(t, f) {
        // A rule found here is identical and carries this resource's own marker: what a create
        // interrupted by a crash of pulumi left (one direction or both). Refusing it would make
        // the next up fail forever; it is completed instead.
        const { b, dirs } = await inspect(t, f);
        await insert(t, f, b, f.directions.filter((d) => !dirs.includes(d)));
        return { resolvedBackend: b };
    },
    async update(t, _olds, news) {
        const { b, dirs } = await inspect(t, news);
        await insert(t, news, b, news.directions.filter((d) => !dirs.includes(d)));
    },
    async remove(t, f) {
        const { b, dirs, handles } = await inspect(t, f);
        for (const d of dirs) {
            if (b === "iptables") await t.run(iptablesDeleteArgv(f, d));
            else for (const h of handles[d] ?? []) await t.run(["nft", "delete", "rule", ...f.nftChain.split(" "), "handle", String(h)]);
        }
    },
};
