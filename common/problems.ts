/**
 * Validation problems and the one way a value reaches a message.
 *
 * Every validator in the package (components, renderers, kernel-object
 * kinds, connections) reports `{ path, reason, value }` records. Nothing
 * else turns a user's value into text: `render` does, and it never shows a
 * secret, whatever property or list the secret sits under. Messages land in
 * CI logs and pull-request comments, so redaction is decided here, once, by
 * the shape of the value and the names along its path, never by each caller.
 */
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** One thing wrong with one argument. */
export interface Problem {
    /** Where: "args.nodes[0].address", or a kind's own property path ("routes[\"10.0.0.0/8\"].gateway"). */
    path: string;
    /** What is wrong, in words, without the offending value (render shows that). */
    reason: string;
    /** Whether the value is shown after the reason: a problem about a missing combination has none. */
    hasValue: boolean;
    value?: unknown;
}

/** A problem at `path`; the value, when given, is shown through `render` (so never a secret). */
export function problem(path: string, reason: string, ...value: [unknown?]): Problem {
    return value.length ? { path, reason, hasValue: true, value: value[0] } : { path, reason, hasValue: false };
}

/** A Pulumi Output: its value is not known while the program runs, so checks of it wait for the provider. */
export function isOutput(v: unknown): boolean {
    return pulumi.Output.isInstance(v);
}

/** Whether a value is, or holds, the engine's stand-in (in a provider's check at preview) for a value not known yet. */
export function holdsUnknown(v: unknown): boolean {
    if (v === unknownValue) return true;
    if (Array.isArray(v)) return v.some(holdsUnknown);
    if (v && typeof v === "object") return Object.values(v).some(holdsUnknown);
    return false;
}

/**
 * Stands in for an Input that is not known yet (an Output or a Promise) in
 * the copy of a component's arguments checked at construction: checks of it
 * wait until it is known, and any problem about it is left to that check.
 */
export class PendingInput {}

// ---------------------------------------------------------------------------
// Redaction

/**
 * Property names whose values are secrets wherever they appear. Matched on
 * the name's words, so "authPass", "privateKeyPassword", "vrrp_password",
 * "apiToken" and a misspelt "privatekey" are all caught, while "hostKey" (a
 * public key, shown so a mismatch can be diagnosed), "configPath" and the
 * Subnet's boolean "private" are not.
 */
const SECRET_NAME = /pass|secret|token|cred|private.|apikey|^config$/i;

/** Names of whole connections: hidden as a value, but their public fields (host, port, user, hostKey) are shown. */
const CONNECTION_NAME = /^con+ec?tion|^connexion|^conn$/i;

/** Whether a property of this name holds a secret. */
export function isSecretName(name: string): boolean {
    return SECRET_NAME.test(name) || CONNECTION_NAME.test(name);
}

/** The object looks like an SSH connection (or holds credentials): shown as a placeholder. */
function isConnectionLike(o: Record<string, unknown>): boolean {
    return ["privateKey", "password", "privateKeyPassword", "agentSocketPath"].some((k) => k in o)
        || ("host" in o && ("hostKey" in o || "user" in o || "insecureIgnoreHostKey" in o));
}

/** PEM blocks and OpenSSH private keys, whatever property carries them. */
const KEY_MATERIAL = /-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|KEY)-----|PuTTY-User-Key-File/;

const HIDDEN = "(not shown: may be a secret)";
const MAX_CHARS = 240;

