/**
 * How the providers reach a host, and the one check of it. The fields follow
 * @pulumi/command's remote.ConnectionArgs so the same object can serve both;
 * `sudo` and `insecureIgnoreHostKey` are this package's own.
 *
 * Components check plain connections once, at construction, naming the
 * node; the providers check them again at preview for resources built by
 * hand and for connections that were Outputs at construction.
 */
import { utils as sshUtils } from "ssh2";
import { isObject, parseIp, readIp } from "./net";
import { isOutput, Problem, problem } from "./problems";

export interface Connection {
    /** An IP address or a DNS name (no port: give `port`). */
    host: string;
    port?: number;
    user?: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    /**
     * The host's public key, pinned: a known_hosts line ("ssh-ed25519 AAAA...",
     * with or without the host names in front), the output of `ssh-keyscan
     * HOST` (any of its keys may match), or an OpenSSH fingerprint
     * ("SHA256:..."). Required unless insecureIgnoreHostKey.
     */
    hostKey?: string;
    /** Accept any host key. Prints a warning: anyone on the path can impersonate the host. */
    insecureIgnoreHostKey?: boolean;
    /** Run every command through `sudo -n --`. */
    sudo?: boolean;
    /** Seconds for one connection attempt (default 15). */
    perDialTimeout?: number;
    /**
     * Seconds one command may run on the host (default 120). When it runs out,
     * the command (and whatever it started) is ended on the host, the
     * operation fails naming the host and the command, and the SSH connection
     * is dropped rather than reused.
     */
    commandTimeout?: number;
    /**
     * Connection attempts before the host counts as unreachable (default 1; -1 for no limit).
     * @pulumi/command defaults to 10; one attempt here makes a down host fail fast, so that
     * `up --continue-on-error` converges the others without waiting minutes.
     */
    dialErrorLimit?: number;
    /** @pulumi/command's jump host. Not supported: refused at preview rather than silently ignored. */
    proxy?: unknown;
}

export const CONNECTION_PROPS = [
    "host", "port", "user", "password", "privateKey", "privateKeyPassword", "agentSocketPath", "hostKey",
    "insecureIgnoreHostKey", "sudo", "perDialTimeout", "commandTimeout", "dialErrorLimit", "proxy",
] as const;

// ---------------------------------------------------------------------------
// Host keys

/** A pinned host key: the key itself, or its SHA-256 fingerprint. */
export type PinnedKey = { type: string; blob: Buffer } | { fingerprint: string };

