/**
 * Policy routing rules, modelled on `ip -N -j rule show`. A rule has no
 * in-place update in the kernel (no NLM_F_REPLACE for rules), so every
 * selector is identity; only the protocol mark can be repaired in place.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { isGone, OWN_PROTO, parseJsonArray, runBatch } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { checkOwner, claim, moveClaims, release, takeBack, unclaim } from "./claims";

export interface RuleSpec {
    /** 1..32765: 0 is the local-table rule and 32766/32767 are main and default. */
    priority: number;
    from?: string;
    to?: string;
    iif?: string;
    oif?: string;
    fwmark?: number;
    /** Default 0xffffffff (the whole mark). */
    fwmask?: number;
    /** The table to look up: a number or "main". */
    table: number | string;
    /** 4 or 6; derived from from/to when they are given. Default 4. */
    family?: 4 | 6;
}

export interface RuleState {
    family: net.Family;
    priority: number;
    table: number;
    proto: number;
    from?: string;
    to?: string;
    iif?: string;
    oif?: string;
    fwmark?: number;
    fwmask?: number;
    /** The Rule's name in the host's claims (provider/kinds/claims.ts); not the kernel's. */
    owner?: string;
}

export const RULE_PROPS = ["priority", "from", "to", "iif", "oif", "fwmark", "fwmask", "table", "family"] as const;

export function normalizeRule(raw: Record<string, any>, errs: Problem[], arg = ""): RuleState | undefined {
    const before = errs.length;
    net.noUnknown(raw, [...RULE_PROPS, "owner"], errs, arg);
    const owner = checkOwner(raw.owner, errs);
    const from = raw.from === undefined ? undefined : net.cidr(`${arg}from`, raw.from, errs);
    const to = raw.to === undefined ? undefined : net.cidr(`${arg}to`, raw.to, errs);
    const fams = [from?.family, to?.family].filter((f): f is net.Family => f !== undefined);
    if (fams.length === 2 && fams[0] !== fams[1]) errs.push(problem(`${arg}to`, `not of the IP family of from ${from!.text}`, raw.to));
    if (raw.family !== undefined && raw.family !== 4 && raw.family !== 6) errs.push(problem(`${arg}family`, "must be 4 or 6", raw.family));
    if (raw.family !== undefined && fams.length && raw.family !== fams[0]) errs.push(problem(`${arg}family`, `contradicts from/to of IPv${fams[0]}`, raw.family));
    const r: RuleState = {
        family: (fams[0] ?? raw.family ?? 4) as net.Family,
        priority: net.rulePriority(`${arg}priority`, raw.priority, errs) ?? 0,
        table: net.table(`${arg}table`, raw.table, errs) ?? 0,
        proto: OWN_PROTO,
    };
    if (from && from.prefix > 0) r.from = from.text;
    if (to && to.prefix > 0) r.to = to.text;
    if (raw.iif !== undefined) r.iif = net.ifname(`${arg}iif`, raw.iif, errs);
    if (raw.oif !== undefined) r.oif = net.ifname(`${arg}oif`, raw.oif, errs);
    if (raw.fwmark !== undefined) r.fwmark = net.integer(`${arg}fwmark`, raw.fwmark, 0, 0xffffffff, errs);
    if (raw.fwmask !== undefined) {
        if (raw.fwmark === undefined) errs.push(problem(`${arg}fwmask`, "needs fwmark", raw.fwmask));
        r.fwmask = net.integer(`${arg}fwmask`, raw.fwmask, 1, 0xffffffff, errs);
        if (r.fwmask === 0xffffffff) delete r.fwmask;
    }
    if (owner !== undefined) r.owner = owner;
    return errs.length > before ? undefined : r;
}

const hex = (n: number) => "0x" + n.toString(16);

