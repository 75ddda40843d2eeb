/**
 * Claims: the host's record of which resource, of which stack, put a route
 * or a rule there. The kernel marks them only with a protocol number (one
 * byte, the same for every stack), so the mark tells ours from another
 * tool's but not one stack's from another's: the host keeps the rest, under
 * /run/routed-overlay/claims/<owner>, one file per resource (`owner` is the
 * hash of organization, project, stack and resource the resource classes
 * pass), one line per object key. /run is emptied by a reboot, as the routes
 * and rules are.
 *
 * A resource writes its claim before it touches the kernel, so a create that
 * pulumi died in leaves a claim the next create recognises as its own; its
 * delete removes the claim after the objects.
 */
import type { ExecResult, Transport } from "../transport";
import { Problem, problem } from "../../common/problems";

export const CLAIMS_DIR = "/run/routed-overlay/claims";

/** A resource's name on the host's records (sysctl owners, claims, firewall comments). */
const OWNER = /^[a-z0-9]{8,64}$/;

/** Checks an `owner` property: it becomes a file name on the host. */
export function checkOwner(v: unknown, errs: Problem[]): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !OWNER.test(v)) {
        errs.push(problem("owner", "8 to 64 of a-z 0-9", v));
        return undefined;
    }
    return v;
}

// One script for every change of an owner's claims. Stdin: the keys to add ("+KEY") and to remove
// ("-KEY"). It prints, for the keys to add, who claimed them just before ("prior FILE:KEY"), so a create
// tells a run of its own that pulumi died in from another resource's; rewrites the owner's file (written,
// then renamed: a reader never sees half of one; the file goes with its last key, the directories with
// the last file, a host left as it was found); prints the keys to remove that a claim still holds
// ("held KEY"). Then, when a command follows the mode, a line "---" and the command, its status the
// script's: mode "then" runs it always, "if-free" only when no key is held.
const CHANGE = 'd=$1 o=$2 m=$3; shift 3; k=$(cat); f="$d/$o"; a=$(printf "%s\\n" "$k" | sed -n "s/^+//p"); r=$(printf "%s\\n" "$k" | sed -n "s/^-//p"); ' +
    'if [ -n "$a" ]; then mkdir -p "$d" || exit; printf "%s\\n" "$a" | grep -r -s -x -F --exclude=".*" -f - "$d" | sed "s/^/prior /"; fi; ' +
    'if [ -n "$a" ] || [ -e "$f" ]; then { if [ -n "$r" ] && [ -e "$f" ]; then printf "%s\\n" "$r" | grep -v -x -F -f - "$f"; else cat "$f" 2>/dev/null; fi; ' +
    '[ -z "$a" ] || printf "%s\\n" "$a"; } | sort -u > "$d/.$o.new" || exit; if [ -s "$d/.$o.new" ]; then mv -f "$d/.$o.new" "$f"; else rm -f "$d/.$o.new" "$f"; fi; fi; ' +
    'h=; [ -z "$r" ] || h=$(printf "%s\\n" "$r" | grep -r -h -s -x -F --exclude=".*" -f - "$d"); rmdir "$d" "${d%/*}" 2>/dev/null; ' +
    '[ -z "$h" ] || printf "%s\\n" "$h" | sed "s/^/held /"; [ $# -gt 0 ] || exit 0; [ "$m" = then ] || [ -z "$h" ] || exit 0; echo ---; exec "$@" </dev/null';

export interface ClaimsChange {
    /** Key → the owners that claimed it just before, of the keys added; `owner` included when an earlier run of it had. */
    prior: Map<string, string[]>;
    /** Of the keys removed, those another claim still holds. */
    held: Set<string>;
    /** The command's result, when one ran. */
    result?: ExecResult;
}

/**
 * Adds `add` to what `owner` holds on this host and removes `remove` from it,
 * in one round trip; with `then`, a command in the same round trip, after the
 * claims: always (`when: "then"`), or only when no removed key is held
 * (`when: "if-free"`), its result with allowFailure semantics.
 */
