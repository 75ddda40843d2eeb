/**
 * What the components of one Pulumi program have claimed so far, for the
 * checks that span several objects: two RoutedSubnets whose CIDRs overlap,
 * two GatewayVips with one VRRP id on one segment. Each component validates
 * its own arguments in its constructor; these checks need the siblings too.
 *
 * Why a module-level map: a component has no other way to see the others of
 * its program. They need not share a parent, the engine offers no query of
 * what has been registered so far, and by the time `pulumi preview` shows
 * the conflict on the hosts (two keepalived groups electing each other's
 * masters, two Subnets fighting over addresses) it is too late. Claims are
 * plain data, recorded only by components whose arguments passed every
 * check, so a failed construction claims nothing.
 *
 * Keyed by program run: the root Stack resource of the run (one per
 * `pulumi preview`/`up`, also when the Automation API runs an inline
 * program several times in one process), so one run never sees another's
 * claims. Outside a run (unit tests under pulumi.runtime.setMocks) there is
 * no Stack resource and a single book is used: call resetRegistry() between
 * independent programs.
 */
import * as pulumi from "@pulumi/pulumi";
import { described } from "../common/problems";

/** One component's claim: its type and name (for messages) and what it claims. */
export interface Claim<T> {
    type: string;
    name: string;
    value: T;
}

type Book = Map<string, Claim<unknown>[]>;

const byRun = new WeakMap<object, Book>();
let outsideRun: Book = new Map();

function book(): Book {
    const stack = pulumi.runtime.getStackResource();
    if (!stack) return outsideRun;
    let b = byRun.get(stack);
    if (!b) byRun.set(stack, (b = new Map()));
    return b;
}

/** The claims of one kind ("subnet", "vrrp", ...) made so far in this program, oldest first. */
export function claims<T>(kind: string): readonly Claim<T>[] {
    return (book().get(kind) ?? []) as Claim<T>[];
}

/** Records a claim; call it only once the component's checks have passed. */
export function claim<T>(kind: string, c: Claim<T>): void {
    const b = book();
    b.set(kind, [...(b.get(kind) ?? []), c]);
}

/** Forgets every claim of the current program (tests, between independent programs). */
export function resetRegistry(): void {
    const stack = pulumi.runtime.getStackResource();
    if (stack) byRun.delete(stack);
    outsideRun = new Map();
}

/** How messages name the owner of a claim: `RoutedSubnet "first"`. */
export const owner = (c: Claim<unknown>) => described(c.type, c.name);
