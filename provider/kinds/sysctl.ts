/**
 * Host sysctls (net.ipv4.ip_forward, rp_filter per interface, ...). Delete
 * restores the value the host had before, since a sysctl cannot be absent.
 */
import type { Transport } from "../transport";
import { Kind } from "./kind";
import * as net from "./net";

// Keys are dotted paths of /proc/sys; interface names may appear as a segment.
const KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_@-]+){1,6}$/;
const VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface Sysctl {
    key: string;
    value: string;
}

export function normalizeSysctl(raw: Record<string, any>, errs: string[]): Sysctl | undefined {
    const before = errs.length;
    net.noUnknown(raw, ["key", "value", "previous"], errs);
    if (typeof raw.key !== "string" || !KEY.test(raw.key)) errs.push(`key: not a sysctl key: ${JSON.stringify(raw.key)}`);
    if (typeof raw.value !== "string" || !VALUE.test(raw.value)) errs.push(`value: not a plain sysctl value: ${JSON.stringify(raw.value)}`);
    return errs.length > before ? undefined : { key: raw.key, value: raw.value };
}

export const readArgv = (key: string) => ["sysctl", "-n", key];
export const writeArgv = (key: string, value: string) => ["sysctl", "-q", "-w", `${key}=${value}`];

export const sysctlKind: Kind<Sysctl> = {
    normalize: normalizeSysctl,
    identity: ["key"],
    deleteBeforeReplace: true,
    computed: ["previous"],
    key: (s) => `sysctl/${s.key}`,
    async read(t: Transport, s) {
        const res = await t.run(readArgv(s.key), { allowFailure: true });
        if (res.code !== 0) return undefined;
        return { key: s.key, value: res.stdout.trim() };
    },
    async create(t, s) {
        const previous = (await t.run(readArgv(s.key))).stdout.trim();
        await t.run(writeArgv(s.key, s.value));
        return { previous };
    },
    async update(t, _olds, news) {
        await t.run(writeArgv(news.key, news.value));
    },
    async remove(t, s) {
        const previous = (s as Sysctl & { previous?: string }).previous;
        if (previous !== undefined && previous !== "") await t.run(writeArgv(s.key, previous));
    },
};
