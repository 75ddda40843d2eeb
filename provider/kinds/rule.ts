/**
 * Policy routing rules, modelled on `ip -N -j rule show`. A rule has no
 * in-place update in the kernel (no NLM_F_REPLACE for rules), so every
 * selector is identity; only the protocol mark can be repaired in place.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { isGone, OWN_PROTO, parseJsonArray } from "./iproute";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { checkOwner, claim, moveClaims, runThenUnclaim, takeBack, unclaim } from "./claims";

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
const claimKey = (r: RuleState) => `rule ${ruleKey(r)}`;
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
        // Read first, unlike routes and links: `ip rule add` (NLM_F_EXCL) is refused only for a rule
        // identical in every field, protocol included, so the kernel would add ours beside another
        // owner's twin instead of telling us it is there.
        const live = await find(t, r);
        const foreign = live.find((l) => l.proto !== OWN_PROTO);
        if (foreign && !adopt) throw alreadyExists(t.name, `a rule "${ruleWords(r).join(" ")}"`, `protocol ${foreign.proto}`);
        // Claimed before the kernel changes, so a run that dies after them leaves a claim its next run recognises.
        const prior = r.owner !== undefined ? await claim(t, r.owner, [claimKey(r)]) : new Map<string, string[]>();
        const ours = live.find((l) => l.proto === r.proto);
        try {
            // Our twin is taken back only when this rule's own claim held it (a create that pulumi died in).
            if (ours) takeBack(t.name, r.owner, [{ key: claimKey(r), what: `the rule "${ruleWords(r).join(" ")}"` }], prior, adopt);
            // Adopting re-stamps the twin with our protocol: the kernel has no in-place change for rules.
            for (const l of live) if (l !== ours) await t.run(deleteArgv(r, l.proto));
            if (!ours) await t.run(addArgv(r));
        } catch (e) {
            if (r.owner !== undefined && !prior.get(claimKey(r))?.includes(r.owner)) await unclaim(t, r.owner, [claimKey(r)]).catch(() => undefined);
            throw e;
        }
    },
    async update(t, olds, news) {
        if (!(await find(t, news)).some((l) => l.proto === news.proto)) await t.run(addArgv(news));
        await moveClaims(t, { owner: olds.owner, keys: [claimKey(olds)] }, { owner: news.owner, keys: [claimKey(news)] });
    },
    async remove(t, r) {
        // The delete and its claim in one round trip: a move deletes rules at the end of the deployment, after everything else.
        const res = r.owner !== undefined ? await runThenUnclaim(t, r.owner, [claimKey(r)], deleteArgv(r)) : await t.run(deleteArgv(r), { allowFailure: true });
        if (res.code === 0) return;
        if (!isGone(res.stderr)) throw new Error(`${t.name}: ip rule del ${ruleWords(r).join(" ")}: ${res.stderr.trim()}`);
        if (r.owner !== undefined) await unclaim(t, r.owner, [claimKey(r)]);
    },
};
