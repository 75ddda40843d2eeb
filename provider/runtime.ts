/**
 * What runs inside the dynamic-provider process. The serialized provider
 * (provider/dynamic.ts) holds no code of its own: it requires this module, so
 * the closure serializer never has to capture ssh2 or our classes.
 *
 * One generic lifecycle turns each kind of provider/kinds into check, diff,
 * create, read, update and delete. Outputs are the kind's canonical
 * properties plus `present`; read writes the live state into them, so drift
 * shows in `pulumi refresh` and the next `up` repairs it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Connection, transportFor, validateConnection } from "./transport";
import { Kind as KindSpec, sameJson } from "./kinds/kind";
import { checkFailures, holdsUnknown, problem } from "../common/problems";
import { timedOp } from "./stats";
import { sysctlKind } from "./kinds/sysctl";
import { routeKind, routeSetKind } from "./kinds/route";
import { ruleKind } from "./kinds/rule";
import { fdbKind } from "./kinds/fdb";
import { linkKind } from "./kinds/link";
import { addressKind } from "./kinds/address";
import { firewallKind } from "./kinds/firewall";
import { fdbSetKind } from "./kinds/sets";
import { frrRouteKind } from "./kinds/frr";
import { keepalivedKind } from "./kinds/keepalived";
import { vrrpElection } from "./election";
import { ChangeRolledBack, normalizePathCheck, PathCheckSpec, pathCheck, PathUnreachable, requirePath } from "./pathcheck";

type Inputs = Record<string, any>;

export const KINDS = {
    Sysctl: sysctlKind,
    Route: routeKind,
    Rule: ruleKind,
    FdbEntry: fdbKind,
    VxlanLink: linkKind,
    InterfaceAddress: addressKind,
    FirewallAccept: firewallKind,
    RouteSet: routeSetKind,
    FdbSet: fdbSetKind,
    FrrStaticRoute: frrRouteKind,
    Keepalived: keepalivedKind,
} as const;
/** Checks: read-only resources that own no host object and wait for a state to hold (provider/election.ts, provider/pathcheck.ts). */
export const CHECKS = { VrrpElection: vrrpElection, PathCheck: pathCheck } as const;
export type Kind = keyof typeof KINDS | keyof typeof CHECKS;


/**
 * Properties every kind has that are not the kernel object's own. `probe`:
 * a path check run after each update of the object; when it fails, the
 * update is undone and up fails with the diagnosis (probe and rollback).
 */
const FRAME = ["connection", "adopt", "probe", "present", "__provider"];

export interface KindImpl {
    check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult>;
    diff(id: string, olds: Inputs, news: Inputs): Promise<pulumi.dynamic.DiffResult>;
    create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult>;
    read(id: string, props: Inputs): Promise<pulumi.dynamic.ReadResult>;
    update(id: string, olds: Inputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult>;
    delete(id: string, props: Inputs): Promise<void>;
}

/** Which host a connection reaches: a change here means another object, not an update. */
export function connectionIdentity(c: Partial<Connection> | undefined): string {
    if (!c) return "";
    return `${c.host}:${c.port ?? 22}`;
}

function own(props: Inputs, computed: readonly string[] = []): Inputs {
    const o: Inputs = {};
    for (const [k, v] of Object.entries(props)) if (!FRAME.includes(k) && !computed.includes(k) && v !== undefined) o[k] = v;
    return o;
}


export function lifecycle<T extends object>(kind: KindSpec<T>): KindImpl {
    const computed = kind.computed ?? [];
    const transport = (props: Inputs) => transportFor(props.connection as Connection);
    const withFrame = (props: Inputs, v: object, extra: Inputs = {}) =>
        ({ ...v, ...extra, connection: props.connection, adopt: props.adopt ?? false, ...(props.probe !== undefined ? { probe: props.probe } : {}), present: true });
    /** The kind's properties as recorded in the state (a state of an earlier version read as today's). */
    const stored = (props: Inputs, comp: readonly string[] = computed): Inputs => {
        const o = own(props, comp);
        const v = kind.stored?.(o);
        return v ? { ...o, ...v } : o;
    };
    /** The kind's properties as the engine holds them; `stored` reads them back. */
    const wire = (v: T): object => kind.wire?.(v) ?? v;
    /** The computed properties recorded in the state, carried over where the kind does not recompute them. */
    const keep = (p: Inputs) => Object.fromEntries(computed.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));