function redact(v: unknown, depth: number): unknown {
    if (isOutput(v) || v instanceof PendingInput) return "(an Output, not known until apply)";
    // A resource where one of its outputs belongs (the GatewayVip itself instead of its address, say).
    if (pulumi.Resource.isInstance(v)) return `(the resource ${String((v as { __name?: unknown }).__name ?? "")}, not one of its outputs)`;
    if (typeof v === "string") return KEY_MATERIAL.test(v) ? HIDDEN : v;
    if (typeof v === "function") return "(a function)";
    if (typeof v === "bigint" || typeof v === "symbol") return String(v);
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    if (v === null || typeof v !== "object") return v;
    if (depth > 6) return "(…)";
    if (isPromiseLike(v)) return "(a Promise)";
    if (Array.isArray(v)) return v.map((x) => redact(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (isConnectionLike(o)) return `(a connection${typeof o.host === "string" && !KEY_MATERIAL.test(o.host) ? ` to ${o.host.slice(0, 64)}` : ""}, not shown)`;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = isSecretName(k) && x !== undefined ? HIDDEN : redact(x, depth + 1);
    return out;
}

function isPromiseLike(v: unknown): boolean {
    return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}

/** A value the program does not hold yet: an Output or a Promise (a Pulumi Input of either kind). */
export function isPending(v: unknown): boolean {
    return isOutput(v) || isPromiseLike(v);
}

/**
 * Whether the value at this path is a secret: some property along the path
 * names one, or the path ends at a whole connection.
 */
function pathIsSecret(path: string): boolean {
    const segs = path.split(/[.[\]"]+/).filter((s) => s !== "" && !/^\d+$/.test(s));
    return segs.some((s) => SECRET_NAME.test(s)) || (segs.length > 0 && CONNECTION_NAME.test(segs[segs.length - 1]));
}

/**
 * A value as every message shows it: JSON, "(absent)" for a missing one,
 * and never a secret. Hidden: anything under a secret-named property (on
 * the path or inside the value), connection objects, private-key material,
 * and Outputs (secret or not, their value is not known here). Long values
 * are cut.
 */
export function render(value: unknown, path = ""): string {
    if (value === undefined) return "(absent)";
    if (pathIsSecret(path)) {
        // The type and length say enough to fix a secret without showing it.
        if (typeof value === "string") return `(not shown: a secret, ${value.length} characters)`;
        if (isOutput(value)) return "(an Output, not known until apply)";
        return `(not shown: a secret, ${value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`})`;
    }
    let text: string;
    try {
        text = JSON.stringify(redact(value, 0)) ?? String(value);
    } catch {
        text = "(a value that cannot be shown)";
    }
    return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}… (${text.length} characters)` : text;
}

/** One problem as one line: "path: reason: value". */
export function formatProblem(p: Problem): string {
    return p.hasValue ? `${p.path}: ${p.reason}: ${render(p.value, p.path)}` : `${p.path}: ${p.reason}`;
}

// ---------------------------------------------------------------------------
// Errors

/**
 * What a component throws when its arguments are invalid: one error listing
 * every problem. A ResourceError with the stack hidden, so `pulumi preview`
 * prints the problems against the component and no JavaScript stack trace
 * (the Node.js language host prints the stack of any other error). The
 * records stay available as `problems` and, in the engine's terms, `errors`.
 */
export class InvalidArgumentsError extends pulumi.ResourceError {
    readonly problems: readonly Problem[];
    readonly errors: { propertyPath: string; reason: string }[];

    constructor(what: string, problems: readonly Problem[], resource?: pulumi.Resource) {
        const lines = problems.map(formatProblem);
        super(`${what}: invalid arguments:\n  ${lines.join("\n  ")}`, resource, true);
        this.name = "InvalidArgumentsError";
        this.problems = problems;
        this.errors = problems.map((p, i) => ({ propertyPath: p.path, reason: lines[i].slice(p.path.length + 2) }));
    }
}

/** Throws an InvalidArgumentsError when there is any problem. */
export function assertNoProblems(what: string, problems: readonly Problem[], resource?: pulumi.Resource): void {
    if (problems.length) throw new InvalidArgumentsError(what, problems, resource);
}

/** How errors name a component or resource: `RoutedSubnet "routed"`. */
export const described = (type: string, name: string) => `${type} ${JSON.stringify(name)}`;

/**
 * The args of a component or resource, when they are an object; anything else
 * (undefined, null, a string, a list) has no properties to check, and is
 * refused naming `args` before a constructor reads a property of it.
 */
export function objectArgs<T>(type: string, name: string, args: T, resource?: pulumi.Resource): T {
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
        assertNoProblems(described(type, name), [problem("args", `must be an object of ${type}Args`, args)], resource);
    }
    return args;
}

/**
 * The provider's CheckFailures, built from the paths: the reason is the
 * whole line, the property the path's first segment. The engine prints the
 * input under that property itself, bypassing render ("property dst value
 * {...} has a problem"), so the property is named only when that input is a
 * known property of the kind holding a plain value that render would show
 * as it is; otherwise the failure names no property and only the line is
 * printed.
 */
export function checkFailures(problems: readonly Problem[], inputs: Record<string, unknown>, known: readonly string[]): { property: string; reason: string }[] {
    return problems.map((p) => {
        const top = /^[^.[]*/.exec(p.path)![0];
        const v = inputs[top];
        const plain = typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && !KEY_MATERIAL.test(v));
        const property = known.includes(top) && !isSecretName(top) && plain ? top : "";
        return { property, reason: formatProblem(p) };
    });
}