export async function changeClaims(t: Transport, owner: string, add: readonly string[], remove: readonly string[], then?: { argv: readonly string[]; when: "then" | "if-free" }): Promise<ClaimsChange> {
    const input = [...add.map((k) => `+${k}`), ...remove.map((k) => `-${k}`)].join("\n");
    const r = await t.run(["sh", "-c", CHANGE, "routed-overlay", CLAIMS_DIR, owner, then?.when ?? "then", ...(then?.argv ?? [])], { input, allowFailure: true });
    const marker = r.stdout.startsWith("---\n") ? 0 : r.stdout.indexOf("\n---\n");
    const ran = marker >= 0;
    if (!ran && r.code !== 0) throw new Error(`${t.name}: changing claims: ${r.stderr.trim() || `exit ${r.code}`}`);
    const own = ran ? r.stdout.slice(0, marker) : r.stdout;
    const prior = new Map<string, string[]>();
    const held = new Set<string>();
    for (const line of own.split("\n")) {
        if (line.startsWith("held ")) { if (remove.includes(line.slice(5))) held.add(line.slice(5)); continue; }
        if (!line.startsWith(`prior ${CLAIMS_DIR}/`)) continue;
        // grep prints FILE:LINE; the file is CLAIMS_DIR/<owner>, and owners hold no colon.
        const at = "prior ".length + CLAIMS_DIR.length + 1;
        const sep = line.indexOf(":", at);
        if (sep < 0) continue;
        const key = line.slice(sep + 1);
        prior.set(key, [...(prior.get(key) ?? []), line.slice(at, sep)]);
    }
    return { prior, held, ...(ran ? { result: { ...r, stdout: r.stdout.slice(marker === 0 ? 4 : marker + 5) } } : {}) };
}

/**
 * Adds `keys` to what `owner` holds on this host, and returns who claimed
 * each key just before: key → owners, `owner` included when an earlier run
 * of this resource had.
 */
export async function claim(t: Transport, owner: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    return (await changeClaims(t, owner, keys, [])).prior;
}

/**
 * Removes `keys` from what `owner` holds. By key, not the whole file: a
 * replace creates the new object before it deletes the old one, under the
 * same owner.
 */
export async function unclaim(t: Transport, owner: string, keys: readonly string[]): Promise<void> {
    await release(t, owner, keys);
}

/**
 * Removes `keys` from what `owner` holds and returns those another claim
 * still holds: their objects stay, as a Sysctl's value stays while it has an
 * owner (a RouteSet that took over a Rule resource's rule, a resource of
 * another stack that adopted the same object). With `argv`, the delete of
 * the objects, in the same round trip, run only when no key is held; its
 * result comes back with allowFailure semantics.
 */
export async function release(t: Transport, owner: string, keys: readonly string[], argv: readonly string[] = []): Promise<{ held: Set<string>; result?: ExecResult }> {
    if (!keys.length) return { held: new Set() };
    const { held, result } = await changeClaims(t, owner, [], keys, argv.length ? { argv, when: "if-free" } : undefined);
    return { held, ...(result ? { result } : {}) };
}

/**
 * Moves a resource's claim to a new owner name: a state of an earlier
 * version has none, and a renamed resource has another.
 */
export async function moveClaims(t: Transport, from: { owner?: string; keys: string[] }, to: { owner?: string; keys: string[] }): Promise<void> {
    if (from.owner === to.owner) return;
    if (to.owner !== undefined) await claim(t, to.owner, to.keys);
    if (from.owner !== undefined) await unclaim(t, from.owner, from.keys);
}

/**
 * The typed failure of a create that finds routed-overlay's mark on an
 * object this resource does not hold: another stack's (or resource's), or
 * left by an interrupted run that recorded no claim.
 */
export class ClaimedElsewhere extends Error {
    constructor(public readonly host: string, public readonly object: string, public readonly owners: readonly string[]) {
        super(`${host}: ${object} carries routed-overlay's mark but this resource does not hold it: ` +
            (owners.length
                ? `the host records it for ${owners.join(" and ")} (another stack or resource; ${CLAIMS_DIR}/<owner>)`
                : `no resource on the host claims it (another stack, or an interrupted run of a version before claims)`) +
            "; set adopt: true to take it over, or delete it on the host");
        this.name = "ClaimedElsewhere";
    }
}

/**
 * Of the objects of ours (our mark) found in the way, those this resource
 * may take back: those its own earlier claim holds (a run of it that pulumi
 * died in), or any with `adopt`. The first other one stops it, with the
 * owners the host recorded.
 */
export function takeBack(host: string, owner: string | undefined, found: readonly { key: string; what: string }[], prior: Map<string, string[]>, adopt: boolean): void {
    if (adopt) return;
    for (const f of found) {
        const owners = prior.get(f.key) ?? [];
        if (owner === undefined || !owners.includes(owner)) throw new ClaimedElsewhere(host, f.what, owners.filter((o) => o !== owner));
    }
}
