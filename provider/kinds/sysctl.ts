/**
 * Host sysctls (net.ipv4.ip_forward, rp_filter per interface, ...). A sysctl
 * cannot be absent, so delete restores the value the host had before.
 *
 * Several owners may share one sysctl on a host (two RoutedSubnets on the
 * same nodes, in one program or in two stacks): separate stacks cannot see
 * each other's state, so the host records them, under
 * /run/routed-overlay/sysctl/<key>/ (a reboot empties /run just as it resets
 * the sysctl): `original`, the value found before the first owner wrote, and
 * `owners/<owner>`, each owner's value. The value stays while any owner
 * remains; the last owner's delete restores `original`. Owners must agree
 * on the value: a create that asks for another one is refused, naming the
 * other owner. Every change happens under flock on `lock` in that directory,
 * so parallel creates on one host do not race. The original is recorded
 * before the first write: if pulumi dies after the write and before the
 * state is saved, the next create still restores the true original.
 */
import type { Transport } from "../transport";
import { Kind } from "./kind";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";
import { checkOwner } from "./claims";

// Keys are dotted paths of /proc/sys; interface names may appear as a segment.
const KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_@-]+){1,6}$/;
// Plain words; several for multi-value keys (net.ipv4.ip_local_port_range = "32768 60999"),
// which /proc/sys prints tab-separated: compared with white space collapsed.
const VALUE = /^[A-Za-z0-9_.:-]+([ \t]+[A-Za-z0-9_.:-]+){0,15}$/;
const words = (v: string) => v.trim().split(/\s+/).join(" ");

export interface SysctlState {
    key: string;
    value: string;
    /**
     * Who holds it on the host: a short hash of the stack and the resource
     * (see the Sysctl class). Absent in states of earlier versions, which
     * owned the sysctl alone.
     */
    owner?: string;
}

export const SYSCTL_PROPS = ["key", "value", "owner"] as const;

export function normalizeSysctl(raw: Record<string, any>, errs: Problem[]): SysctlState | undefined {
    const before = errs.length;
    net.noUnknown(raw, [...SYSCTL_PROPS, "previous"], errs);
    if (typeof raw.key !== "string" || !KEY.test(raw.key)) errs.push(problem("key", "not a sysctl key", raw.key));
    // An integer is what /proc/sys holds as text; a program written in JavaScript or YAML often gives 1 for "1".
    const value = Number.isSafeInteger(raw.value) ? String(raw.value) : raw.value;
    if (typeof value !== "string" || value.length > 256 || !VALUE.test(value.trim())) {
        errs.push(problem("value", "not a plain sysctl value (words of A-Z a-z 0-9 _ . : - separated by spaces)", raw.value));
    }
    const owner = checkOwner(raw.owner, errs);
    return errs.length > before ? undefined : { key: raw.key, value: words(value), ...(owner !== undefined && { owner }) };
}

/** The host's record of a sysctl's original value and owners (see the module comment). */
export const recordPath = (key: string) => `/run/routed-overlay/sysctl/${key}`;

/** The typed failure of a create whose value another owner of the sysctl does not share. */
export class SysctlConflict extends Error {
    constructor(host: string, key: string, value: string, public readonly otherOwner: string, public readonly otherValue: string) {
        super(`${host}: ${key} is also owned by ${otherOwner} (another resource or stack) with the value ${JSON.stringify(otherValue)}, ` +
            `not ${JSON.stringify(value)}; owners of one sysctl must agree (record: ${recordPath(key)}/owners)`);
        this.name = "SysctlConflict";
    }
}

const CONFLICT = 76;
// Shared by the scripts: take the record's lock (one owner changes it at a time), after turning a
// record of an earlier version (a plain file holding the original value) into the directory form.
const LOCKED = 'd=$1; k=$2; if [ -f "$d" ]; then mv "$d" "$d.old" && mkdir -p "$d/owners" && mv "$d.old" "$d/original" || exit; fi; ' +
    'mkdir -p "$d/owners" || exit; exec 9>"$d/lock"; flock -w 20 9 || { echo "$d/lock held by another process for 20 s" >&2; exit 75; }; mkdir -p "$d/owners" || exit; ';