/** The selector words, identical for add and del. */
export function ruleWords(r: RuleState): string[] {
    const w = ["priority", String(r.priority)];
    if (r.from) w.push("from", r.from);
    if (r.to) w.push("to", r.to);
    if (r.iif) w.push("iif", r.iif);
    if (r.oif) w.push("oif", r.oif);
    if (r.fwmark !== undefined) w.push("fwmark", r.fwmask !== undefined ? `${hex(r.fwmark)}/${hex(r.fwmask)}` : hex(r.fwmark));
    w.push("table", String(r.table));
    return w;
}

const fam = (r: RuleState) => (r.family === 6 ? "-6" : "-4");
export const addArgv = (r: RuleState) => ["ip", fam(r), "rule", "add", ...ruleWords(r), "protocol", String(r.proto)];
/** With `protocol` the kernel deletes only a rule carrying our mark, never a twin of another owner. */
export const deleteArgv = (r: RuleState, proto: number | undefined = r.proto) =>
    ["ip", fam(r), "rule", "del", ...ruleWords(r), ...(proto !== undefined ? ["protocol", String(proto)] : [])];
export const showArgv = (family: net.Family) => ["ip", "-N", "-j", family === 6 ? "-6" : "-4", "rule", "show"];

export function parseRule(e: Record<string, any>, family: net.Family): RuleState {
    const full = family === 6 ? 128 : 32;
    const prefix = (a: unknown, len: unknown) => (a === undefined || a === "all" ? undefined : `${a}/${len ?? full}`);
    const r: RuleState = { family, priority: Number(e.priority), table: Number(e.table), proto: Number(e.protocol ?? 0) };
    const from = prefix(e.src, e.srclen);
    const to = prefix(e.dst, e.dstlen);
    if (from) r.from = from;
    if (to) r.to = to;
    if (e.iif) r.iif = e.iif;
    if (e.oif) r.oif = e.oif;
    if (e.fwmark !== undefined) r.fwmark = Number(e.fwmark);
    if (e.fwmask !== undefined && Number(e.fwmask) !== 0xffffffff) r.fwmask = Number(e.fwmask);
    return r;
}

/** Same selector and table: the kernel would treat them as the same rule but for the protocol. */
export function sameSelector(a: RuleState, b: RuleState): boolean {
    return ruleWords(a).join(" ") === ruleWords(b).join(" ") && a.family === b.family;
}

export async function readRules(t: Transport, family: net.Family): Promise<RuleState[]> {
    return parseJsonArray((await t.run(showArgv(family))).stdout).map((e) => parseRule(e, family));
}

async function find(t: Transport, r: RuleState): Promise<RuleState[]> {
    return (await readRules(t, r.family)).filter((l) => sameSelector(l, r));
}

const ruleKey = (r: RuleState) => `${r.family}/${ruleWords(r).join(" ")}`;
/** The key of a rule in the host's claims: the same for a Rule and a RouteSet's rule, so one can hand a rule to the other. */
export const claimKey = (r: RuleState) => `rule ${ruleKey(r)}`;
const withOwner = (live: RuleState | undefined, r: RuleState) => live && (r.owner !== undefined ? { ...live, owner: r.owner } : live);

export const ruleKind: Kind<RuleState> = {
    properties: [...RULE_PROPS, "owner"],
    normalize: (raw, errs) => normalizeRule(raw, errs),
    identity: ["family", "priority", "from", "to", "iif", "oif", "fwmark", "fwmask", "table"],
    key: ruleKey,
    async read(t, r) {
        // A twin with another protocol belongs to someone else: ours is absent then.
        return withOwner((await find(t, r)).find((l) => l.proto === r.proto), r);
    },
    async create(t, r, adopt) {
        await addRules(t, [r], { adopt, owner: r.owner, creating: true, entry: described });
    },
    async update(t, olds, news) {
        if (!(await find(t, news)).some((l) => l.proto === news.proto)) await t.run(addArgv(news));
        await moveClaims(t, { owner: olds.owner, keys: [claimKey(olds)] }, { owner: news.owner, keys: [claimKey(news)] });
    },
    async remove(t, r) {
        // The claim goes first, and the rule with it in the same round trip unless another claim holds
        // it (a RouteSet that took it over, an adopter in another stack): then it stays.
        const res = r.owner !== undefined ? (await release(t, r.owner, [claimKey(r)], deleteArgv(r))).result : await t.run(deleteArgv(r), { allowFailure: true });
        if (!res || res.code === 0) return;
        if (!isGone(res.stderr)) throw new Error(`${t.name}: ip rule del ${ruleWords(r).join(" ")}: ${res.stderr.trim()}`);
    },
};

