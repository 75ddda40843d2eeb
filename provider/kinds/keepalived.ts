/**
 * A keepalived instance on a host: its configuration file (mode 0600, since
 * it holds the VRRP password) and the running daemon. Read reports the file
 * as it is on the host and whether the daemon runs, so an edited config or a
 * killed keepalived shows in refresh and the next up repairs it. A changed
 * config is checked with `keepalived --config-test` before the daemon is
 * reloaded (SIGHUP), so a bad file never replaces a working one in memory.
 */
import type { Transport } from "../transport";
import { alreadyExists, Kind } from "./kind";
import * as net from "../../common/net";
import { Problem, problem } from "../../common/problems";

export interface KeepalivedSpec {
    /** The whole keepalived.conf (a secret: it may hold the VRRP authentication). */
    config: string;
    /** Default /etc/keepalived/keepalived.conf. */
    configPath?: string;
    /** Default /run/keepalived.pid (keepalived's own default). */
    pidFile?: string;
    /**
     * Files the config names (track scripts and what they read), by absolute
     * path: written before the config is tested, since keepalived checks its
     * scripts then, and removed with the instance. Kept secret in the state.
     */
    files?: Record<string, KeepalivedFile>;
    /** Paths the scripts write while they run (their own records), removed with the instance. */
    scratch?: string[];
}

export interface KeepalivedFile {
    content: string;
    /** 0600 for what holds a secret, 0700 for a script (enable_script_security refuses one that others may write). */
    mode: "0600" | "0644" | "0700" | "0755";
}

export interface KeepalivedState {
    config: string;
    configPath: string;
    pidFile: string;
    files: Record<string, KeepalivedFile>;
    scratch: string[];
    running: boolean;
}

export const KEEPALIVED_PROPS = ["config", "configPath", "pidFile", "files", "scratch", "running"] as const;
const MODES = ["0600", "0644", "0700", "0755"] as const;

function checkFiles(raw: unknown, configPath: unknown, errs: Problem[]): Record<string, KeepalivedFile> {
    // null: an output the engine has not filled (the resource declares `files` among its outputs).
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== "object" || Array.isArray(raw)) {
        errs.push(problem("files", "must be an object of absolute path to { content, mode }", raw));
        return {};
    }
    const out: Record<string, KeepalivedFile> = {};
    for (const [p, f] of Object.entries(raw as Record<string, unknown>)) {
        const arg = `files[${JSON.stringify(p)}]`;
        net.absolutePath(arg, p, errs);
        if (p === configPath) errs.push(problem(arg, "is the config file itself", p));
        if (typeof f !== "object" || f === null || Array.isArray(f)) {
            // Not shown: it may be a token given in place of { content, mode }.
            errs.push(problem(arg, `must be { content, mode }, not ${Array.isArray(f) ? "a list" : typeof f}`));
            continue;
        }
        const v = f as Record<string, unknown>;
        net.noUnknown(v, ["content", "mode"], errs, `${arg}.`, { hideValues: true });
        // May hold a token: the message gives its type or length, never the text.
        if (typeof v.content !== "string" || v.content.length > 1_000_000) {
            errs.push(problem(`${arg}.content`, `must be text of at most 1000000 characters, not ${typeof v.content === "string" ? `${v.content.length} characters` : typeof v.content}`));
        }
        if (v.mode === undefined) errs.push(problem(`${arg}.mode`, `is required: ${MODES.join(", ")}`));
        else net.oneOf(`${arg}.mode`, v.mode, MODES, errs);
        out[p] = { content: v.content as string, mode: v.mode as KeepalivedFile["mode"] };
    }
    return out;
}

export function normalizeKeepalived(raw: Record<string, any>, errs: Problem[]): KeepalivedState | undefined {
    const before = errs.length;
    // The config holds the VRRP password: a misspelt "confg" is not shown either.
    net.noUnknown(raw, KEEPALIVED_PROPS, errs, "", { hideValues: true });
    if (typeof raw.config !== "string" || raw.config.length === 0 || raw.config.length > 1_000_000) {
        // A secret: render shows only its type and length.
        errs.push(problem("config", "must be the text of keepalived.conf, 1 to 1000000 characters", raw.config));
    }
    const configPath = raw.configPath ?? "/etc/keepalived/keepalived.conf";
    const pidFile = raw.pidFile ?? "/run/keepalived.pid";
    net.absolutePath("configPath", configPath, errs);
    net.absolutePath("pidFile", pidFile, errs);
    const files = checkFiles(raw.files, configPath, errs);
    const scratch = raw.scratch === undefined || raw.scratch === null ? [] : net.list("scratch", raw.scratch, errs);
    scratch.forEach((p, i) => net.absolutePath(`scratch[${i}]`, p, errs));
    return errs.length > before ? undefined : { config: raw.config, configPath, pidFile, files, scratch: scratch as string[], running: true };
}