/** Key types OpenSSH writes into known_hosts (rsa-sha2-* are signature algorithms, not key types). */
const KEY_TYPES = new Set(["ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]);
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/**
 * The keys a hostKey pins, or why it pins none. Each line is a known_hosts
 * line (host patterns first, then type and base64 key) or a bare "type key";
 * '#' lines (ssh-keyscan's banners) are skipped. A key is checked by ssh2's
 * parser, so a key cut short or of another type than it says is refused
 * here rather than failing every connection later.
 */
export function parseHostKey(text: string): PinnedKey[] | string {
    const t = text.trim();
    if (FINGERPRINT.test(t)) return [{ fingerprint: t.replace(/=+$/, "") }];
    if (/^(SHA256|MD5):/.test(t)) return "a fingerprint must be SHA256: followed by 43 base64 characters (as `ssh-keygen -lf` prints it)";
    const keys: PinnedKey[] = [];
    for (const line of t.split(/\r?\n/)) {
        const words = line.trim().split(/\s+/).filter(Boolean);
        if (!words.length || words[0].startsWith("#")) continue;
        if (words[0].startsWith("@")) return `known_hosts markers such as ${words[0]} are not supported; give the host's own key`;
        const i = words.findIndex((w) => KEY_TYPES.has(w));
        if (i < 0 || i > 1) return `expected "ssh-ed25519 AAAA...", a known_hosts line, ssh-keyscan output or "SHA256:..."`;
        const [type, blob] = [words[i], words[i + 1]];
        if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return `the ${type} key is missing its base64 part`;
        const parsed = sshUtils.parseKey(`${type} ${blob}`);
        const one = Array.isArray(parsed) ? parsed[0] : parsed;
        if (one instanceof Error || !one || one.type !== type) return `the base64 part is not a complete ${type} key (cut short, or a key of another type)`;
        keys.push({ type, blob: Buffer.from(blob, "base64") });
    }
    return keys.length ? keys : "no key found";
}

// ---------------------------------------------------------------------------
// The check

// RFC 1123 host names: labels of letters, digits and hyphens, dot-separated.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

function checkHost(arg: string, v: unknown, errs: Problem[]): void {
    if (typeof v !== "string" || v === "") {
        errs.push(problem(arg, "needs a host name or IP address", v));
        return;
    }
    if (readIp(v)) return;
    const portLike = /^(.+):(\d{1,5})$/.exec(v);
    if (portLike && !v.slice(0, -portLike[2].length - 1).includes(":")) {
        errs.push(problem(arg, `give the port as port: ${portLike[2]}, not in host`, v));
    } else if (/^\[.*\](:\d+)?$/.test(v)) {
        errs.push(problem(arg, "an IPv6 address without brackets (and the port as port)", v));
    } else if (v.includes(":") || /^[\d.]+$/.test(v)) {
        const ip = parseIp(v);
        errs.push(problem(arg, typeof ip === "string" ? ip : "not an IP address", v));
    } else if (!HOSTNAME.test(v)) {
        errs.push(problem(arg, "not a host name or IP address", v));
    }
}

function checkHostKey(arg: string, c: Record<string, unknown>, errs: Problem[]): void {
    const k = c.hostKey;
    if (k === undefined || k === "") {
        if (c.insecureIgnoreHostKey !== true) {
            errs.push(problem(arg, "required to pin the host's identity (ssh-keyscan HOST prints it; set insecureIgnoreHostKey: true to skip the check, not recommended)"));
        }
        return;
    }
    if (typeof k !== "string") {
        errs.push(problem(arg, "must be a string", k));
        return;
    }
    const keys = parseHostKey(k);
    if (typeof keys === "string") errs.push(problem(arg, keys, k));
}

// What parsing each key gave, by key and password. Every child resource of a node carries the node's
// connection, and the provider checks it at every preview and up: a parse per check cost 0.4 ms for a
// plain key and, for an encrypted one, the whole key derivation (bcrypt rounds, 0.2 s) each time.
// Only the outcome is kept, in the process that already holds the key.
const parsedKeys = new Map<string, Error | undefined>();
const PARSED_KEYS_MAX = 64;

function keyError(key: string, pass: string | undefined): Error | undefined {
    const at = `${pass === undefined ? "-" : `+${pass}`}\0${key}`;
    if (parsedKeys.has(at)) return parsedKeys.get(at);
    const parsed = sshUtils.parseKey(key, pass);
    const err = Array.isArray(parsed) ? parsed.find((p) => p instanceof Error) : parsed instanceof Error ? parsed : undefined;
    if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
    parsedKeys.set(at, err);
    return err;
}

/**
 * The private key, read as the transport (ssh2) will read it, so that a key
 * it cannot use fails at preview rather than on every host at `up`. The
 * value is a secret: the problem says what is wrong, never what was given.
 */
function checkPrivateKey(arg: string, c: Record<string, unknown>, errs: Problem[]): void {
    const key = c.privateKey as string;
    const pass = typeof c.privateKeyPassword === "string" ? c.privateKeyPassword : undefined;
    const err = keyError(key, pass);
    if (!err) return;
    const oneLine = !key.includes("\n");
    if (oneLine && /^(~|\.{0,2}\/|[A-Za-z]:\\)/.test(key.trim())) {
        errs.push(problem(arg, "looks like a file path: give the key's contents (for example fs.readFileSync(path, \"utf8\") or a secret config value)"));
    } else if (/passphrase/i.test(err.message)) {
        errs.push(problem(arg, pass === undefined ? "is encrypted: give privateKeyPassword" : "cannot be decrypted with privateKeyPassword"));
    } else {
        // ssh2 reads OpenSSH, PEM (PKCS#1, SEC1) and PuTTY keys; `ssh-keygen -p -f KEY` rewrites others (PKCS#8) as OpenSSH.
        errs.push(problem(arg, "not a private key the SSH transport can read (OpenSSH, PEM or PuTTY format; `ssh-keygen -p -f KEY` converts a PKCS#8 key)"));
    }
}

const optionalString = (arg: string, v: unknown, errs: Problem[]) => {
    if (v !== undefined && typeof v !== "string") errs.push(problem(arg, "must be a string", v));
};

/**
 * Problems with a connection, each naming the argument path. The value
 * shown is rendered by common/problems.ts, so passwords and keys never are.
 */
export function validateConnection(given: unknown, arg = "connection"): Problem[] {
    const errs: Problem[] = [];
    if (!isObject(given)) return [problem(arg, "must be a connection object ({ host, user, privateKey, hostKey, ... })", given)];
    // Fields that are Outputs (a key from secret config, an address from another resource) are
    // checked by the providers once known; here they only count as given.
    const c: Record<string, unknown> = {};
    const unknown = new Set<string>();
    for (const [k, v] of Object.entries(given)) {
        if (isOutput(v)) unknown.add(k);
        else c[k] = v;
    }
    for (const k of Object.keys(given)) {
        if (!(CONNECTION_PROPS as readonly string[]).includes(k)) errs.push(problem(`${arg}.${k}`, `unknown property (known: ${CONNECTION_PROPS.join(", ")})`, given[k]));
    }
    if (!unknown.has("host")) checkHost(`${arg}.host`, c.host, errs);
    if (c.port !== undefined && !(Number.isInteger(c.port) && (c.port as number) >= 1 && (c.port as number) <= 65535)) {
        errs.push(problem(`${arg}.port`, "must be an integer from 1 to 65535", c.port));
    }
    if (c.user !== undefined && (typeof c.user !== "string" || !USER.test(c.user))) errs.push(problem(`${arg}.user`, "not a user name", c.user));
    for (const k of ["password", "privateKey", "privateKeyPassword", "agentSocketPath"] as const) optionalString(`${arg}.${k}`, c[k], errs);
    if (typeof c.privateKey === "string" && c.privateKey !== "" && !unknown.has("privateKeyPassword")) checkPrivateKey(`${arg}.privateKey`, c, errs);
    const credential = ["privateKey", "password", "agentSocketPath"].some((k) => unknown.has(k) || c[k]);
    if (!credential) errs.push(problem(arg, "give privateKey, password or agentSocketPath"));
    if (!unknown.has("hostKey") && !unknown.has("insecureIgnoreHostKey")) checkHostKey(`${arg}.hostKey`, c, errs);
    for (const k of ["insecureIgnoreHostKey", "sudo"] as const) {
        if (c[k] !== undefined && typeof c[k] !== "boolean") errs.push(problem(`${arg}.${k}`, "must be true or false", c[k]));
    }
    if (c.perDialTimeout !== undefined && !(typeof c.perDialTimeout === "number" && c.perDialTimeout > 0 && c.perDialTimeout <= 600)) {
        errs.push(problem(`${arg}.perDialTimeout`, "seconds from 1 to 600", c.perDialTimeout));
    }
    if (c.commandTimeout !== undefined && !(Number.isInteger(c.commandTimeout) && (c.commandTimeout as number) >= 1 && (c.commandTimeout as number) <= 3600)) {
        errs.push(problem(`${arg}.commandTimeout`, "whole seconds from 1 to 3600", c.commandTimeout));
    }
    const limit = c.dialErrorLimit;
    if (limit !== undefined && !(Number.isInteger(limit) && (limit === -1 || ((limit as number) >= 1 && (limit as number) <= 100)))) {
        errs.push(problem(`${arg}.dialErrorLimit`, "an integer from 1 to 100, or -1 for no limit", limit));
    }
    if (c.proxy !== undefined) {
        errs.push(problem(`${arg}.proxy`, "jump hosts are not supported yet; reach the host directly or through a tunnel you set up"));
    }
    return errs;
}

/** A short, secret-free name for messages. */
export function describe(c: Connection): string {
    return `${c.user ?? "root"}@${c.host}:${c.port ?? 22}`;
}