// ---- Rules of a RouteSet --------------------------------------------------------

/**
 * A RouteSet's rule as its state keys it, for `preview --diff` to name: the
 * selector words without the table (the set's), with "ipv6" first for an
 * IPv6 rule whose addresses do not tell its family. The value is the
 * rule's action, "lookup <table>".
 */
export function ruleEntryKey(r: RuleState): string {
    const words = ruleWords(r).slice(0, -2).join(" ");
    return r.family === 6 && !r.from && !r.to ? `ipv6 ${words}` : words;
}

export const ruleEntryText = (r: RuleState) => `lookup ${r.table}`;

/** The rule spec a key of ruleEntryKey stands for, for normalizeRule; undefined when it is not one. */
export function parseRuleEntry(key: string, table: number): Record<string, unknown> | undefined {
    const w = key.split(" ");
    const spec: Record<string, unknown> = { table };
    if (w[0] === "ipv6") { spec.family = 6; w.shift(); }
    if (w.length % 2) return undefined;
    for (let i = 0; i < w.length; i += 2) {
        const [k, v] = [w[i], w[i + 1]];
        if (k === "priority") spec.priority = Number(v);
        else if (k === "from" || k === "to" || k === "iif" || k === "oif") spec[k] = v;
        else if (k === "fwmark") {
            const [mark, mask] = v.split("/");
            spec.fwmark = Number(mark);
            if (mask !== undefined) spec.fwmask = Number(mask);
        } else return undefined;
    }
    return spec;
}

export interface RulesChange {
    adopt: boolean;
    /** The set's name in the host's claims. */
    owner?: string;
    /** Owners whose claims count as the set's own: the Rule resources whose rules it takes over. */
    heirOf?: readonly string[];
    /** A create: a failure takes back what it added. */
    creating: boolean;
    /** How a failed batch names the rule; default the set's property path, rules["<key>"]. */
    entry?: (r: RuleState) => string;
}

const described = (r: RuleState) => `the rule "${ruleWords(r).join(" ")}"`;
/** The items of each family present, IPv4 first; `ip rule` takes the family from the command line only. */
const byFamily = <T>(xs: readonly T[], family: (x: T) => net.Family = (x) => (x as unknown as RuleState).family) =>
    ([4, 6] as const).map((f) => [f, xs.filter((x) => family(x) === f)] as const).filter(([, of]) => of.length);

/** Of `rules`, those on the host with our protocol. */
export async function readOwnRules(t: Transport, rules: RuleState[]): Promise<RuleState[]> {
    const out: RuleState[] = [];
    for (const [f, rs] of byFamily(rules)) {
        const live = (await readRules(t, f)).filter((l) => l.proto === OWN_PROTO);
        out.push(...rs.filter((r) => live.some((l) => sameSelector(l, r))));
    }
    return out;
}

/**
 * Adds `rules`, claimed first. `ip rule add` is refused only for a rule
 * identical in every field, protocol included, so the rules are read first:
 * a twin with another protocol is another tool's (an error, or deleted with
 * adopt), one with ours is taken back only when this set's claim, or a
 * claim of a resource it takes over, holds it (otherwise ClaimedElsewhere).
 */
