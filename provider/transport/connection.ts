/**
 * How the providers reach a host. The fields follow @pulumi/command's
 * remote.ConnectionArgs so the same object can serve both; `sudo` and
 * `insecureIgnoreHostKey` are this package's own.
 */
export interface Connection {
    host: string;
    port?: number;
    user?: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    /**
     * The host's public key, as in known_hosts/authorized_keys ("ssh-ed25519 AAAA...")
     * or as an OpenSSH fingerprint ("SHA256:..."). Required unless insecureIgnoreHostKey.
     */
    hostKey?: string;
    /** Accept any host key. Prints a warning: anyone on the path can impersonate the host. */
    insecureIgnoreHostKey?: boolean;
    /** Run every command through `sudo -n --`. */
    sudo?: boolean;
    /** Seconds for one connection attempt (default 15). */
    perDialTimeout?: number;
    /**
     * Connection attempts before the host counts as unreachable (default 1; -1 for no limit).
     * @pulumi/command defaults to 10; one attempt here makes a down host fail fast, so that
     * `up --continue-on-error` converges the others without waiting minutes.
     */
    dialErrorLimit?: number;
    /** @pulumi/command's jump host. Not supported: refused at preview rather than silently ignored. */
    proxy?: unknown;
    /**
     * Lab only: run commands locally inside this network namespace instead of over SSH.
     * Tests use it to check the providers against the transport they use in production too.
     */
    netns?: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const HOSTKEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|rsa-sha2-(256|512)) [A-Za-z0-9+/]+={0,3}( .*)?$|^SHA256:[A-Za-z0-9+/]{43}=?$/;
const NETNS = /^[A-Za-z0-9_.-]{1,64}$/;

/** Problems with a connection, each naming the argument and the bad value. Secrets are never echoed. */
export function validateConnection(c: Partial<Connection> | undefined, arg = "connection"): string[] {
    const errs: string[] = [];
    if (!c || typeof c !== "object") return [`${arg}: a connection is required`];
    if (c.netns !== undefined) {
        if (!NETNS.test(c.netns)) errs.push(`${arg}.netns: not a network namespace name: ${JSON.stringify(c.netns)}`);
        return errs;
    }
    if (typeof c.host !== "string" || !(IPV4.test(c.host) || (c.host.includes(":") && IPV6.test(c.host)) || HOSTNAME.test(c.host))) {
        errs.push(`${arg}.host: not a host name or IP address: ${JSON.stringify(c.host)}`);
    }
    if (c.port !== undefined && !(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65535)) {
        errs.push(`${arg}.port: must be an integer from 1 to 65535, got ${JSON.stringify(c.port)}`);
    }
    if (c.user !== undefined && !USER.test(c.user)) errs.push(`${arg}.user: not a user name: ${JSON.stringify(c.user)}`);
    if (!c.privateKey && !c.password && !c.agentSocketPath) {
        errs.push(`${arg}: give privateKey, password or agentSocketPath`);
    }
    if (c.hostKey === undefined || c.hostKey === "") {
        if (!c.insecureIgnoreHostKey) {
            errs.push(`${arg}.hostKey: required to pin the host's identity (set insecureIgnoreHostKey: true to skip the check, not recommended)`);
        }
    } else if (!HOSTKEY.test(c.hostKey.trim())) {
        errs.push(`${arg}.hostKey: expected "ssh-ed25519 AAAA..." or "SHA256:..." , got ${JSON.stringify(c.hostKey.slice(0, 60))}`);
    }
    if (c.perDialTimeout !== undefined && !(typeof c.perDialTimeout === "number" && c.perDialTimeout > 0 && c.perDialTimeout <= 600)) {
        errs.push(`${arg}.perDialTimeout: seconds from 1 to 600, got ${JSON.stringify(c.perDialTimeout)}`);
    }
    if (c.dialErrorLimit !== undefined && !(Number.isInteger(c.dialErrorLimit) && (c.dialErrorLimit === -1 || (c.dialErrorLimit >= 1 && c.dialErrorLimit <= 100)))) {
        errs.push(`${arg}.dialErrorLimit: an integer from 1 to 100, or -1 for no limit, got ${JSON.stringify(c.dialErrorLimit)}`);
    }
    if (c.proxy !== undefined) {
        errs.push(`${arg}.proxy: jump hosts are not supported yet; reach the host directly or through a tunnel you set up (value not shown)`);
    }
    return errs;
}

/** A short, secret-free name for messages. */
export function describe(c: Connection): string {
    return c.netns ? `netns ${c.netns}` : `${c.user ?? "root"}@${c.host}:${c.port ?? 22}`;
}
