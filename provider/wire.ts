/**
 * The inputs the set resources send for their lists: maps keyed per object,
 * so that `pulumi preview --diff` names each entry that changes. Kept out of
 * resources.ts (whose exports are the package's) so that the benchmark's
 * engine floor can send exactly these inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RouteSpec } from "./kinds/route";
import type { FdbSpec } from "./kinds/fdb";
import { compactRoute, groupRoutes, routeEntryKey } from "./kinds/route-text";
import { ZERO_MAC } from "../common/net";
import { normalizeRule, ruleEntryKey, RuleSpec } from "./kinds/rule";

// The map keys only need to be stable and readable in a diff; the provider recomputes canonical ones.
// An entry whose identifying fields are not plain values is keyed by position, for check to name.
const plain = (v: unknown) => v === undefined || typeof v === "string" || typeof v === "number";
const fdbKeyOf = (f: Omit<FdbSpec, "dev">) => (plain(f.mac) && plain(f.dst) ? `${f.mac ?? ZERO_MAC}@${f.dst}` : undefined);
const routeKeyOf = (r: { dst?: unknown; metric?: unknown }) =>
    (typeof r.dst === "string" && (r.metric === undefined || typeof r.metric === "number") ? routeEntryKey({ dst: r.dst, metric: r.metric }) : undefined);

/**
 * The routes as RouteSet sends them: the texts of provider/kinds/route-text.ts,
 * in the groups of routeGroup. A route that would not survive as text (a field
 * of the wrong type, white space, a duplicate) goes as the object it was, so
 * check names the field and the value as given.
 */
export function keyedRoutes(list: pulumi.Input<Omit<RouteSpec, "table">[]>): pulumi.Output<Record<string, Record<string, unknown>>> {
    return keyed(list, routeKeyOf).apply((byKey) => {
        if (!byKey || typeof byKey !== "object" || Array.isArray(byKey)) return byKey as never;
        const out: Record<string, unknown> = {};
        for (const [k, r] of Object.entries(byKey)) {
            // A key keyed() had to disambiguate is a duplicate: it stays an object, for check to name.
            const c = r !== null && typeof r === "object" ? compactRoute(r as Record<string, unknown>) : undefined;
            out[k] = c && c.key === k ? c.text : r;
        }
        return groupRoutes(out);
    });
}

/** The rules as RouteSet sends them, keyed by selector (ruleEntryKey); a rule check would refuse goes by position. */
export const keyedRules = (list: pulumi.Input<Omit<RuleSpec, "table">[]>) => keyed(list, ruleKeyOf);

function ruleKeyOf(r: Omit<RuleSpec, "table">): string | undefined {
    const errs: unknown[] = [];
    const n = normalizeRule({ ...r, table: 254 }, errs as never[]);
    return n && !errs.length ? ruleEntryKey(n) : undefined;
}

/** The FDB entries as FdbSet sends them, keyed by MAC@VTEP. */
export const keyedFdb = (list: pulumi.Input<Omit<FdbSpec, "dev">[]>) => keyed(list, fdbKeyOf);

function keyed<T>(list: pulumi.Input<T[]>, key: (v: T) => string | undefined): pulumi.Output<Record<string, T>> {
    return pulumi.output(list).apply((items) => {
        // Anything but a list goes to check as it is, which names it (a TypeError here would not).
        if (!Array.isArray(items)) return items as unknown as Record<string, T>;
        const out: Record<string, T> = {};
        (items as T[]).forEach((it, i) => {
            let k = (it !== null && typeof it === "object" ? key(it) : undefined) ?? `#${i}`;
            // Duplicates stay visible to check, which names them, instead of silently merging.
            if (k in out) k = `${k} (#${i})`;
            out[k] = it;
        });
        return out;
    });
}

