/**
 * What every component does with its arguments before it creates anything:
 * one validation pass, and one error listing every problem.
 */
import * as pulumi from "@pulumi/pulumi";
import { validateConnection } from "../common/connection";
import { isObject } from "../common/net";
import { assertNoProblems, described, isOutput, isPending, objectArgs, PendingInput, Problem, problem } from "../common/problems";

/** Properties a component checks and hands on by itself: connections (checked once per node) and authPass (secret). */
const KEPT = new Set(["connection", "authPass"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
    if (v === null || typeof v !== "object") return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

interface Split {
    /** The args with every Input not known yet replaced by a PendingInput: what the checks at construction see. */
    view: unknown;
    /** The args without the KEPT properties: what is resolved into `known`. */
    bundle: unknown;
}

function split(v: unknown, path: string, pending: string[]): Split {
    if (isPending(v)) {
        pending.push(path);
        return { view: new PendingInput(), bundle: v };
    }
    if (Array.isArray(v)) {
        const parts = v.map((x, i) => split(x, `${path}[${i}]`, pending));
        return { view: parts.map((p) => p.view), bundle: parts.map((p) => p.bundle) };
    }
    if (!isPlainObject(v)) return { view: v, bundle: v };
    const view: Record<string, unknown> = {}, bundle: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
        if (KEPT.has(k)) {
            view[k] = x;
            continue;
        }
        const p = split(x, `${path}.${k}`, pending);
        view[k] = p.view;
        bundle[k] = p.bundle;
    }
    return { view, bundle };
}

/** Puts the KEPT properties of `from` back into a resolved copy, for the check once everything is known. */
function withKept(resolved: unknown, from: unknown): unknown {
    if (Array.isArray(resolved) && Array.isArray(from)) return resolved.map((x, i) => withKept(x, from[i]));
    if (!isPlainObject(resolved) || !isPlainObject(from)) return resolved;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(from)) out[k] = KEPT.has(k) ? x : withKept(resolved[k], x);
    return out;
}

const under = (path: string, of: string) => path === of || path.startsWith(`${of}.`) || path.startsWith(`${of}[`);

/** The arguments of a component after validateOnce. */
export interface Checked<A> {
    /**
     * The arguments as given, Inputs in place. Everything that decides the
     * resource graph (names, list lengths, CIDR counts) is plain and checked.
     */
    args: A;
    /**
     * The arguments with every Input resolved and the whole checked again
     * once known (a problem fails the apply with the same message), without
     * `connection` and `authPass` properties, which the component hands on by
     * itself. This is what renderers take.
     */
    known: pulumi.Output<pulumi.Unwrap<A>>;
    /** Like `known`, for some top-level properties only: what depends on them waits for nothing else. */
    part<K extends keyof A & string>(keys: readonly K[]): pulumi.Output<pulumi.Unwrap<Pick<A, K>>>;
    /**
     * The same properties as `part(keys)` when none of them holds an Input
     * not known yet (already checked, as they are), else undefined. Renderers
     * can then run now and children take plain values: the SDK pays for every
     * Output with promises and a captured stack trace each, and a lifted field
     * of a planned Output is one more per field and per child.
     */
    now<K extends keyof A & string>(keys: readonly K[]): pulumi.Unwrap<Pick<A, K>> | undefined;
}

/**
 * Validates a component's arguments once, at the top of its constructor:
 * `args` must be an object, then `validate` and (only when that found
 * nothing) `claim`, the cross-object checks that record a claim on success.
 * Throws one InvalidArgumentsError against the component, so preview fails
 * before anything is registered and prints no stack trace.
 *
 * Values may be Inputs. At construction the checks see a PendingInput in
 * place of each Output or Promise, and problems about those are left to the
 * second pass, which runs on the resolved arguments as soon as they are
 * known (at preview for a StackReference's outputs; at up for the outputs
 * of resources not created yet) and reports with the same messages.
 */
