/**
 * What a user installs: runtime dependencies are exactly the packages the
 * shipped code imports, Pulumi's are peers, and everything `files` ships
 * comes from the build that `prepare` runs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { builtinModules } from "module";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const build = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8"));

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        return e.isDirectory() ? sources(rel) : e.name.endsWith(".ts") ? [rel] : [];
    });
}

/** The package names of every non-relative import of the shipped sources. */
function imported(): Set<string> {
    const files = ["index.ts", ...(build.include as string[]).filter((g) => g.endsWith("/**/*.ts")).flatMap((g) => sources(g.split("/")[0]))];
    const names = new Set<string>();
    for (const f of files) {
        for (const m of fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(/(?:from |require\()"([^".][^"]*)"/g)) {
            const spec = m[1];
            const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
            if (!builtinModules.includes(name) && !name.startsWith("node:")) names.add(name);
        }
    }
    return names;
}

describe("the package as installed", () => {
    it("depends at run time on exactly what the shipped code imports; Pulumi's SDKs are peers", () => {
        const runtime = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
        assert.deepStrictEqual([...imported()].sort(), [...runtime].sort());
        assert.deepStrictEqual(Object.keys(pkg.peerDependencies).sort(), ["@pulumi/kubernetes", "@pulumi/pulumi"]);
    });

    it("builds on prepare exactly the sources whose output `files` ships", () => {
        assert.strictEqual(pkg.scripts.prepare, "tsc -p tsconfig.build.json");
        const shipped = (pkg.files as string[]).filter((f) => f.startsWith("dist/")).map((f) => f.replace(/^dist\//, "").replace(/\/$/, "").replace(/\.\*$/, ".ts")).sort();
        const built = (build.include as string[]).map((g) => g.replace("/**/*.ts", "")).sort();
        assert.deepStrictEqual(shipped, built);
    });

    it("admits at the peer ranges' lower bounds the versions the repository tests with", () => {
        for (const [name, range] of Object.entries(pkg.peerDependencies as Record<string, string>)) {
            const [lo, dev] = [range.replace(/^\^/, ""), pkg.devDependencies[name] as string].map((v) => v.split(".").map(Number));
            assert.ok(range.startsWith("^") && dev[0] === lo[0] && (dev[1] > lo[1] || (dev[1] === lo[1] && dev[2] >= lo[2])), `${name}: devDependency ${pkg.devDependencies[name]} within ${range}`);
        }
    });
});
