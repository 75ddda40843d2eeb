import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execArgv } from "../../provider/transport/exec";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo, startSshd, stopSshd } from "../../lab/lab";

const HOST = "peer";

/**
 * SSH host keys on the real CLI: the peer's key changes after `up`, as a
 * reinstalled host or a man in the middle presents it. Nothing may run on a
 * host that shows another key than the pinned one, and the message must say
 * which key it showed, so the user can compare it out of band.
 */
describe("e2e: SSH host keys (real CLI, the peer's sshd with a new key)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: false });
    });

    const stack = useStack("sysctl", () => lab);
    let t: TestStack;
    let tmp: string;
    let replaced = false;
    const live = async () => (await hostExec(lab, HOST, ["sysctl", "-n", "net.ipv4.conf.eth0.rp_filter"])).stdout.trim();
    // sshd logs each login at INFO: a count that stays put means nobody logged in.
    const logins = () => fs.readFileSync(path.join(lab.stateDir, "hosts", HOST, "sshd.log"), "utf8").split("\n").filter((l) => /Accepted publickey/.test(l)).length;
    let before0: string;

    /** The peer's sshd, restarted with the lab's recorded key (what other tests pin). */
    const restoreSshd = async () => {
        if (!replaced) return;
        await stopSshd(lab, HOST);
        await startSshd(lab, HOST);
        replaced = false;
    };

    before(async () => {
        t = stack();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ro-hostkey-"));
        before0 = await live();
        await t.stack.setConfig("host", { value: HOST });
        await t.stack.setConfig("hostKey", { value: lab.hosts[HOST].ssh.hostKey });
    });
    after(async () => {
        await restoreSshd();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("up with the pinned key creates the sysctl on the peer", async () => {
        assert.notStrictEqual(before0, "2");
        assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { create: 2 });
        assert.strictEqual(await live(), "2");
    });

    it("after the host key changes, refresh and up fail naming the host and the presented key, and change nothing", async () => {
        const key = path.join(tmp, "ssh_host_ed25519_key");
        await execArgv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "reinstalled-peer", "-f", key]);
        const fp = (await execArgv(["ssh-keygen", "-l", "-f", `${key}.pub`])).stdout.split(" ")[1];
        assert.match(fp, /^SHA256:/);
        // The lab's sshd_config with only the host key swapped; the lab's own files stay as they are.
        const config = fs.readFileSync(path.join(lab.stateDir, "hosts", HOST, "sshd_config"), "utf8").replace(/^HostKey .*$/m, `HostKey ${key}`);
        fs.writeFileSync(path.join(tmp, "sshd_config"), config);
        await stopSshd(lab, HOST);
        replaced = true;
        await hostExec(lab, HOST, ["/usr/sbin/sshd", "-f", path.join(tmp, "sshd_config"), "-E", path.join(lab.stateDir, "hosts", HOST, "sshd.log")]);
        let presented = "";
        for (let i = 0; i < 50 && !presented.trim(); i++) {
            presented = (await execArgv(["ssh-keyscan", "-t", "ed25519", lab.hosts[HOST].ssh.host], { allowFailure: true })).stdout;
            if (!presented.trim()) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(presented.includes(fs.readFileSync(`${key}.pub`, "utf8").split(" ")[1]), "the peer's sshd presents the new key");

        await t.stack.setConfig("value", { value: "1" });
        const logins0 = logins();
        const message = new RegExp(`root@${lab.hosts[HOST].ssh.host.replace(/\./g, "\\.")}:22: host key ${fp.replace(/[+/]/g, "\\$&")} does not match the pinned hostKey`);
        await assert.rejects(t.stack.refresh(), message);
        await assert.rejects(t.stack.up(), message);
        assert.strictEqual(await live(), "2", "the host changed although its key did not match");
        assert.strictEqual(logins(), logins0, "a session was opened on a host whose key did not match");
    });

    it("once the user pins the new key, up and refresh work again", async () => {
        // The user checked the new key out of band and pins it; nothing else changes.
        await t.stack.setConfig("value", { value: "2" });
        await t.stack.setConfig("hostKey", { value: fs.readFileSync(path.join(tmp, "ssh_host_ed25519_key.pub"), "utf8").trim() });
        // An in-place update that only saves the new connection: refresh and destroy read it from the state.
        assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        await t.stack.setConfig("value", { value: "1" });
        assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
        assert.strictEqual(await live(), "1");
    });

    it("back on the lab's key: destroy uses the key pinned at the last up; after an up with the old key, it puts back the peer's value", async () => {
        await restoreSshd();
        await t.stack.setConfig("hostKey", { value: lab.hosts[HOST].ssh.hostKey });
        // destroy does not run the program: it connects with the connection saved by the last up.
        await assert.rejects(t.stack.destroy(), /host key SHA256:\S+ does not match the pinned hostKey/);
        assert.deepStrictEqual(changes((await t.stack.up()).summary.resourceChanges), { update: 1 });
        assert.strictEqual(await live(), "1");
        await t.stack.destroy();
        assert.strictEqual(await live(), before0);
    });

    it("a connection without hostKey is refused at preview, naming hostKey, and nothing is touched", async () => {
        const snap = await labSnapshot(lab);
        const logins0 = logins();
        await t.stack.removeConfig("hostKey");
        await t.stack.setConfig("noHostKey", { value: "true" });
        await assert.rejects(t.stack.preview(), /connection\.hostKey: required to pin the host's identity/);
        await t.stack.removeConfig("noHostKey");
        assert.deepStrictEqual(await labSnapshot(lab), snap);
        assert.strictEqual(logins(), logins0, "a check without hostKey connected to the host");
    });
});
