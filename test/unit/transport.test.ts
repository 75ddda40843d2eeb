import * as assert from "assert";
import { formatProblem } from "../../common/problems";
import * as crypto from "crypto";
import { commandLine, hostKeyMatches, quoteArg } from "../../provider/transport";
import { utils as sshUtils } from "ssh2";

import { validateConnection } from "../../provider/transport/connection";
import { execArgv } from "../../provider/transport/exec";

const KEY = sshUtils.generateKeyPairSync("ed25519").public;
const OTHER_KEY = sshUtils.generateKeyPairSync("ed25519").public;
const ENCRYPTED = sshUtils.generateKeyPairSync("ed25519", { passphrase: "right", cipher: "aes256-cbc", rounds: 16 }).private;

describe("transport: argv over SSH", () => {
    it("leaves plain arguments alone and single-quotes the rest", () => {
        assert.strictEqual(quoteArg("10.166.0.0/16"), "10.166.0.0/16");
        assert.strictEqual(quoteArg("a b"), "'a b'");
        assert.strictEqual(quoteArg("it's"), "'it'\\''s'");
        assert.strictEqual(quoteArg(""), "''");
    });

    it("keeps every hostile argument one argument through a real POSIX shell", async () => {
        const hostile = ["$(touch /tmp/ro-pwned)", "`id`", "a;b", "x' ; echo pwned '", "new\nline", "*", "--", "\\", "$HOME", "a|b&c"];
        const line = commandLine(["printf", "%s\\0", ...hostile]);
        const r = await execArgv(["sh", "-c", line]);
        assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), hostile);
    });

    const b64 = KEY.split(" ")[1];
    const blob = Buffer.from(b64, "base64");
    const fp = "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
    const other = OTHER_KEY.split(" ")[1];

    it("matches a pinned host key given as a key line, a known_hosts line, ssh-keyscan output or a fingerprint", () => {
        assert.ok(hostKeyMatches(`ssh-ed25519 ${b64}`, blob));
        assert.ok(hostKeyMatches(`ssh-ed25519 ${b64} comment`, blob));
        assert.ok(hostKeyMatches(`node1,192.168.2.10 ssh-ed25519 ${b64}`, blob));
        assert.ok(hostKeyMatches(`# 192.168.2.10:22 SSH-2.0-OpenSSH_9.2\n192.168.2.10 ssh-ed25519 ${other}\n192.168.2.10 ssh-ed25519 ${b64}\n`, blob));
        assert.ok(hostKeyMatches(fp, blob));
        assert.ok(!hostKeyMatches(`ssh-ed25519 ${other}`, blob));
        assert.ok(!hostKeyMatches(`192.168.2.10 ssh-ed25519 ${other}`, blob));
        assert.ok(!hostKeyMatches("SHA256:" + "A".repeat(43), blob));
    });
});