// Prints the original value. An owner with another value refuses, with a line naming it (exit CONFLICT).
const CREATE = LOCKED + 'v=$3; o=$4; for f in "$d"/owners/*; do [ -e "$f" ] || continue; [ "${f##*/}" = "$o" ] && continue; ' +
    `w=$(cat "$f"); [ "$w" = "$v" ] || { printf '%s\n%s\n' "\${f##*/}" "$w"; exit ${CONFLICT}; }; done; ` +
    '[ -s "$d/original" ] || sysctl -n "$k" > "$d/original" || exit; printf %s "$v" > "$d/owners/$o" && sysctl -q -w "$k=$v" && cat "$d/original"';
// The last owner restores the original (or, for a state of an earlier version, the previous value it recorded).
const REMOVE = LOCKED + 'o=$3; p=$4; rm -f "$d/owners/$o"; [ -z "$(ls -A "$d/owners")" ] || exit 0; ' +
    'q=$(cat "$d/original" 2>/dev/null); [ -n "$q" ] || q=$p; if [ -n "$q" ]; then sysctl -q -w "$k=$q" || exit; fi; ' +
    'rm -rf "$d"; rmdir "${d%/*}" "${d%/*/*}" 2>/dev/null; exit 0';
// The live value, and whether the owner's record is still there (exit 3 when not).
const READ = 'sysctl -n "$1" || exit 2; [ -z "$2" ] || [ -e "$2" ] || exit 3';
/** A state of an earlier version has no owner: it held the record alone, under this name. */
const ownerOf = (s: SysctlState) => s.owner ?? "sole";

export const createArgv = (s: SysctlState) => ["sh", "-c", CREATE, "routed-overlay", recordPath(s.key), s.key, s.value, ownerOf(s)];
export const removeArgv = (s: SysctlState, previous: string) => ["sh", "-c", REMOVE, "routed-overlay", recordPath(s.key), s.key, ownerOf(s), previous];
export const readArgv = (s: SysctlState) => ["sh", "-c", READ, "routed-overlay", s.key, s.owner ? `${recordPath(s.key)}/owners/${s.owner}` : ""];

async function register(t: Transport, s: SysctlState): Promise<string> {
    const r = await t.run(createArgv(s), { allowFailure: true });
    if (r.code === CONFLICT) {
        const [other, value] = r.stdout.split("\n");
        throw new SysctlConflict(t.name, s.key, s.value, other, value ?? "");
    }
    if (r.code !== 0) throw new Error(`${t.name}: cannot set ${s.key}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    return r.stdout.trim();
}

export const sysctlKind: Kind<SysctlState> = {
    properties: SYSCTL_PROPS,
    normalize: normalizeSysctl,
    identity: ["key"],
    deleteBeforeReplace: true,
    computed: ["previous"],
    key: (s) => `sysctl/${s.key}`,
    async read(t: Transport, s) {
        // Absent when the key is gone, or when the host no longer records this owner (a reboot emptied /run):
        // the next up registers it again.
        const res = await t.run(readArgv(s), { allowFailure: true });
        if (res.code !== 0) return undefined;
        return { key: s.key, value: words(res.stdout), ...(s.owner !== undefined && { owner: s.owner }) };
    },
    async create(t, s) {
        return { previous: await register(t, s) };
    },
    async update(t, olds, news) {
        await register(t, news);
        // A new owner name (a state of an earlier version had none) takes over the old one's record.
        if (ownerOf(olds) !== ownerOf(news)) await t.run(["rm", "-f", `${recordPath(news.key)}/owners/${ownerOf(olds)}`]);
    },
    async remove(t, s) {
        const previous = (s as SysctlState & { previous?: string }).previous;
        await t.run(removeArgv(s, previous ?? ""));
    },
};
