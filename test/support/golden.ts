/**
 * Golden files: rendered text compared byte for byte with a committed file
 * under test/golden/. Tests run from dist/test/..., so the path is resolved
 * back to the source tree. UPDATE_GOLDEN=1 (re)writes the files instead.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

export function expectGolden(relPath: string, text: string): void {
    const file = path.resolve(__dirname, "../../../test/golden", relPath);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        return;
    }
    if (!fs.existsSync(file)) {
        assert.fail(`golden file ${file} is missing; run the tests with UPDATE_GOLDEN=1 to write it, then review it`);
    }
    const want = fs.readFileSync(file);
    if (Buffer.compare(Buffer.from(text, "utf8"), want) !== 0) {
        // The string comparison gives mocha's readable diff.
        assert.strictEqual(text, want.toString("utf8"), `output differs from golden file ${file} (UPDATE_GOLDEN=1 rewrites it)`);
        assert.fail(`output differs from golden file ${file} in bytes that do not decode as UTF-8`);
    }
}
