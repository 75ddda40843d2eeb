/**
 * Forwarding database entries of a VXLAN (or bridge) device, modelled on
 * `bridge -j fdb show dev X`. Unicast VXLAN keeps one all-zero-MAC entry per
 * remote VTEP: the kernel floods broadcast and unknown traffic to each of
 * them, which replaces multicast. FDB entries carry no owner mark, so
 * ownership is what the state records: delete removes exactly those entries.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import { isGone, parseJsonArray } from "./iproute";
import { OWN_ALIAS } from "./link";
import * as net from "../../common/net";
import { Problem } from "../../common/problems";

import { ZERO_MAC } from "../../common/net";

export interface FdbSpec {
    /** Default 00:00:00:00:00:00 (flood to this VTEP). */
    mac?: string;
    dev: string;
    /** The remote VTEP's underlay address. */
    dst: string;
    vni?: number;
    port?: number;
    /** Default true: a static entry that never ages out. */
    permanent?: boolean;
}

export interface Fdb {
    mac: string;
    dev: string;
    dst: string;
    vni?: number;
    port?: number;
    permanent: boolean;
}

export const FDB_PROPS = ["mac", "dev", "dst", "vni", "port", "permanent"] as const;

export function normalizeFdb(raw: Record<string, any>, errs: Problem[], arg = "", opts: { dev?: string } = {}): Fdb | undefined {
    const before = errs.length;
    net.noUnknown(raw, opts.dev ? FDB_PROPS.filter((p) => p !== "dev") : FDB_PROPS, errs, arg);
    const f: Fdb = {
        mac: raw.mac === undefined ? ZERO_MAC : net.mac(`${arg}mac`, raw.mac, errs) ?? "",
        dev: opts.dev ?? net.ifname(`${arg}dev`, raw.dev, errs) ?? "",
        // A multicast dst is a group the kernel would join (multicast VXLAN), not a peer; unicast VXLAN needs the peer's own address.
        dst: net.unicastAddress(`${arg}dst`, raw.dst, errs, "dst is the remote VTEP's underlay address") ?? "",
        permanent: net.bool(`${arg}permanent`, raw.permanent, errs) ?? true,
    };
    if (raw.vni !== undefined) f.vni = net.integer(`${arg}vni`, raw.vni, 1, 0xffffff, errs);
    if (raw.port !== undefined) f.port = net.integer(`${arg}port`, raw.port, 1, 65535, errs);
    return errs.length > before ? undefined : f;
}

/** Selects exactly one remote of a MAC: `append` adds it beside the others, `del` removes only it. */
export function fdbWords(f: Fdb): string[] {
    const w = [f.mac, "dev", f.dev, "dst", f.dst];
    if (f.vni !== undefined) w.push("vni", String(f.vni));
    if (f.port !== undefined) w.push("port", String(f.port));
    return w;
}

// `append` rather than `add`/`replace`: for the all-zero MAC, replace would overwrite the first remote
// of the list instead of adding one, and add fails once a first VTEP is there.
export const appendWords = (f: Fdb) => ["fdb", "append", ...fdbWords(f), f.permanent ? "permanent" : "static", "self"];
export const delWords = (f: Fdb) => ["fdb", "del", ...fdbWords(f), "self"];
export const showArgv = (dev: string) => ["bridge", "-j", "fdb", "show", "dev", dev];

export function parseFdb(e: Record<string, any>, dev: string): Fdb {
    const f: Fdb = { mac: String(e.mac).toLowerCase(), dev, dst: e.dst ?? "", permanent: e.state === "permanent" };
    if (e.vni !== undefined) f.vni = Number(e.vni);
    if (e.port !== undefined) f.port = Number(e.port);
    return f;
}

export const fdbKey = (f: Pick<Fdb, "mac" | "dst" | "vni" | "port">) =>
    `${f.mac}@${f.dst}${f.vni !== undefined ? `/vni${f.vni}` : ""}${f.port !== undefined ? `:${f.port}` : ""}`;

/** All entries of a device with a remote (dst): the device's own and bridge entries are not ours to see. */
export async function readDev(t: Transport, dev: string): Promise<Fdb[] | undefined> {
    const res = await t.run(showArgv(dev), { allowFailure: true });
    if (res.code !== 0) {
        if (isGone(res.stderr)) return undefined;
        throw new Error(`${t.name}: bridge fdb show dev ${dev}: ${res.stderr.trim()}`);
    }
    return parseJsonArray(res.stdout).filter((e) => e.dst !== undefined).map((e) => parseFdb(e, dev));
}

/**
 * FDB entries carry no mark of their own, but a device with routed-overlay's
 * alias is a VxlanLink of ours: entries on it that a create finds already
 * there were left by a create of ours that pulumi died in.
 */
export async function ownDevice(t: Transport, dev: string): Promise<boolean> {
    const res = await t.run(["ip", "-j", "link", "show", "dev", dev], { allowFailure: true });
    return res.code === 0 && parseJsonArray(res.stdout).some((e) => e.ifalias === OWN_ALIAS);
}

export const fdbKind: Kind<Fdb> = {
    properties: FDB_PROPS,
    normalize: (raw, errs) => normalizeFdb(raw, errs),
    identity: ["mac", "dev", "dst", "vni", "port"],
    key: (f) => `${f.dev}/${fdbKey(f)}`,
    async read(t, f) {
        return (await readDev(t, f.dev))?.find((l) => fdbKey(l) === fdbKey(f));
    },
    async create(t, f, adopt) {
        const live = (await readDev(t, f.dev))?.find((l) => fdbKey(l) === fdbKey(f));
        if (live && !adopt && !(await ownDevice(t, f.dev))) throw alreadyExists(t.name, `the FDB entry ${f.mac} dst ${f.dst} on ${f.dev}`);
        if (live) await t.run(["bridge", ...delWords(live)]);
        await t.run(["bridge", ...appendWords(f)]);
    },
    async update(t, olds, news) {
        const live = (await readDev(t, news.dev))?.find((l) => fdbKey(l) === fdbKey(news));
        if (live && olds.permanent === news.permanent) return;
        if (live) await t.run(["bridge", ...delWords(live)]);
        await t.run(["bridge", ...appendWords(news)]);
    },
    async remove(t, f) {
        const res = await t.run(["bridge", ...delWords(f)], { allowFailure: true });
        if (res.code !== 0 && !isGone(res.stderr)) throw new Error(`${t.name}: bridge fdb del ${fdbKey(f)} dev ${f.dev}: ${res.stderr.trim()}`);
    },
};
