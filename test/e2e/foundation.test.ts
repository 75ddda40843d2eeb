import * as assert from "assert";
import * as fs from "fs";
import { execArgv } from "../../provider/transport/exec";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { LabInfo } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";

describe("e2e: foundation (real CLI, lab over SSH)", function () {
    this.timeout(600_000);
    let lab: LabInfo;

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: false });
    });

    describe("a dynamic resource that writes and reads a lab host over SSH", () => {
        const stack = useStack("sysctl", () => lab);
        let t: TestStack;
        const live = async () =>
            (await execArgv(["ip", "netns", "exec", lab.hosts.node1.netns, "sysctl", "-n", "net.ipv4.conf.eth0.rp_filter"])).stdout.trim();
        let before0: string;

        before(async () => {
            before0 = await live();
            t = stack();
        });

        it("up creates it on the host", async () => {
            assert.notStrictEqual(before0, "2", "the host must not already have the value the program sets");
            const up = await t.stack.up();
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 2 });
            assert.strictEqual(await live(), "2");
            assert.strictEqual(up.outputs.previous.value, before0);
        });

        it("a second preview shows no changes", async () => {
            const pv = await t.stack.preview();
            assert.deepStrictEqual(changes(pv.changeSummary), {});
        });

        it("refresh reads the live value and shows no changes", async () => {
            const r = await t.stack.refresh();
            assert.deepStrictEqual(changes(r.summary.resourceChanges), {});
        });

        it("an out-of-band change shows in refresh and the next up repairs it", async () => {
            await execArgv(["ip", "netns", "exec", lab.hosts.node1.netns, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.rp_filter=1"]);
            const r = await t.stack.refresh();
            assert.deepStrictEqual(changes(r.summary.resourceChanges), { update: 1 });
            const up = await t.stack.up();
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { update: 1 });
            assert.strictEqual(await live(), "2");
        });

        it("keeps the SSH private key out of the state in plaintext", async () => {
            const exported = await exportAsUser(t);
            const key = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
            // The last body lines hold the private scalar; the first ones are a header shared by all ed25519 keys.
            const body = key.split("\n").filter((l) => l && !l.startsWith("-----")).slice(-3);
            assert.ok(body.every((l) => l.length >= 20));
            assert.ok(JSON.parse(exported).deployment.resources.length > 0, "the export holds the stack's resources");
            for (const l of body) assert.ok(!exported.includes(l), "a line of the private key appears in `pulumi stack export`");
        });

        it("destroy removes it and puts back the host's previous value", async () => {
            const d = await t.stack.destroy();
            assert.deepStrictEqual(changes(d.summary.resourceChanges), { delete: 2 });
            assert.strictEqual(await live(), before0);
        });

        it("refuses a host whose key does not match the pinned one", async () => {
            await t.stack.setConfig("hostKey", { value: lab.hosts.node2.ssh.hostKey });
            await assert.rejects(t.stack.up(), /host key SHA256:\S+ does not match the pinned hostKey/);
            assert.strictEqual(await live(), before0);
            await t.stack.removeConfig("hostKey");
        });
    });
});

describe("e2e: foundation (real CLI, lab Kubernetes API)", function () {
    this.timeout(600_000);
    let lab: LabInfo;

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    const kubectl = (...a: string[]) =>
        execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, ...a], { allowFailure: true });

    describe("a kubeovn.io/v1 Subnet through @pulumi/kubernetes", () => {
        const stack = useStack("subnet", () => lab);
        let t: TestStack;
        before(() => { t = stack(); });

        it("is created on the local API server, and a second preview shows no changes", async () => {
            const up = await t.stack.up();
            assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 3 });
            const got = await kubectl("get", "subnet", "routed", "-o", "json");
            assert.strictEqual(got.code, 0, got.stderr);
            const spec = JSON.parse(got.stdout).spec;
            assert.strictEqual(spec.cidrBlock, "10.166.0.0/16");
            assert.strictEqual(spec.natOutgoing, false);
            assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        });

        it("a Subnet with a value the upstream schema forbids is rejected by the server", async () => {
            await t.stack.setConfig("name", { value: "routed-typo" });
            await t.stack.setConfig("natOutgoing", { value: "typo" });
            await assert.rejects(t.stack.up(), /natOutgoing[\s\S]*boolean/);
            const got = await kubectl("get", "subnet", "routed-typo");
            assert.notStrictEqual(got.code, 0, "the rejected Subnet must not exist");
            await t.stack.removeConfig("name");
            await t.stack.removeConfig("natOutgoing");
        });

        it("destroy removes it", async () => {
            await t.stack.destroy();
            const got = await kubectl("get", "subnet", "routed");
            assert.match(got.stderr, /NotFound/);
        });
    });
});