export async function addRules(t: Transport, rules: RuleState[], o: RulesChange): Promise<void> {
    if (!rules.length) return;
    const live: RuleState[] = [];
    for (const [f] of byFamily(rules)) live.push(...(await readRules(t, f)));
    // Another tool's twin stops it before anything is claimed or changed.
    const plan = planRuleAdds(t.name, rules, live, o.adopt);
    const keys = rules.map(claimKey);
    // Claimed before the kernel changes, so a run that dies after them leaves a claim its next run recognises.
    const prior = o.owner !== undefined ? await claim(t, o.owner, keys) : new Map<string, string[]>();
    const entry = o.entry ?? ruleEntryName;
    try {
        takeBack(t.name, o.owner, plan.ours, heirsClaims(prior, o.owner, o.heirOf), o.adopt);
        for (const [f, ls] of byFamily(plan.lines, (l) => l.rule.family)) await runBatch(t, "ip", ls.map((l) => l.line), ls.map((l) => entry(l.rule)), false, f);
    } catch (e) {
        if (o.creating) {
            for (const [f, rs] of byFamily(plan.added)) await runBatch(t, "ip", rs.map((r) => ["rule", ...deleteArgv(r).slice(3)]), [], true, f).catch(() => undefined);
            const mine = keys.filter((k) => !prior.get(k)?.includes(o.owner!));
            if (o.owner !== undefined) await unclaim(t, o.owner, mine).catch(() => undefined);
        }
        throw e;
    }
}

/** A set's rule as a failed batch names it: its property path. */
export const ruleEntryName = (r: RuleState) => `rules[${JSON.stringify(ruleEntryKey(r))}]`;

export interface RuleLine { rule: RuleState; line: string[] }

/**
 * The batch lines that add `rules` to a host whose rules of their families
 * are `live`. `ip rule add` is refused only for a rule identical in every
 * field, protocol included, so a twin is found here: another tool's (another
 * protocol) stops it, unless adopt, which re-stamps it (the kernel has no
 * in-place change for rules); one of ours is left, and returned in `ours`
 * for takeBack.
 */
export function planRuleAdds(host: string, rules: RuleState[], live: RuleState[], adopt: boolean): { lines: RuleLine[]; ours: { key: string; what: string }[]; added: RuleState[] } {
    const twinsOf = (r: RuleState) => live.filter((l) => sameSelector(l, r));
    for (const r of rules) {
        const foreign = twinsOf(r).find((l) => l.proto !== OWN_PROTO);
        if (foreign && !adopt) throw alreadyExists(host, `a rule "${ruleWords(r).join(" ")}"`, `protocol ${foreign.proto}`);
    }
    const lines: RuleLine[] = [];
    const ours: { key: string; what: string }[] = [];
    const added: RuleState[] = [];
    for (const r of rules) {
        const twins = twinsOf(r);
        if (twins.some((l) => l.proto === OWN_PROTO)) ours.push({ key: claimKey(r), what: described(r) });
        for (const l of twins.filter((x) => x.proto !== OWN_PROTO)) lines.push({ rule: r, line: ["rule", ...deleteArgv(r, l.proto).slice(3)] });
        if (!twins.some((l) => l.proto === OWN_PROTO)) { lines.push({ rule: r, line: ["rule", ...addArgv(r).slice(3)] }); added.push(r); }
    }
    return { lines, ours, added };
}

/** The claims found on keys, where a claim of a resource `owner` takes over (heirOf) counts as `owner`'s own. */
export function heirsClaims(prior: Map<string, string[]>, owner: string | undefined, heirOf: readonly string[] = []): Map<string, string[]> {
    if (owner === undefined || !heirOf.length) return prior;
    const heirs = new Set(heirOf);
    return new Map([...prior].map(([k, owners]) => [k, owners.some((x) => heirs.has(x)) ? [...owners, owner] : owners]));
}

/**
 * Deletes `rules` (ours only: the delete names our protocol) after their
 * claims, but for those another claim still holds.
 */
export async function removeRules(t: Transport, rules: RuleState[], owner?: string): Promise<void> {
    if (!rules.length) return;
    const held = owner !== undefined ? (await release(t, owner, rules.map(claimKey))).held : new Set<string>();
    for (const [f, rs] of byFamily(rules.filter((r) => !held.has(claimKey(r))))) {
        await runBatch(t, "ip", rs.map((r) => ["rule", ...deleteArgv(r).slice(3)]), rs.map(ruleEntryName), true, f);
    }
}
