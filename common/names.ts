/**
 * Kubernetes name checks: object, node and namespace names, label and
 * annotation maps. Shared by the components and their renderers.
 */
import { isObject } from "./net";
import { Problem, problem } from "./problems";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A CIDR or address as part of a Pulumi resource name: "/" and ":" are not welcome there. */
export const namePart = (s: string) => s.replace(/[/:]/g, "_");

/** A DNS-1123 label: namespaces, short host names in child resource names. */
export function isDnsLabel(v: unknown): v is string {
    return typeof v === "string" && v.length <= 63 && DNS_LABEL.test(v);
}

/** A DNS-1123 subdomain: object and node names. */
export function isDnsSubdomain(v: unknown): v is string {
    return typeof v === "string" && v.length <= 253 && v.split(".").every((l) => DNS_LABEL.test(l));
}

/** Kubernetes object and node names; `max` is lower where derived names must still fit in 253. */
export function subdomain(arg: string, v: unknown, what: string, errs: Problem[], max = 253): string | undefined {
    if (isDnsSubdomain(v) && v.length <= max) return v;
    errs.push(problem(arg, `not a valid ${what} (DNS-1123 subdomain: lower-case a-z 0-9 - ., at most ${max} characters)`, v));
    return undefined;
}

/** A DNS-1123 label (namespaces, target names). */
export function label(arg: string, v: unknown, what: string, errs: Problem[]): string | undefined {
    if (isDnsLabel(v)) return v;
    errs.push(problem(arg, `not a valid ${what} (DNS-1123 label: lower-case a-z 0-9 -, at most 63 characters)`, v));
    return undefined;
}

const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function isQualifiedName(k: string): boolean {
    const slash = k.lastIndexOf("/");
    const name = slash < 0 ? k : k.slice(slash + 1);
    if (slash >= 0 && !isDnsSubdomain(k.slice(0, slash))) return false;
    return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** Kubernetes labels (`labels` true) or annotations: qualified-name keys, string values. Absent is fine. */
export function stringMap(arg: string, v: unknown, labels: boolean, errs: Problem[]): void {
    if (v === undefined) return;
    if (!isObject(v)) {
        errs.push(problem(arg, "must be a map of strings", v));
        return;
    }
    for (const [k, val] of Object.entries(v)) {
        if (!isQualifiedName(k)) errs.push(problem(arg, "key is not a qualified name ([prefix/]name, name at most 63 of A-Z a-z 0-9 - _ .)", k));
        const at = `${arg}[${JSON.stringify(k)}]`;
        if (typeof val !== "string") errs.push(problem(at, "must be a string", val));
        else if (labels && (val.length > 63 || (val !== "" && !QUALIFIED_NAME.test(val)))) {
            errs.push(problem(at, "not a label value (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)", val));
        }
    }
}
