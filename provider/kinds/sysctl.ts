/**
 * Host sysctls (net.ipv4.ip_forward, rp_filter per interface, ...). Delete
 * restores the value the host had before, since a sysctl cannot be absent.
 *
 * The value found before is also recorded on the host (under /run, which a
 * reboot empties just as it resets the sysctl) before the new one is written:
 * if pulumi dies after the write and before the state is saved, the next
 * create would otherwise read its own value as "previous", and destroy would
 * never restore the host.
 */
import type { Transport } from "../transport";
import { Kind } from "./kind";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";

// Keys are dotted paths of /proc/sys; interface names may appear as a segment.
const KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_@-]+){1,6}$/;
// Plain words; several for multi-value keys (net.ipv4.ip_local_port_range = "32768 60999"),
// which /proc/sys prints tab-separated: compared with white space collapsed.
const VALUE = /^[A-Za-z0-9_.:-]+([ \t]+[A-Za-z0-9_.:-]+){0,15}$/;
const words = (v: string) => v.trim().split(/\s+/).join(" ");

export interface Sysctl {
    key: string;
    value: string;
}

export const SYSCTL_PROPS = ["key", "value"] as const;

export function normalizeSysctl(raw: Record<string, any>, errs: Problem[]): Sysctl | undefined {
    const before = errs.length;
    net.noUnknown(raw, [...SYSCTL_PROPS, "previous"], errs);
    if (typeof raw.key !== "string" || !KEY.test(raw.key)) errs.push(problem("key", "not a sysctl key", raw.key));
    // An integer is what /proc/sys holds as text; a program written in JavaScript or YAML often gives 1 for "1".
    const value = Number.isSafeInteger(raw.value) ? String(raw.value) : raw.value;
    if (typeof value !== "string" || value.length > 256 || !VALUE.test(value.trim())) {
        errs.push(problem("value", "not a plain sysctl value (words of A-Z a-z 0-9 _ . : - separated by spaces)", raw.value));
    }
    return errs.length > before ? undefined : { key: raw.key, value: words(value) };
}

export const readArgv = (key: string) => ["sysctl", "-n", key];
export const writeArgv = (key: string, value: string) => ["sysctl", "-q", "-w", `${key}=${value}`];

/** Where the value found before the first write is kept on the host until delete. */
export const recordPath = (key: string) => `/run/routed-overlay/sysctl/${key}`;

// One round trip: a record left by an interrupted create wins over the live value, which that create already changed.
const CREATE = 'f=$1; k=$2; v=$3; if [ -s "$f" ]; then p=$(cat "$f"); else p=$(sysctl -n "$k") && mkdir -p "${f%/*}" && printf %s "$p" > "$f"; fi && sysctl -q -w "$k=$v" && printf %s "$p"';
const REMOVE = 'f=$1; k=$2; p=$3; if [ -n "$p" ]; then sysctl -q -w "$k=$p" || exit; fi; rm -f "$f"; rmdir "${f%/*}" "${f%/*/*}" 2>/dev/null; exit 0';
export const createArgv = (key: string, value: string) => ["sh", "-c", CREATE, "routed-overlay", recordPath(key), key, value];
export const removeArgv = (key: string, previous: string) => ["sh", "-c", REMOVE, "routed-overlay", recordPath(key), key, previous];

export const sysctlKind: Kind<Sysctl> = {
    properties: SYSCTL_PROPS,
    normalize: normalizeSysctl,
    identity: ["key"],
    deleteBeforeReplace: true,
    computed: ["previous"],
    key: (s) => `sysctl/${s.key}`,
    async read(t: Transport, s) {
        const res = await t.run(readArgv(s.key), { allowFailure: true });
        if (res.code !== 0) return undefined;
        return { key: s.key, value: words(res.stdout) };
    },
    async create(t, s) {
        const previous = (await t.run(createArgv(s.key, s.value))).stdout.trim();
        return { previous };
    },
    async update(t, _olds, news) {
        await t.run(writeArgv(news.key, news.value));
    },
    async remove(t, s) {
        const previous = (s as Sysctl & { previous?: string }).previous;
        await t.run(removeArgv(s.key, previous ?? ""));
    },
};