// install reads the config from stdin, so the secret never appears in an argv (visible in ps).
export const writeArgv = (k: KeepalivedState) => ["install", "-m", "0600", "/dev/stdin", k.configPath];
export const testArgv = (k: KeepalivedState) => ["keepalived", "--config-test", "-f", k.configPath];
export const startArgv = (k: KeepalivedState) => ["keepalived", "-f", k.configPath, "-p", k.pidFile];
export const reloadArgv = (k: KeepalivedState) => ["pkill", "-HUP", "-F", k.pidFile];
export const stopArgv = (k: KeepalivedState) => ["pkill", "-TERM", "-F", k.pidFile];

async function running(t: Transport, k: KeepalivedState): Promise<boolean> {
    return (await t.run(["pgrep", "-F", k.pidFile], { allowFailure: true })).code === 0;
}

/**
 * Writes, tests and (re)starts, and returns: it does not wait for the VRRP
 * election. Each node alone cannot tell when that has settled (a backup
 * never gets the VIP, and used to wait out the whole master-down interval,
 * 5 s, in every create); GatewayVip's VrrpElection reads all the nodes after
 * every Keepalived and waits until exactly one holds the VIP, and the routes
 * through it wait for that.
 */
async function apply(t: Transport, k: KeepalivedState, olds?: KeepalivedState): Promise<void> {
    // install reads stdin: a token in a file never appears in an argv either. -D makes the directories.
    for (const [p, f] of Object.entries(k.files)) await t.run(["install", "-D", "-m", f.mode, "/dev/stdin", p], { input: f.content });
    await t.run(writeArgv(k), { input: k.config });
    const test = await t.run(testArgv(k), { allowFailure: true });
    if (test.code !== 0) throw new Error(`${t.name}: keepalived rejects ${k.configPath}: ${(test.stderr || test.stdout).trim()}`);
    if (await running(t, k)) await t.run(reloadArgv(k));
    else await t.run(startArgv(k));
    const gone = olds ? [...Object.keys(olds.files), ...olds.scratch].filter((p) => !(p in k.files) && !k.scratch.includes(p)) : [];
    if (gone.length) await t.run(["rm", "-f", "--", ...gone]);
}

/** The named files as they are on the host: a missing one reads as empty, which differs from any wanted content. */
async function readFiles(t: Transport, k: KeepalivedState): Promise<Record<string, KeepalivedFile>> {
    const out: Record<string, KeepalivedFile> = {};
    for (const [p, f] of Object.entries(k.files)) {
        const res = await t.run(["cat", "--", p], { allowFailure: true });
        out[p] = { content: res.code === 0 ? res.stdout : "", mode: f.mode };
    }
    return out;
}

export const keepalivedKind: Kind<KeepalivedState> = {
    properties: KEEPALIVED_PROPS,
    normalize: normalizeKeepalived,
    identity: ["configPath", "pidFile"],
    deleteBeforeReplace: true,
    key: (k) => `keepalived${k.configPath}`,
    async read(t, k) {
        const file = await t.run(["cat", k.configPath], { allowFailure: true });
        if (file.code !== 0) return undefined;
        return { ...k, config: file.stdout, files: await readFiles(t, k), running: await running(t, k) };
    },
    async create(t, k, adopt) {
        const file = await t.run(["cat", k.configPath], { allowFailure: true });
        if (file.code === 0 && file.stdout !== k.config && !adopt) throw alreadyExists(t.name, `the keepalived configuration ${k.configPath}`);
        try {
            await apply(t, k);
        } catch (e) {
            // A failed create is not in the state, so nothing would ever remove what it wrote: it takes that back
            // itself, unless a config was there before it or keepalived runs on what it wrote.
            if (file.code !== 0 && !(await running(t, k))) await t.run(["rm", "-f", "--", k.configPath, ...Object.keys(k.files)], { allowFailure: true });
            throw e;
        }
    },
    async update(t, olds, news) {
        await apply(t, news, olds);
    },
    async remove(t, k) {
        // A graceful stop sends a priority-0 advert: the backup takes over at once.
        await t.run(stopArgv(k), { allowFailure: true });
        // Waits on the host for the daemon to exit (at most 5 s), in one round trip; the pid file path is $1.
        await t.run(["timeout", "5", "sh", "-c", 'while pgrep -F "$1" >/dev/null 2>&1; do sleep 0.1; done', "routed-overlay", k.pidFile], { allowFailure: true });
        await t.run(["rm", "-f", "--", k.configPath, ...Object.keys(k.files), ...k.scratch]);
    },
};
