/**
 * The one way providers run commands on a host: argv arrays over SSH (ssh2),
 * or, in the lab, inside a network namespace. Connections are reused for the
 * life of the provider process.
 */
import * as crypto from "crypto";
import { Client, ClientChannel, ConnectConfig } from "ssh2";
import { Connection, describe, parseHostKey } from "./connection";
import { ExecResult } from "./exec";
import { recordStats } from "../stats";

export { Connection, describe, validateConnection } from "./connection";
export { ExecResult } from "./exec";

export interface RunOptions {
    input?: string;
    allowFailure?: boolean;
}

export interface Transport {
    readonly name: string;
    /** Commands run so far: each is one round trip to the host. */
    readonly calls: number;
    run(argv: readonly string[], opts?: RunOptions): Promise<ExecResult>;
}

/**
 * POSIX single-quoting of one argument. SSH carries one command string that
 * the remote shell splits; quoting every element keeps each one a single
 * argument whatever it contains, so argv semantics survive the trip.
 */
export function quoteArg(a: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return a;
    return "'" + a.replace(/'/g, "'\\''") + "'";
}

export function commandLine(argv: readonly string[]): string {
    return argv.map(quoteArg).join(" ");
}

export class HostError extends Error {
    constructor(public readonly host: string, message: string) {
        super(`${host}: ${message}`);
        this.name = "HostError";
    }
}

function fingerprint(key: Buffer): string {
    return "SHA256:" + crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
}

/** True when the key the server presented is one of the pinned ones (see parseHostKey). */
export function hostKeyMatches(pinned: string, presented: Buffer): boolean {
    const keys = parseHostKey(pinned);
    if (typeof keys === "string") return false;
    return keys.some((k) => ("fingerprint" in k ? k.fingerprint === fingerprint(presented) : k.blob.equals(presented)));
}

/** Seconds one command may run on a host unless the connection says otherwise. */
export const DEFAULT_COMMAND_TIMEOUT = 120;

/** A command that ran out of its time on a host (Connection.commandTimeout). */
export class CommandTimeout extends HostError {
    constructor(host: string, public readonly argv: readonly string[], public readonly seconds: number, what: string) {
        const command = argv.join(" ");
        super(host, `${command.length > 100 ? `${command.slice(0, 100)}…` : command} did not finish within ${seconds} s (commandTimeout); ${what}`);
        this.name = "CommandTimeout";
    }
}

/** Records one round trip in the opt-in stats (provider/stats.ts). */
async function counted<T>(host: string, cmd: string, p: Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
        return await p;
    } finally {
        recordStats({ ev: "call", host, cmd, ms: Date.now() - t0 });
    }
}

class SshTransport implements Transport {
    readonly name: string;
    calls = 0;
    private client?: Promise<Client>;
    constructor(private readonly c: Connection) {
        this.name = describe(c);
    }

    close(): void {
        this.client?.then((c) => c.end(), () => undefined);
        this.client = undefined;
    }

    /** Ends a connection that a command outlived, so the pool dials afresh instead of reusing it. */
    private drop(client: Client): void {
        this.client = undefined;
        client.end();
    }

    private connect(): Promise<Client> {
        if (this.client) return this.client;
        const c = this.c;
        const cfg: ConnectConfig = {
            host: c.host,
            port: c.port ?? 22,
            username: c.user ?? "root",
            readyTimeout: (c.perDialTimeout ?? 15) * 1000,
            // A peer that stops answering is dropped after 3 unanswered keepalives (45 s), failing what runs on it.
            keepaliveInterval: 15000,
            keepaliveCountMax: 3,
        };
        if (c.privateKey) cfg.privateKey = c.privateKey;
        if (c.privateKeyPassword) cfg.passphrase = c.privateKeyPassword;
        if (c.password) cfg.password = c.password;
        if (c.agentSocketPath) cfg.agent = c.agentSocketPath;
        let rejectedKey: string | undefined;
        if (!c.insecureIgnoreHostKey) {
            cfg.hostVerifier = (key: Buffer) => {
                const ok = hostKeyMatches(c.hostKey ?? "", key);
                if (!ok) rejectedKey = fingerprint(key);
                return ok;
            };
        }
        const attempt = () => new Promise<Client>((resolve, reject) => {
            const client = new Client();
            let ready = false;
            // Once connected, a dropped connection is forgotten so the next command dials again;
            // before that, the retry loop below owns this.client.
            const forget = () => { if (ready) this.client = undefined; };
            client.once("ready", () => { ready = true; resolve(client); });
            client.once("error", (e: Error) => {
                forget();
                if (rejectedKey) {
                    reject(new HostError(this.name, `host key ${rejectedKey} does not match the pinned hostKey; refusing to connect`));
                } else {
                    reject(new HostError(this.name, `cannot connect over SSH: ${e.message}`));
                }
            });
            client.once("close", forget);
            client.connect(cfg);
        });
        const limit = c.dialErrorLimit ?? 1;
        const p = (async () => {
            for (let n = 1; ; n++) {
                try {
                    return await attempt();
                } catch (e) {
                    // A wrong host key is an answer, not a dial error: never retried.
                    if (rejectedKey || (limit !== -1 && n >= limit)) throw e;
                    await new Promise((r) => setTimeout(r, 1000));
                }
            }
        })();
        this.client = p;
        p.catch(() => { if (this.client === p) this.client = undefined; });
        return p;
    }

