/**
 * What every component does with its arguments before it creates anything:
 * one validation pass, and one error listing every problem.
 */
import * as pulumi from "@pulumi/pulumi";
import { validateConnection } from "../common/connection";
import { isObject } from "../common/net";
import { assertNoProblems, described, isOutput, objectArgs, Problem, problem } from "../common/problems";

/**
 * Validates a component's arguments once, at the top of its constructor:
 * `args` must be an object, then `validate` and (only when that found
 * nothing) `claim`, the cross-object checks that record a claim on success.
 * Throws one InvalidArgumentsError against the component, so preview fails
 * before anything is registered and prints no stack trace.
 */
export function validateOnce<A>(
    self: pulumi.Resource,
    type: string,
    name: string,
    args: unknown,
    validate: (a: Record<string, unknown>) => Problem[],
    claim?: (a: A) => Problem[],
): A {
    const what = described(type, name);
    const a = objectArgs(type, name, args, self) as Record<string, unknown>;
    assertNoProblems(what, validate(a), self);
    if (claim) assertNoProblems(what, claim(a as A), self);
    return a as A;
}

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
