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
}

export interface KeepalivedState {
    config: string;
    configPath: string;
    pidFile: string;
    running: boolean;
}

export const KEEPALIVED_PROPS = ["config", "configPath", "pidFile", "running"] as const;

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
    return errs.length > before ? undefined : { config: raw.config, configPath, pidFile, running: true };
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
async function apply(t: Transport, k: KeepalivedState): Promise<void> {
    await t.run(writeArgv(k), { input: k.config });
    const test = await t.run(testArgv(k), { allowFailure: true });
    if (test.code !== 0) throw new Error(`${t.name}: keepalived rejects ${k.configPath}: ${(test.stderr || test.stdout).trim()}`);
    if (await running(t, k)) await t.run(reloadArgv(k));
    else await t.run(startArgv(k));
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
        return { ...k, config: file.stdout, running: await running(t, k) };
    },
    async create(t, k, adopt) {
        const file = await t.run(["cat", k.configPath], { allowFailure: true });
        if (file.code === 0 && file.stdout !== k.config && !adopt) throw alreadyExists(t.name, `the keepalived configuration ${k.configPath}`);
        await apply(t, k);
    },
    async update(t, _olds, news) {
        await apply(t, news);
    },
    async remove(t, k) {
        // A graceful stop sends a priority-0 advert: the backup takes over at once.
        await t.run(stopArgv(k), { allowFailure: true });
        // Waits on the host for the daemon to exit (at most 5 s), in one round trip; the pid file path is $1.
        await t.run(["timeout", "5", "sh", "-c", 'while pgrep -F "$1" >/dev/null 2>&1; do sleep 0.1; done', "routed-overlay", k.pidFile], { allowFailure: true });
        await t.run(["rm", "-f", k.configPath]);
    },
};
