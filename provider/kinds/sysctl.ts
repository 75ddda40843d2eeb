/**
 * Host sysctls (net.ipv4.ip_forward, rp_filter per interface, ...): pure
 * validation and argv; the provider runtime runs them through a Transport.
 */

// Keys are dotted paths of /proc/sys; interface names may appear as a segment.
const KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_@-]+){1,6}$/;
const VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface SysctlInputs {
    key: string;
    value: string;
}

export function validateSysctl(i: Partial<SysctlInputs>): string[] {
    const errs: string[] = [];
    if (typeof i.key !== "string" || !KEY.test(i.key)) errs.push(`key: not a sysctl key: ${JSON.stringify(i.key)}`);
    if (typeof i.value !== "string" || !VALUE.test(i.value)) errs.push(`value: not a plain sysctl value: ${JSON.stringify(i.value)}`);
    return errs;
}

export const readArgv = (key: string) => ["sysctl", "-n", key];
export const writeArgv = (key: string, value: string) => ["sysctl", "-q", "-w", `${key}=${value}`];
