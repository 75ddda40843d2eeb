import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, programStack, TestStack, toolchainEnv } from "../support/pulumi";
import { programFiles } from "../support/stacks";
import { configJson, labStackConfig } from "../../lab/stack-config";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { LabInfo, REPO_ROOT } from "../../lab/lab";
import { execArgv } from "../../provider/transport/exec";

const SOURCE = path.join(REPO_ROOT, "test/e2e/consumer");

/**
 * The package as another team gets it: `npm pack`, installed into a
 * TypeScript Pulumi program outside this checkout (so nothing resolves back
 * to it), type-checked against the shipped .d.ts, and run on the lab.
 */
describe("e2e: a team's own program installs the package from git (TypeScript, StackReference, own Provider, @pulumi/command-shaped connections)", function () {
    this.timeout(900_000);
    let lab: LabInfo;
    let work: string;
    let t: TestStack;
    let infra: TestStack;
    let before0: Record<string, string>;
    let stopServer: () => void = () => undefined;
    const npm = (dir: string, ...args: string[]) =>
        execArgv(["npm", "--prefix", dir, ...args], { env: { ...process.env, ...toolchainEnv(), npm_config_loglevel: "error" }, context: `npm ${args[0]} in ${dir}` });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    const dev = pkg.devDependencies as Record<string, string>;
    /** The lowest version a peer range admits ("^3.248.0" → "3.248.0"). */
    const lowerBound = (name: string) => (pkg.peerDependencies[name] as string).replace(/^[\^~>=]+/, "");

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "ro-consumer-"));
    });
    after(async () => {
        stopServer();
        if (t) {
            await t.stack.destroy().catch(() => undefined);
            await t.cleanup();
        }
        if (infra) {
            await infra.stack.destroy().catch(() => undefined);
            await infra.cleanup();
        }
        fs.rmSync(work, { recursive: true, force: true });
    });

    let tarball: string;
    it("npm pack ships compiled JS with .d.ts, the exports map's targets, and no tests or lab", async () => {
        const r = await execArgv(["npm", "pack", "--json", "--pack-destination", work], { env: { ...process.env, npm_config_loglevel: "error" } });
        const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
        tarball = path.join(work, path.basename(info.filename));
        const files = info.files.map((f) => f.path);
        for (const target of ["dist/index.js", "dist/index.d.ts", "dist/provider/runtime.js", "dist/provider/dynamic.js", "dist/components/routed-subnet.d.ts", "README.md"]) {
            assert.ok(files.includes(target), `${target} is in the tarball`);
        }
        assert.deepStrictEqual(files.filter((f) => /^(dist\/)?(test|lab|examples|demo)\//.test(f)), []);
        const exported = Object.values(pkg.exports as Record<string, string | { default: string; types: string }>)
            .flatMap((e) => (typeof e === "string" ? [e] : [e.default, e.types])).map((f) => f.replace(/^\.\//, ""));
        for (const f of exported) assert.ok(files.includes(f), `exports target ${f} is in the tarball`);
    });

    it("installs from a clean clone by git URL (prepare builds dist/) into a TypeScript program and type-checks with --strict", async () => {
        const clone = path.join(work, "clone");
        await execArgv(["git", "clone", "--quiet", REPO_ROOT, clone]);
        assert.ok(!fs.existsSync(path.join(clone, "dist")), "a clone has no prebuilt dist/");
        const app = path.join(work, "app");
        fs.mkdirSync(app);
        fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({
            name: "team-network",
            private: true,
            dependencies: {
                "routed-overlay": `git+file://${clone}`,
                // The peer ranges' lower bounds: what the package claims to work with.
                "@pulumi/pulumi": lowerBound("@pulumi/pulumi"),
                "@pulumi/kubernetes": lowerBound("@pulumi/kubernetes"),
                "@pulumi/command": dev["@pulumi/command"],
            },
            devDependencies: { typescript: dev.typescript, "@types/node": dev["@types/node"] },
        }, null, 2));
        fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({
            compilerOptions: { target: "ES2022", module: "commonjs", strict: true, outDir: "bin", esModuleInterop: true },
            files: ["index.ts"],
        }));
        fs.copyFileSync(path.join(SOURCE, "index.ts"), path.join(app, "index.ts"));
        fs.writeFileSync(path.join(app, "Pulumi.yaml"), "name: team-network\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: bin/index.js\n");
        // Install scripts on, as a user runs it: prepare builds the package. The toolchain's PATH and PULUMI_HOME
        // let @pulumi/kubernetes's plugin script find its plugin registered; @pulumi/command's fails harmlessly.
        await npm(app, "install", "--prefer-offline", "--no-audit", "--no-fund");
        assert.ok(fs.existsSync(path.join(app, "node_modules/routed-overlay/dist/index.d.ts")));
        assert.ok(!fs.existsSync(path.join(app, "node_modules/routed-overlay/dist/test")), "tests are not shipped");
        assert.ok(!fs.existsSync(path.join(app, "node_modules/routed-overlay/node_modules/@pulumi/pulumi")), "one @pulumi/pulumi for program and package (a peer dependency)");
        const installed = JSON.parse(fs.readFileSync(path.join(app, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version;
        assert.strictEqual(installed, lowerBound("@pulumi/pulumi"));
        await execArgv([path.join(app, "node_modules/.bin/tsc"), "-p", app], { context: "tsc of the consumer program" });
        assert.ok(fs.existsSync(path.join(app, "bin/index.js")));
    });

    it("a type error in the consumer's use of the package is caught by the shipped types", async () => {
        const app = path.join(work, "app");
        const bad = fs.readFileSync(path.join(app, "index.ts"), "utf8").replace('cidrBlock: "10.166.0.0/16"', "cidrBlock: 10166");
        fs.writeFileSync(path.join(app, "bad.ts"), bad);
        const r = await execArgv([path.join(app, "node_modules/.bin/tsc"), "--noEmit", "--strict", "--esModuleInterop", path.join(app, "bad.ts")], { allowFailure: true, env: { ...process.env } });
        fs.rmSync(path.join(app, "bad.ts"));
        assert.notStrictEqual(r.code, 0);
        const line = bad.split("\n").findIndex((l) => l.includes("cidrBlock: 10166")) + 1;
        assert.match(r.stdout, new RegExp(`bad\\.ts\\(${line},\\d+\\): error TS2322: Type 'number' is not assignable to type 'string'`));
    });

    it("an infra stack's outputs reach it through a StackReference; up, and the peer reaches a pod at once through the VIP", async () => {
        before0 = await labSnapshot(lab);
        stopServer = await whoAmIServer("ro-node2-p0");
        assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), undefined);
        infra = await programStack("infra", programFiles("infra"));
        await infra.stack.setAllConfigJson(configJson(labStackConfig(lab)));
        await infra.stack.up();
        t = await programStack("team-network", {}, { PULUMI_BACKEND_URL: infra.env.PULUMI_BACKEND_URL }, { workDir: path.join(work, "app") });
        await t.stack.setConfig("infraStack", { value: "organization/infra/e2e" });
        const up = await t.stack.up();
        assert.strictEqual(up.outputs.subnetName.value, "team-routed");
        assert.strictEqual(up.outputs.nextHop.value, "192.168.2.250");
        // Once: no retry. The routes were made after the VIP was held (GatewayVip.address waits for it).
        assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), "192.168.2.100");
        const state = await exportAsUser(t);
        assert.ok(!state.includes("BEGIN OPENSSH PRIVATE KEY"), "the private key from the StackReference stays secret in the state");
    });

    it("a second preview is empty, and destroy leaves the lab as it was", async () => {
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
        assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), undefined);
    });
});
