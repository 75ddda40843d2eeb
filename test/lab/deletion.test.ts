import * as assert from "assert";
import * as crypto from "crypto";
import { ensureLab, requireRoot } from "../support/lab";
import { LabInfo } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

/**
 * The lab's API server deletes as a real cluster's does: the garbage collector
 * finishes foreground deletions (pulumi-kubernetes' default) and the namespace
 * controller finishes namespace deletions. Without kube-controller-manager both
 * would hang, and programs would need lab-only workarounds.
 */
describe("lab: Kubernetes deletion (kube-controller-manager)", function () {
    this.timeout(180_000);
    // Generous: each controller reacts within seconds; past this something is not running.
    const WAIT_S = 60;
    const suffix = crypto.randomBytes(3).toString("hex");
    let lab: LabInfo;

    const kubectl = async (...argv: string[]) =>
        execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, ...argv], { context: "kubectl" });
    const kubectlMaybe = (...argv: string[]) =>
        execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, ...argv], { allowFailure: true });
    const create = async (obj: object) => JSON.parse((await execArgv(
        [toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, "create", "-o", "json", "-f", "-"],
        { input: JSON.stringify(obj), context: "kubectl create" })).stdout);
    /** The object, or undefined once the API server no longer has it. */
    const get = async (...what: string[]) => {
        const r = await kubectlMaybe("get", "-o", "json", ...what);
        if (r.code === 0) return JSON.parse(r.stdout);
        if (/NotFound/.test(r.stderr)) return undefined;
        throw new Error(`kubectl get ${what.join(" ")}: ${r.stderr.trim()}`);
    };
    async function until(what: string, cond: () => Promise<boolean>, describeState: () => Promise<string>) {
        const deadline = Date.now() + WAIT_S * 1000;
        while (!(await cond())) {
            if (Date.now() > deadline) assert.fail(`${what} within ${WAIT_S} s; now: ${await describeState()}`);
            await new Promise((r) => setTimeout(r, 250));
        }
    }

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    describe("a namespace with objects in it", () => {
        const ns = `ro-deletion-${suffix}`;
        after(async () => { if (lab) await kubectlMaybe("delete", "namespace", ns, "--wait=false", "--ignore-not-found"); });

        it("is emptied and removed after its deletion", async () => {
            await create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
            await create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: ns }, data: { k: "v" } });
            // A custom resource too: the namespace controller finds what to delete by discovery, CRDs included.
            await create({ apiVersion: "networking.liqo.io/v1beta1", kind: "RouteConfiguration", metadata: { name: "rc", namespace: ns }, spec: {} });

            await kubectl("delete", "namespace", ns, "--wait=false");
            await until(`namespace ${ns} is gone`, async () => (await get("namespace", ns)) === undefined,
                async () => JSON.stringify((await get("namespace", ns))?.status ?? "gone"));
        });
    });

    describe("a custom resource deleted with foreground propagation", () => {
        const name = `ro-fg-${suffix}`;
        const holder = "routed-overlay.test/hold";
        after(async () => {
            if (!lab) return;
            await kubectlMaybe("patch", "configmap", name, "-n", "default", "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
            await kubectlMaybe("delete", "configmap", name, "-n", "default", "--wait=false", "--ignore-not-found");
            await kubectlMaybe("delete", "subnet.kubeovn.io", name, "--wait=false", "--ignore-not-found");
        });

        it("stays until its dependents are gone, then the garbage collector removes it", async () => {
            const subnet = await create({
                apiVersion: "kubeovn.io/v1", kind: "Subnet", metadata: { name },
                spec: { protocol: "IPv4", cidrBlock: "10.177.0.0/16", gateway: "10.177.0.1", default: false },
            });
            // A dependent that blocks its owner's deletion and cannot go before this test lets it: the
            // owner's foreground deletion is then observably waiting for the collector to delete it.
            await create({
                apiVersion: "v1", kind: "ConfigMap",
                metadata: {
                    name, namespace: "default", finalizers: [holder],
                    ownerReferences: [{ apiVersion: "kubeovn.io/v1", kind: "Subnet", name, uid: subnet.metadata.uid, blockOwnerDeletion: true }],
                },
            });

            await kubectl("delete", "subnet.kubeovn.io", name, "--cascade=foreground", "--wait=false");
            await until(`the garbage collector deletes the dependent ConfigMap ${name}`,
                async () => Boolean((await get("configmap", name, "-n", "default"))?.metadata.deletionTimestamp),
                async () => JSON.stringify((await get("configmap", name, "-n", "default"))?.metadata ?? "gone"));
            const waiting = await get("subnet.kubeovn.io", name);
            assert.ok(waiting, "the Subnet went before its blocking dependent");
            assert.ok(waiting.metadata.deletionTimestamp, "the Subnet is not being deleted");
            assert.deepStrictEqual(waiting.metadata.finalizers, ["foregroundDeletion"]);

            await kubectl("patch", "configmap", name, "-n", "default", "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
            await until(`Subnet ${name} is gone`, async () => (await get("subnet.kubeovn.io", name)) === undefined,
                async () => JSON.stringify((await get("subnet.kubeovn.io", name))?.metadata ?? "gone"));
            assert.strictEqual(await get("configmap", name, "-n", "default"), undefined);
        });
    });
});