    return {
        async check(_olds, news) {
            const all = validateConnection(news.connection);
            if (news.adopt !== undefined && typeof news.adopt !== "boolean") all.push(problem("adopt", "must be true or false", news.adopt));
            let probe: PathCheckSpec | undefined;
            if (news.probe !== undefined) {
                const errs: typeof all = [];
                probe = normalizePathCheck(news.probe ?? {}, errs);
                all.push(...errs.map((p) => ({ ...p, path: `probe.${p.path}` })));
            }
            const v = kind.normalize(own(news, computed), all);
            // At preview an input made from another resource's output can be unknown: what is known is
            // checked, and the rest is checked again at up, when the engine calls check with the values.
            const errs = all.filter((p) => !holdsUnknown(p.value));
            if (errs.length || !v) return { inputs: news, failures: checkFailures(errs, news, [...kind.properties, "adopt", "probe"]) };
            return { inputs: { ...wire(v), connection: news.connection, adopt: news.adopt ?? false, ...(probe ? { probe } : {}) } };
        },
        async diff(_id, olds, news) {
            // At preview, inputs built from outputs not known yet reach diff unchecked (check left them raw, defaults
            // unfilled): a replace is reported only for an identity property known to differ, as up will find it.
            const known = (k: string) => !holdsUnknown(news) || (news[k] !== undefined && !holdsUnknown(news[k]));
            const replaces = kind.identity.filter((k) => known(k) && !sameJson(olds[k], news[k])) as string[];
            if (!holdsUnknown(news.connection) && connectionIdentity(olds.connection) !== connectionIdentity(news.connection)) replaces.push("connection");
            // Equal as the engine holds them is equal as stored, without reading the state's shape (a no-op up diffs every set).
            let changed: string[] = [];
            if (!sameJson(own(olds, computed), own(news, computed))) {
                const o = stored(olds);
                const n = stored(news);
                changed = [...new Set([...Object.keys(o), ...Object.keys(n)])].filter((k) => !sameJson(o[k], n[k]));
            }
            // Read and delete use the connection saved in the outputs: a newly pinned hostKey or a
            // rotated credential must reach them by an update, or refresh and destroy keep the old one.
            const reconnect = !sameJson(olds.connection, news.connection);
            return {
                changes: replaces.length > 0 || changed.length > 0 || reconnect || olds.present === false,
                replaces,
                deleteBeforeReplace: kind.deleteBeforeReplace ?? false,
            };
        },
        async create(inputs) {
            const t = transport(inputs);
            const v = stored(inputs) as T;
            const extra = (await kind.create(t, v, inputs.adopt === true)) ?? {};
            return { id: `${t.name}/${kind.key(v)}`, outs: withFrame(inputs, wire(v), extra) };
        },
        async read(id, props) {
            const t = transport(props);
            const v = stored(props) as T;
            const live = await kind.read(t, v);
            const kept = keep(props);
            // An object gone from the host stays in the state as absent, so the next up puts it back.
            if (!live) return { id, props: { ...props, present: false } };
            return { id, props: withFrame(props, wire(live), kept) };
        },
        async update(_id, olds, news) {
            const t = transport(news);
            const n = stored(news) as T;
            const kept = keep(olds);
            let extra: Inputs = {};
            if (olds.present === false) extra = (await kind.create(t, n, news.adopt === true)) ?? {};
            else {
                // Only the connection changed: nothing to do on the host, the outputs take the new one.
                const o = stored(olds);
                if (!sameJson(o, n)) {
                    await kind.update(t, o as T, n, news.adopt === true);
                    // Only a change is probed: at create the rest of the path (the Subnet, the prerequisites)
                    // may not be in place yet, and the component's PathCheck checks it after all of them.
                    if (news.probe) await probed(t.name, kind.key(n), () => requirePath(news.probe as PathCheckSpec), () => kind.update(t, n, o as T, true));
                }
            }
            return { outs: withFrame(news, wire(n), { ...extra, ...kept }) };
        },
        async delete(_id, props) {
            const t = transport(props);
            // Without a computed list, own() keeps the computed properties: remove may need them (Sysctl's previous value).
            await kind.remove(t, stored(props, []) as T);
        },
    };
}

/**
 * Runs the path check after a change; when it fails, or cannot run, undoes
 * the change and fails: `up` then keeps the previous state, and the host
 * must match it. An undo that fails too says both, so the diagnosis is
 * never lost behind the second error.
 */
export async function probed(host: string, what: string, check: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
    try {
        await check();
    } catch (e) {
        const failed = e instanceof PathUnreachable ? "the change made the path check fail" : `the path check could not run (${(e as Error).message})`;
        try {
            await undo();
        } catch (u) {
            throw new Error(`${host}: ${what}: ${failed}, and putting the previous state back failed too (${(u as Error).message})${e instanceof PathUnreachable ? `; ${e.message}` : ""}`);
        }
        if (e instanceof PathUnreachable) throw new ChangeRolledBack(host, what, e);
        throw new Error(`${host}: ${what}: ${failed}, so the previous state was restored on the host`);
    }
}

/** JavaScript's own errors: a bug of this package, whose stack trace is what a report needs. */
const BUG_ERRORS = [TypeError, ReferenceError, RangeError, SyntaxError];

/**
 * The error an operation fails with, without its stack trace unless it is a
 * bug. The SDK's dynamic-provider server prints `${e}: ${e.stack}` to the
 * provider's stderr when check, diff, read or delete throw (create and update
 * it returns as a gRPC status only), and the CLI shows that under the stack:
 * a refresh that cannot reach a host would print a dozen lines of ssh2 frames
 * into a CI log below the resource's own one-line error.
 */
function withoutTrace(e: unknown): unknown {
    if (e instanceof Error && !BUG_ERRORS.some((c) => e instanceof c)) Object.defineProperty(e, "stack", { value: "", configurable: true, writable: true });
    return e;
}

/** A lifecycle whose every operation is timed in the opt-in stats (provider/stats.ts) and fails withoutTrace. */
function timed(name: string, impl: KindImpl): KindImpl {
    const out: Record<string, unknown> = {};
    for (const [op, f] of Object.entries(impl) as [string, (...a: unknown[]) => Promise<unknown>][]) {
        out[op] = (...a: unknown[]) => timedOp(name, op, () => f(...a)).catch((e) => { throw withoutTrace(e); });
    }
    return out as unknown as KindImpl;
}

export const kinds = Object.fromEntries([
    ...Object.entries(KINDS).map(([name, k]) => [name, timed(name, lifecycle(k as KindSpec<object>))]),
    ...Object.entries(CHECKS).map(([name, impl]) => [name, timed(name, impl)]),
]) as Record<Kind, KindImpl>;
