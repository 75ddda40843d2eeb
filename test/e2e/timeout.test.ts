import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { hostExec, LabInfo } from "../../lab/lab";

/**
 * Bounded commands: a command that hangs on one host (its `sysctl` replaced,
 * in that host's mount namespace only, by a script that sleeps) makes `up`
 * fail after the connection's commandTimeout, naming the host and the
 * command, with the command ended on the host; the other host converges, and
 * once the host is healthy again the next `up` converges it too.
 */
describe("e2e: a command that hangs on a host (commandTimeout)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    let t: TestStack;
    let tmp: string;
    let sysctlPath: string;
    let mounted = false;
    const HANG = "sleep 601";
    const live = async (host: string) => (await hostExec(lab, host, ["cat", "/proc/sys/net/ipv4/conf/eth0/rp_filter"])).stdout.trim();
    const hanging = async () => (await hostExec(lab, "node2", ["pgrep", "-f", HANG], { allowFailure: true })).stdout.trim();

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: false });
    });
    const stack = useStack("two-sysctls", () => lab);
    const before0: Record<string, string> = {};

    before(async () => {
        t = stack();
        for (const h of ["node1", "node2"]) before0[h] = await live(h);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ro-hang-"));
        const script = path.join(tmp, "sysctl");
        fs.writeFileSync(script, `#!/bin/sh\nexec ${HANG}\n`, { mode: 0o755 });
        sysctlPath = (await hostExec(lab, "node2", ["sh", "-c", "command -v sysctl"])).stdout.trim();
        await hostExec(lab, "node2", ["mount", "--bind", script, sysctlPath]);
        mounted = true;
        await t.stack.setConfig("commandTimeout", { value: "3" });
    });
    after(async () => {
        if (mounted) await hostExec(lab, "node2", ["umount", sysctlPath], { allowFailure: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("up fails on the hanging host after the limit, naming it and the command; the other host converges", async () => {
        assert.notStrictEqual(before0.node1, "2");
        const t0 = Date.now();
        await assert.rejects(t.stack.up({ continueOnError: true }), (e: Error) => {
            assert.match(e.message, new RegExp(`root@${lab.hosts.node2.ssh.host.replace(/\./g, "\\.")}:22: sh -c .* did not finish within 3 s \\(commandTimeout\\); ended on the host`));
            assert.doesNotMatch(e.message, new RegExp(lab.hosts.node1.ssh.host.replace(/\./g, "\\.")));
            return true;
        });
        console.log(`      measured: up failed after ${((Date.now() - t0) / 1000).toFixed(1)} s with a 3 s commandTimeout`);
        assert.strictEqual(await live("node1"), "2");
        assert.strictEqual(await live("node2"), before0.node2);
        assert.strictEqual(await hanging(), "", "the hanging command outlived its limit on the host");
    });

    it("once the host is healthy again, up converges it, and destroy restores both", async () => {
        await hostExec(lab, "node2", ["umount", sysctlPath]);
        mounted = false;
        await t.stack.up();
        assert.strictEqual(await live("node2"), "2");
        await t.stack.destroy();
        for (const h of ["node1", "node2"]) assert.strictEqual(await live(h), before0[h], h);
    });
});
