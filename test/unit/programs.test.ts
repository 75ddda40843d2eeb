import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** The Pulumi programs of the repository that are plain JavaScript, run in place by the CLI. */
function programs(): string[] {
    const out: string[] = [];
    for (const dir of ["examples", path.join("bench", "programs"), path.join("test", "e2e", "programs")]) {
        for (const d of fs.readdirSync(path.join(ROOT, dir))) {
            const f = path.join(ROOT, dir, d, "index.js");
            if (fs.existsSync(f)) out.push(f);
        }
    }
    return out;
}

describe("programs run in place", () => {
    it("finds the examples, the benchmark's and the e2e tests' programs", () => {
        const names = programs().map((f) => path.relative(ROOT, f));
        for (const want of ["examples/vip-return-route/index.js", "bench/programs/w1/index.js", "bench/programs/w2/index.js", "test/e2e/programs/follow-gateway/index.js"]) {
            assert.ok(names.includes(want), `${want} not found among ${names.join(", ")}`);
        }
    });

    // A moved helper breaks a program only when the CLI runs it: the benchmark's programs once required a file of
    // the examples that had been removed, and nothing but a full benchmark run would have said so.
    it("every relative require resolves to a file of the repository", () => {
        const missing: string[] = [];
        for (const f of programs()) {
            for (const m of fs.readFileSync(f, "utf8").matchAll(/require\((["'])(\.{1,2}\/[^"']+)\1\)/g)) {
                try {
                    require.resolve(path.resolve(path.dirname(f), m[2]));
                } catch {
                    missing.push(`${path.relative(ROOT, f)}: require("${m[2]}")`);
                }
            }
        }
        assert.deepStrictEqual(missing, []);
    });
});