describe("transport: connection validation", () => {
    const good = { host: "198.18.0.11", user: "root", privateKey: sshUtils.generateKeyPairSync("ed25519").private, hostKey: KEY };

    it("accepts a complete connection, and @pulumi/command's dial settings", () => {
        assert.deepStrictEqual(validateConnection(good).map(formatProblem), []);
        assert.deepStrictEqual(validateConnection({ ...good, dialErrorLimit: -1, perDialTimeout: 5 }).map(formatProblem), []);
    });

    for (const [name, patch, want] of [
        ["a host with a shell metacharacter", { host: "node1;reboot" }, /connection\.host: .*"node1;reboot"/],
        ["a port out of range", { port: 70000 }, /connection\.port: .*70000/],
        ["no credentials", { privateKey: undefined }, /give privateKey, password or agentSocketPath/],
        ["a private key's path instead of the key", { privateKey: "~/.ssh/id_ed25519" }, /connection\.privateKey: looks like a file path: give the key's contents/],
        ["a private key that is no key", { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" }, /connection\.privateKey: not a private key the SSH transport can read/],
        ["an encrypted private key without its password", { privateKey: ENCRYPTED }, /connection\.privateKey: is encrypted: give privateKeyPassword$/],
        ["an encrypted private key with a wrong password", { privateKey: ENCRYPTED, privateKeyPassword: "wrong" }, /connection\.privateKey: cannot be decrypted with privateKeyPassword$/],
        ["no host key", { hostKey: undefined }, /connection\.hostKey: required/],
        ["a malformed host key", { hostKey: "not-a-key" }, /connection\.hostKey: .*"not-a-key"/],
        ["a host key cut short", { hostKey: KEY.slice(0, -6) }, /connection\.hostKey: the base64 part is not a complete ssh-ed25519 key/],
        ["a host key of another type than it says", { hostKey: `ssh-rsa ${KEY.split(" ")[1]}` }, /connection\.hostKey: the base64 part is not a complete ssh-rsa key/],
        ["a host key that is not base64", { hostKey: "ssh-ed25519 AAAA$(id)" }, /connection\.hostKey: the ssh-ed25519 key is missing its base64 part/],
        ["a known_hosts marker", { hostKey: `@cert-authority *.example ${KEY}` }, /connection\.hostKey: known_hosts markers/],
        ["host:port in host", { host: "192.168.2.10:2222" }, /connection\.host: give the port as port: 2222, not in host: "192\.168\.2\.10:2222"/],
        ["a host name with a port", { host: "node1.example:22" }, /connection\.host: give the port as port: 22/],
        ["an IPv6 address in brackets", { host: "[fd00::1]:22" }, /connection\.host: an IPv6 address without brackets/],
        ["colons that are no IPv6 address", { host: ":::" }, /connection\.host: not an IP address: ":::"/],
        ["an IPv4 address with an octal octet", { host: "192.168.02.10" }, /connection\.host: an IPv4 octet with a leading zero/],
        ["a bad user", { user: "root -oProxyCommand=x" }, /connection\.user: /],
        ["a dial limit of 0", { dialErrorLimit: 0 }, /connection\.dialErrorLimit: .*0/],
        ["a command time limit of 0", { commandTimeout: 0 }, /connection\.commandTimeout: whole seconds from 1 to 3600: 0/],
        ["a command time limit in milliseconds", { commandTimeout: 120000 }, /connection\.commandTimeout: whole seconds from 1 to 3600: 120000/],
        ["@pulumi/command's jump host, which would otherwise be ignored", { proxy: { host: "bastion" } }, /connection\.proxy: jump hosts are not supported/],
    ] as const) {
        it(`rejects ${name}, naming the argument and the value`, () => {
            const errs = validateConnection({ ...good, ...patch }).map(formatProblem);
            assert.ok(errs.some((e) => want.test(e)), errs.join("; "));
        });
    }

    it("accepts a known_hosts line and ssh-keyscan output as the host key", () => {
        assert.deepStrictEqual(validateConnection({ ...good, hostKey: `198.18.0.11 ${KEY}` }).map(formatProblem), []);
        const scan = `# 198.18.0.11:22 SSH-2.0-OpenSSH_9.2p1\n198.18.0.11 ${KEY}\n198.18.0.11 ${OTHER_KEY}\n`;
        assert.deepStrictEqual(validateConnection({ ...good, hostKey: scan }).map(formatProblem), []);
        assert.deepStrictEqual(validateConnection({ ...good, host: "fd00::11" }).map(formatProblem), []);
        assert.deepStrictEqual(validateConnection({ ...good, host: "node-1.lab.example" }).map(formatProblem), []);
    });

    it("accepts an encrypted private key with its password", () => {
        assert.deepStrictEqual(validateConnection({ ...good, privateKey: ENCRYPTED, privateKeyPassword: "right" }).map(formatProblem), []);
    });

    it("checks a key once per key and password: a wrong password is refused after the right one, and the right one after a wrong one", () => {
        const check = (pass: string | undefined) => validateConnection({ ...good, privateKey: ENCRYPTED, privateKeyPassword: pass }).map((p) => p.reason);
        const right = () => assert.deepStrictEqual(check("right"), []);
        const wrong = () => assert.deepStrictEqual(check("wrong"), ["cannot be decrypted with privateKeyPassword"]);
        right();
        wrong();
        right();
        assert.deepStrictEqual(check(undefined), ["is encrypted: give privateKeyPassword"]);
        wrong();
        // Each parse of an encrypted key derives it (bcrypt rounds): the outcome is kept, not parsed again per resource.
        const parse = sshUtils.parseKey;
        let parses = 0;
        sshUtils.parseKey = ((...a: Parameters<typeof parse>) => (a[0] === ENCRYPTED && parses++, parse(...a))) as typeof parse;
        try {
            for (let i = 0; i < 5; i++) right();
            assert.strictEqual(parses, 0);
            assert.deepStrictEqual(check("another"), ["cannot be decrypted with privateKeyPassword"]);
            assert.strictEqual(parses, 1);
        } finally {
            sshUtils.parseKey = parse;
        }
    });

    it("allows a missing host key only with the explicit insecure opt-out", () => {
        assert.deepStrictEqual(validateConnection({ ...good, hostKey: undefined, insecureIgnoreHostKey: true }).map(formatProblem), []);
    });

    it("never echoes a secret", () => {
        const errs = validateConnection({ ...good, host: "", privateKey: "SECRET-KEY-MATERIAL" }).map(formatProblem);
        assert.ok(errs.length > 0 && errs.every((e) => !e.includes("SECRET-KEY-MATERIAL")));
    });
});
