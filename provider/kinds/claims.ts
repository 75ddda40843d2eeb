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

// Prints the claims on the keys (read from stdin) as they were before this one is added, so a create
// tells a run of its own that pulumi died in from another resource's. A claim file is replaced whole
// (written, then renamed): a reader never sees half of one.
const CLAIM = 'k=$(cat); mkdir -p "$1" || exit; printf "%s\\n" "$k" | grep -r -s -x -F --exclude=".*" -f - "$1"; ' +
    '{ cat "$1/$2" 2>/dev/null; printf "%s\\n" "$k"; } | sort -u > "$1/.$2.new" && mv -f "$1/.$2.new" "$1/$2"';
/**
 * Adds `keys` to what `owner` holds on this host, and returns who claimed
 * each key just before: key → owners, `owner` included when an earlier run
 * of this resource had.
 */
export async function claim(t: Transport, owner: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    const r = await t.run(["sh", "-c", CLAIM, "routed-overlay", CLAIMS_DIR, owner], { input: keys.join("\n") });
    const out = new Map<string, string[]>();
    for (const line of r.stdout.split("\n")) {
        // grep prints FILE:LINE; the file is CLAIMS_DIR/<owner>, and owners hold no colon.
        const sep = line.indexOf(":", CLAIMS_DIR.length);
        if (!line.startsWith(`${CLAIMS_DIR}/`) || sep < 0) continue;
        const key = line.slice(sep + 1);
        out.set(key, [...(out.get(key) ?? []), line.slice(CLAIMS_DIR.length + 1, sep)]);
    }
    return out;
}

/**
 * Removes `keys` from what `owner` holds. By key, not the whole file: a
 * replace creates the new object before it deletes the old one, under the
 * same owner.
 */
export async function unclaim(t: Transport, owner: string, keys: readonly string[]): Promise<void> {
    await release(t, owner, keys);
}

// Removes the keys from the owner's file (the file goes with its last key, and the directories with
// the last file: a host left as it was found); prints the keys some claim still holds, each as
// "held KEY"; then, when none is held and a command follows the owner, runs it (its status is the script's).
const RELEASE = 'd=$1 o=$2; shift 2; k=$(cat); f="$d/$o"; if [ -e "$f" ]; then printf "%s\\n" "$k" | grep -v -x -F -f - "$f" > "$d/.$o.new"; ' +
    'if [ -s "$d/.$o.new" ]; then mv -f "$d/.$o.new" "$f"; else rm -f "$d/.$o.new" "$f"; fi; fi; ' +
    'h=$(printf "%s\\n" "$k" | grep -r -h -s -x -F --exclude=".*" -f - "$d"); rmdir "$d" "${d%/*}" 2>/dev/null; ' +
    'if [ -n "$h" ]; then printf "%s\\n" "$h" | sed "s/^/held /"; exit 0; fi; [ $# -eq 0 ] || exec "$@" </dev/null';

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
    const r = await t.run(["sh", "-c", RELEASE, "routed-overlay", CLAIMS_DIR, owner, ...argv], { input: keys.join("\n"), allowFailure: true });
    const held = new Set(r.stdout.split("\n").filter((l) => l.startsWith("held ")).map((l) => l.slice(5)).filter((k) => keys.includes(k)));
    if (held.size) return { held };
    if (!argv.length && r.code !== 0) throw new Error(`${t.name}: releasing claims: ${r.stderr.trim() || `exit ${r.code}`}`);
    return { held, ...(argv.length ? { result: r } : {}) };
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
