import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, programStack, TestStack } from "../support/pulumi";
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
describe("e2e: a consumer program installs the npm tarball (TypeScript, own Provider, @pulumi/command-shaped connections)", function () {
    this.timeout(900_000);
    let lab: LabInfo;
    let work: string;
    let t: TestStack;
    let before0: Record<string, string>;
    let stopServer: () => void = () => undefined;
    const npm = (dir: string, ...args: string[]) => execArgv(["npm", "--prefix", dir, ...args], { env: { ...process.env, npm_config_loglevel: "error" }, context: `npm ${args[0]} in ${dir}` });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));

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

    it("installs into a TypeScript program outside the checkout and type-checks against the shipped .d.ts", async () => {
        const app = path.join(work, "app");
        fs.mkdirSync(app);
        const dev = pkg.devDependencies as Record<string, string>;
        fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({
            name: "team-network",
            private: true,
            dependencies: {
                "routed-overlay": `file:${tarball}`,
                "@pulumi/pulumi": dev["@pulumi/pulumi"],
                "@pulumi/kubernetes": dev["@pulumi/kubernetes"],
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
        // Install scripts off: @pulumi/kubernetes and @pulumi/command would download their plugins.
        await npm(app, "install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund");
        assert.ok(fs.existsSync(path.join(app, "node_modules/routed-overlay/dist/index.d.ts")));
        assert.ok(!fs.existsSync(path.join(app, "node_modules/routed-overlay/node_modules/@pulumi/pulumi")), "one @pulumi/pulumi for program and package (a peer dependency)");
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

    it("pulumi up runs it on the lab: the peer reaches a pod; preview is then empty; destroy restores the lab", async () => {
        before0 = await labSnapshot(lab);
        stopServer = await whoAmIServer("ro-node2-p0");
        assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), undefined);
        t = await programStack("team-network", {}, { RO_LAB_JSON: path.join(lab.stateDir, "lab.json") }, { workDir: path.join(work, "app") });
        const up = await t.stack.up();
        assert.strictEqual(up.outputs.subnetName.value, "team-routed");
        assert.ok((changes(up.summary.resourceChanges).create ?? 0) >= 14, JSON.stringify(up.summary.resourceChanges));
        assert.strictEqual(await sourceSeenBy(lab, "peer", "10.166.2.10"), "192.168.2.100");
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
