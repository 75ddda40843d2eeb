import * as assert from "assert";
import * as fs from "fs";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, TestStack } from "../support/pulumi";
import { REPO_ROOT } from "../../lab/lab";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { hostExec, LabInfo } from "../../lab/lab";

const OLD = "vrrp-0ld";
const NEW = "vrrp-n3w";

/**
 * What `pulumi preview --diff` and `up` print, and what the state holds, when
 * a secret changes next to a plain setting: the change shows, no secret does.
 */
describe("e2e: no secret in preview --diff, up or the export (test/e2e/programs/secrets: a VIP return route)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    const stack = useStack("secrets", () => lab);
    let t: TestStack;
    let before0: Record<string, string>;
    let stop: () => void = () => undefined;
    let keyLines: string[];
    const leaks = (text: string) => [OLD, NEW, ...keyLines].filter((s) => text.includes(s));

    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stop = await whoAmIServer("ro-node3-p0");
        const key = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
        // Every body line of the key: the first ones are a header shared by all ed25519 keys, but none may show.
        keyLines = key.split("\n").filter((l) => l && !l.startsWith("-----"));
        assert.ok(keyLines.length >= 3 && keyLines.every((l) => l.length >= 20));
        await t.stack.setConfig("privateKey", { value: key, secret: true });
        await t.stack.setConfig("vrrpPass", { value: OLD, secret: true });
    });
    after(() => stop());

    it("up with the first password: the peer reaches the pod through the VIP; nothing secret in its output", async () => {
        const up = await t.stack.up();
        assert.ok((changes(up.summary.resourceChanges).create ?? 0) > 10);
        assert.deepStrictEqual(leaks(up.stdout + up.stderr), []);
        assert.match((await hostExec(lab, "node1", ["cat", "/etc/keepalived/keepalived.conf"])).stdout, new RegExp(`auth_pass ${OLD}`));
        let seen: string | undefined;
        for (let i = 0; i < 50 && !seen; i++) seen = await sourceSeenBy(lab, "peer", "10.166.3.10");
        assert.strictEqual(seen, "192.168.2.100");
    });

    it("preview --diff of a new password and a new excludeIps shows the changes and no secret", async () => {
        await t.stack.setConfig("vrrpPass", { value: NEW, secret: true });
        await t.stack.setConfig("excludeIps", { value: JSON.stringify(["10.166.0.254"]) });
        const pv = await t.stack.preview({ diff: true });
        process.stderr.write(`      measured: preview --diff printed ${pv.stdout.length} characters; changes ${JSON.stringify(changes(pv.changeSummary))}\n`);
        assert.deepStrictEqual(leaks(pv.stdout + pv.stderr), [], "a secret appears in `pulumi preview --diff`");
        // The three keepalived configs (the password is in them), the election's wait (a new config digest) and the Subnet.
        assert.deepStrictEqual(changes(pv.changeSummary), { update: 5 });
        assert.strictEqual(pv.stdout.match(/~ pulumi-nodejs:dynamic\/routed-overlay:Keepalived: \(update\)/g)?.length, 3);
        assert.match(pv.stdout, /excludeIps[\s\S]*"10\.166\.0\.254"/);
        assert.match(pv.stdout, /config\s*: \[secret\]/);
    });

    it("up applies them with nothing secret in its output or in `pulumi stack export`", async () => {
        const up = await t.stack.up({ diff: true });
        assert.deepStrictEqual(changes(up.summary.resourceChanges), { update: 5 });
        assert.deepStrictEqual(leaks(up.stdout + up.stderr), [], "a secret appears in `pulumi up --diff`");
        assert.match((await hostExec(lab, "node1", ["cat", "/etc/keepalived/keepalived.conf"])).stdout, new RegExp(`auth_pass ${NEW}`));
        const exported = await exportAsUser(t);
        assert.ok(JSON.parse(exported).deployment.resources.length > 10);
        assert.deepStrictEqual(leaks(exported), [], "a secret appears in `pulumi stack export`");
        // The package's resources (their serialized providers above all) name the runtime by package:
        // no path of this machine (the checkout) is recorded. The lab's kubeconfig names its files; that is the lab's.
        const ours = (JSON.parse(exported).deployment.resources as { type: string }[]).filter((r) => r.type.includes(":dynamic/routed-overlay:"));
        assert.ok(ours.length > 5 && ours.every((r) => !JSON.stringify(r).includes(REPO_ROOT)), "the state records the checkout's path");
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    });

    it("destroy leaves the lab as it was", async () => {
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