    async run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
        this.calls++;
        const limit = this.c.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT;
        // The host ends the command itself: coreutils timeout signals the command's whole process group
        // (TERM, then KILL 5 s later), so nothing it started outlives the limit, whatever happens to SSH.
        // It wraps sudo rather than the reverse, so sudoers rules that allow only ip, bridge, ... still match
        // (sudo passes the TERM on to the command it runs).
        const full = ["timeout", "-k", "5", String(limit), ...(this.c.sudo ? ["sudo", "-n", "--"] : []), ...argv];
        const client = await this.connect();
        const started = Date.now();
        const result = await counted(this.name, argv[0], new Promise<ExecResult>((resolve, reject) => {
            client.exec(commandLine(full), (err: Error | undefined, ch: ClientChannel) => {
                if (err) return reject(new HostError(this.name, `cannot start ${argv[0]}: ${err.message}`));
                const out: Buffer[] = [];
                const errb: Buffer[] = [];
                let code = -1;
                // Should the host not answer at all, the connection is given up a little after the host's own limit.
                const guard = setTimeout(() => {
                    this.drop(client);
                    reject(new CommandTimeout(this.name, argv, limit, "no answer from the host; the SSH connection was closed"));
                }, (limit + 15) * 1000);
                ch.on("data", (b: Buffer) => out.push(b));
                ch.stderr.on("data", (b: Buffer) => errb.push(b));
                ch.on("exit", (c: number | null) => { code = c ?? -1; });
                ch.on("close", () => {
                    clearTimeout(guard);
                    resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errb).toString() });
                });
                ch.end(opts.input ?? "");
            });
        }));
        // 124 (TERM) or 137 (KILL) from timeout, after the limit: the command was ended on the host.
        if ((result.code === 124 || result.code === 137) && Date.now() - started >= limit * 1000) {
            // The session may hold state the ended command left half done (a lock, a half-written file): start afresh.
            this.drop(client);
            throw new CommandTimeout(this.name, argv, limit, "ended on the host");
        }
        if (result.code !== 0 && !opts.allowFailure) {
            throw new HostError(this.name, `${argv.join(" ")} exited ${result.code}: ${(result.stderr || result.stdout).trim() || "(no output)"}`);
        }
        return result;
    }
}

const pool = new Map<string, SshTransport>();

/**
 * Ends every pooled SSH session. The provider process never needs it (it
 * exits when the engine is done); a long-lived process that drove transports
 * itself, such as a test runner, does, or the sessions keep it alive.
 */
export function closeTransports(): void {
    for (const t of pool.values()) t.close();
    pool.clear();
}

function poolKey(c: Connection): string {
    const secret = crypto.createHash("sha256").update(`${c.privateKey ?? ""}\0${c.password ?? ""}\0${c.agentSocketPath ?? ""}`).digest("hex");
    return JSON.stringify([c.host, c.port ?? 22, c.user ?? "root", c.hostKey ?? "", !!c.insecureIgnoreHostKey, !!c.sudo, secret]);
}

/** The transport for a connection; SSH sessions are shared by every resource of the same host. */
export function transportFor(c: Connection): Transport {
    const k = poolKey(c);
    let t = pool.get(k);
    if (!t) {
        t = new SshTransport(c);
        pool.set(k, t);
    }
    return t;
}
