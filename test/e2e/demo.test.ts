import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { labSnapshot } from "../support/snapshot";
import { LabInfo, REPO_ROOT } from "../../lab/lab";
import { execArgv } from "../../provider/transport/exec";

/**
 * The README's main job, `npm run demo`, as a user runs it (scripts/demo.sh),
 * on its own stack and backend so that a user's demo stack in this checkout
 * is left alone, and with the lab kept up for the other suites.
 */
describe("e2e: the main job (npm run demo, the root Pulumi.yaml program)", function () {
    this.timeout(900_000);
    let lab: LabInfo;
    let before0: Record<string, string>;
    const stack = "e2e-demo";
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "ro-demo-backend-"));
    // The kubernetes plugin copies the stack's kubeconfig (the lab's admin token) into TMPDIR and never
    // removes it; here the copies go with the backend, as with programStack's stacks.
    const tmp = path.join(backend, "tmp");
    fs.mkdirSync(tmp);
    const env = { ...process.env, RO_DEMO_STACK: stack, RO_DEMO_BACKEND: `file://${backend}`, RO_DEMO_KEEP_LAB: "1", TMPDIR: tmp };
    const demo = (...args: string[]) => execArgv(["bash", path.join(REPO_ROOT, "scripts/demo.sh"), ...args], { env, allowFailure: true });

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
        before0 = await labSnapshot(lab);
    });
    after(async () => {
        await demo("down").catch(() => undefined);
        fs.rmSync(backend, { recursive: true, force: true });
        fs.rmSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), { force: true });
    });

    it("does everything, then prints the proof: clients reach pods with their own addresses, the VIP holder, the routes", async () => {
        const r = await demo();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
        const out = r.stdout;
        assert.match(out, /Resources:\s+\+ 34 created/);
        assert.strictEqual((out.match(/^ {2}OK {3}/gm) ?? []).length, 4, out);
        assert.doesNotMatch(out, /FAIL/);
        assert.match(out, /node1: holds 192\.168\.2\.250 \(MASTER\)/);
        assert.match(out, /10\.166\.0\.0\/16 via 192\.168\.2\.250 dev eth0/, "the peer's return route via the VIP");
        assert.match(out, /ip route 10\.166\.0\.0\/16 192\.168\.2\.250 tag 214/, "the router's FRR route via the VIP");
        assert.match(out, /10\.200\.0\.1 via 172\.29\.0\.1 dev liqo\.vxlan table 18952/);
        assert.match(out, /proof: every pod answered every client with the client's own address/);
        assert.match(r.stderr, /Tear it down: {3}npm run demo -- down/);
    });

    it("a second run changes nothing and proves it again", async () => {
        const r = await demo();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
        assert.match(r.stdout, /Resources:\s+34 unchanged/);
        assert.doesNotMatch(r.stdout, /created|updated|replaced|deleted/);
        assert.match(r.stdout, /proof: every pod answered every client/);
    });

    it("the documented teardown leaves the lab as it was", async () => {
        const r = await demo("down");
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
        assert.deepStrictEqual(await labSnapshot(lab), before0);
        assert.strictEqual(fs.existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)), false, "stack rm removed its config file");
    });
});
