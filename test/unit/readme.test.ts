/**
 * The README's TypeScript program compiles as written, with --strict,
 * against the package's own sources under its published name.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { execArgv } from "../../provider/transport/exec";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** The first ```ts block after the heading. */
function program(heading: string): string {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const at = text.indexOf(`\n### ${heading}\n`);
    assert.ok(at >= 0, `README has a section "${heading}"`);
    const block = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
    assert.ok(block, `a TypeScript block under "${heading}"`);
    return block[1];
}

describe("the README", function () {
    this.timeout(120_000);
    it("its complete program type-checks with tsc --strict", async () => {
        const dir = fs.mkdtempSync(path.join(ROOT, ".e2e-work-readme-"));
        try {
            fs.writeFileSync(path.join(dir, "index.ts"), program("A complete program"));
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
                compilerOptions: {
                    target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, noEmit: true, esModuleInterop: true,
                    skipLibCheck: true, baseUrl: ROOT, paths: { "routed-overlay": ["index.ts"] },
                },
                files: ["index.ts"],
            }));
            const r = await execArgv([path.join(ROOT, "node_modules/.bin/tsc"), "-p", dir], { allowFailure: true });
            assert.strictEqual(r.code, 0, `tsc:\n${r.stdout}${r.stderr}`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