export function validateOnce<A>(
    self: pulumi.Resource,
    type: string,
    name: string,
    args: unknown,
    validate: (a: Record<string, unknown>) => Problem[],
    claim?: (a: A) => Problem[],
): Checked<A> {
    const what = described(type, name);
    const a = objectArgs(type, name, args, self) as Record<string, unknown>;
    const pending: string[] = [];
    const { view, bundle } = split(a, "args", pending);
    const now = validate(view as Record<string, unknown>)
        .filter((p) => !(p.value instanceof PendingInput) && !pending.some((at) => under(p.path, at)));
    assertNoProblems(what, now, self);
    if (claim) assertNoProblems(what, claim(view as A), self);
    const b = bundle as Record<string, unknown>;
    /**
     * The top-level properties `keys` resolved, checked once they are known: the
     * check runs on the view with them in place, and leaves problems about the
     * properties still pending (outside `keys`) to their own resolution. So a
     * Subnet does not wait for (or show as unknown at preview because of) a next
     * hop that belongs to its return routes.
     */
    const part = (keys: readonly string[]) => pulumi.output(Object.fromEntries(keys.filter((k) => k in b).map((k) => [k, b[k]]))).apply((resolved) => {
        const mine = pending.filter((at) => keys.some((k) => under(at, `args.${k}`)));
        if (mine.length) {
            const rest = pending.filter((at) => !mine.includes(at));
            const merged = { ...(view as Record<string, unknown>), ...(withKept(resolved, pick(a, keys)) as Record<string, unknown>) };
            assertNoProblems(what, validate(merged).filter((p) => !(p.value instanceof PendingInput) && !rest.some((at) => under(p.path, at))), self);
        }
        return resolved;
    });
    const known = part(Object.keys(b));
    const plainNow = (keys: readonly string[]) => pending.some((at) => keys.some((k) => under(at, `args.${k}`))) ? undefined : pick(b, keys);
    return { args: a as A, known: known as pulumi.Output<pulumi.Unwrap<A>>, part: part as Checked<A>["part"], now: plainNow as Checked<A>["now"] };
}

const pick = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

/**
 * A plain connection is checked here, once per node: the providers would
 * otherwise report the same problem once for every child resource of the
 * node. A connection that is an Output (or holds Outputs) is checked where
 * it is known; the providers check it again at preview.
 */
export function checkConnection(arg: string, v: unknown, errs: Problem[], node?: string): void {
    if (isOutput(v)) return;
    const found = validateConnection(v, arg);
    for (const p of found) errs.push(node === undefined ? p : { ...p, reason: `${p.reason} (node ${node})` });
}

/** A node's or a target's connection: required, and checked when it is a plain value. */
export function requiredConnection(arg: string, v: unknown, errs: Problem[], of: "node" | "host", node?: string): void {
    if (v === undefined) errs.push(problem(arg, `required: how to reach the ${of} over SSH`));
    else checkConnection(arg, v, errs, node);
}

/** The connections of a list of nodes (the node objects themselves are the renderers' to check). */
export function checkNodeConnections(arg: string, nodes: unknown, errs: Problem[]): void {
    (Array.isArray(nodes) ? nodes : []).forEach((n, i) => {
        if (isObject(n)) requiredConnection(`${arg}[${i}].connection`, n.connection, errs, "node", typeof n.name === "string" ? n.name : undefined);
    });
}

/**
 * A connection as the component hands it to its children. A plain one was
 * checked with the args; one that is (or holds) an Output is checked here
 * once it is known, so a bad one fails once for the node instead of once in
 * every child resource's provider check. The same error object reaches
 * every child, and the Node.js language host reports an error only once.
 */
export function checkedConnection<T>(self: pulumi.Resource, what: string, arg: string, v: pulumi.Input<T>, node?: string): pulumi.Input<T> {
    const known = !isOutput(v) && !(isObject(v) && Object.values(v).some(isOutput));
    if (known) return v;
    return pulumi.output(v).apply((c) => {
        const errs: Problem[] = [];
        checkConnection(arg, c, errs, node);
        assertNoProblems(what, errs, self);
        return c;
    }) as pulumi.Input<T>;
}

/** The nodes as the renderers take them: without their connections (which may be secret Outputs). */
export function withoutConnections<T extends { connection?: unknown }>(nodes: T[]): Omit<T, "connection">[] {
    return nodes.map(({ connection: _c, ...rest }) => rest);
}

/** What a renderer made: now from plain arguments (Checked.now), or once they are known. */
export type Planned<T> = T | pulumi.Output<T>;

/** A part of a plan, as plain as the plan: a child's inputs then hold an Output only where the arguments did. */
export function via<T, U>(p: Planned<T>, f: (t: T) => U): Planned<U> {
    return isOutput(p) ? (p as pulumi.Output<T>).apply(f) as pulumi.Output<U> : f(p as T);
}
