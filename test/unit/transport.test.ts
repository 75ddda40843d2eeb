import * as assert from "assert";
import * as crypto from "crypto";
import { commandLine, hostKeyMatches, quoteArg } from "../../provider/transport";
import { validateConnection } from "../../provider/transport/connection";
import { execArgv } from "../../provider/transport/exec";

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

    const blob = crypto.randomBytes(51);
    const b64 = blob.toString("base64");
    const fp = "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");

    it("matches a pinned host key given as a key line or as a fingerprint", () => {
        assert.ok(hostKeyMatches(`ssh-ed25519 ${b64}`, blob));
        assert.ok(hostKeyMatches(`ssh-ed25519 ${b64} comment`, blob));
        assert.ok(hostKeyMatches(fp, blob));
        assert.ok(!hostKeyMatches(`ssh-ed25519 ${crypto.randomBytes(51).toString("base64")}`, blob));
        assert.ok(!hostKeyMatches("SHA256:" + "A".repeat(43), blob));
    });
});

describe("transport: connection validation", () => {
    const good = { host: "198.18.0.11", user: "root", privateKey: "k", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx" };

    it("accepts a complete connection, and @pulumi/command's dial settings", () => {
        assert.deepStrictEqual(validateConnection(good), []);
        assert.deepStrictEqual(validateConnection({ ...good, dialErrorLimit: -1, perDialTimeout: 5 }), []);
    });

    for (const [name, patch, want] of [
        ["a host with a shell metacharacter", { host: "node1;reboot" }, /connection\.host: .*"node1;reboot"/],
        ["a port out of range", { port: 70000 }, /connection\.port: .*70000/],
        ["no credentials", { privateKey: undefined }, /give privateKey, password or agentSocketPath/],
        ["no host key", { hostKey: undefined }, /connection\.hostKey: required/],
        ["a malformed host key", { hostKey: "not-a-key" }, /connection\.hostKey: .*"not-a-key"/],
        ["a bad user", { user: "root -oProxyCommand=x" }, /connection\.user: /],
        ["a dial limit of 0", { dialErrorLimit: 0 }, /connection\.dialErrorLimit: .*0/],
        ["@pulumi/command's jump host, which would otherwise be ignored", { proxy: { host: "bastion" } }, /connection\.proxy: jump hosts are not supported/],
    ] as const) {
        it(`rejects ${name}, naming the argument and the value`, () => {
            const errs = validateConnection({ ...good, ...patch });
            assert.ok(errs.some((e) => want.test(e)), errs.join("; "));
        });
    }

    it("allows a missing host key only with the explicit insecure opt-out", () => {
        assert.deepStrictEqual(validateConnection({ ...good, hostKey: undefined, insecureIgnoreHostKey: true }), []);
    });

    it("never echoes a secret", () => {
        const errs = validateConnection({ ...good, host: "", privateKey: "SECRET-KEY-MATERIAL" });
        assert.ok(errs.length > 0 && errs.every((e) => !e.includes("SECRET-KEY-MATERIAL")));
    });
});
