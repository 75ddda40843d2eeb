/**
 * The contract each kernel object kind fulfils. provider/runtime.ts turns one
 * of these into a dynamic provider (check, diff, create, read, update,
 * delete); the kind itself only knows its object and a Transport.
 */
import type { Transport } from "../transport";
import type { Problem } from "../../common/problems";

export interface Kind<T extends object> {
    /** The properties users give (the resource's inputs besides connection and adopt). */
    properties: readonly string[];
    /** Validates and canonicalizes the kind's own properties; each problem names the property path and the value. */
    normalize(raw: Record<string, unknown>, errs: Problem[]): T | undefined;
    /**
     * The kind's properties as a state written by an earlier version of the
     * package holds them, in today's canonical form (for a kind whose stored
     * shape changed); undefined when they cannot be read so.
     */
    stored?(raw: Record<string, unknown>): T | undefined;
    /**
     * The kind's properties as the engine holds them, in the inputs check
     * returns and in the outputs, when that differs from the canonical form
     * (RouteSet groups its routes); `stored` reads them back.
     */
    wire?(v: T): Record<string, unknown>;
    /** Properties whose change means another kernel object: a replace, not an update. */
    identity: readonly (keyof T & string)[];
    /** Replace by deleting first: needed when old and new objects would collide (same name). */
    deleteBeforeReplace?: boolean;
    /** Output properties computed by the provider and kept across updates (not compared). */
    computed?: readonly string[];
    /** A stable key of the object on its host, used in the resource ID. */
    key(v: T): string;
    /**
     * The live object in the canonical shape of `v`, or undefined when it is
     * absent. Only what the package owns or was asked to manage is reported.
     */
    read(t: Transport, v: T): Promise<T | undefined>;
    /** Creates it; an existing identical object is an error unless `adopt`. Returns computed outputs. */
    create(t: Transport, v: T, adopt: boolean): Promise<Record<string, unknown> | void>;
    /**
     * Brings the live object from `olds` (as last read) to `news` in place;
     * `adopt` as in create, for the objects an update adds (a set's entries).
     */
    update(t: Transport, olds: T, news: T, adopt: boolean): Promise<void>;
    /** Removes exactly what the package owns; an object already gone is not an error. */
    remove(t: Transport, v: T): Promise<void>;
}

/** Message for an object that exists although this package did not create it. */
export function alreadyExists(host: string, what: string, detail?: string): Error {
    return new Error(
        `${host}: ${what} already exists${detail ? ` (${detail})` : ""} and was not created by routed-overlay; ` +
            "remove it, or set adopt: true to take it over (pulumi import does not work for dynamic providers)",
    );
}

/**
 * Whether two JSON values are equal whatever the order of their keys. Compared
 * in place rather than as key-sorted JSON strings: a no-op `up` diffs every
 * set, and the strings of a 1,280-route set cost milliseconds each time. JSON
 * values only (what the engine hands a dynamic provider): keys whose value is
 * undefined count as absent, as in JSON. test/unit/kinds.test.ts holds it to
 * the key-sorted strings.
 */
export function sameJson(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) || Array.isArray(b)) {
        if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
        for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
        return true;
    }
    const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
    let defined = 0;
    for (const k in x) {
        if (x[k] === undefined) continue;
        defined++;
        if (!Object.prototype.hasOwnProperty.call(y, k) || !sameJson(x[k], y[k])) return false;
    }
    for (const k in y) if (y[k] !== undefined) defined--;
    return defined === 0;
}
