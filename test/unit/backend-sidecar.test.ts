import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { brokenSidecars } from "../support/pulumi";

/** The repair the crash test and the tests' cleanup apply to a file backend a kill left unreadable. */
describe("brokenSidecars: the file backend's metadata files a kill cut short", () => {
    let backend: string;
    beforeEach(() => {
        backend = fs.mkdtempSync(path.join(os.tmpdir(), "ro-sidecar-"));
        fs.mkdirSync(path.join(backend, ".pulumi", "stacks", "proj"), { recursive: true });
    });
    afterEach(() => fs.rmSync(backend, { recursive: true, force: true }));
    const put = (name: string, text: string) => fs.writeFileSync(path.join(backend, ".pulumi", "stacks", "proj", name), text);

    it("lists the empty and the half-written .attrs files, not the sound ones, the checkpoints or their backups", () => {
        put("e2e.json", "{}");
        put("e2e.json.attrs", "");
        put("e2e.json.bak", "{}");
        put("e2e.json.bak.attrs", '{"md5":"x"}');
        put("other.json.attrs", '{"user.content_type":"text/pl');
        assert.deepStrictEqual(brokenSidecars(backend).map((f) => path.basename(f)).sort(), ["e2e.json.attrs", "other.json.attrs"]);
    });

    it("finds nothing in a backend without stacks", () => {
        fs.rmSync(path.join(backend, ".pulumi"), { recursive: true });
        assert.deepStrictEqual(brokenSidecars(backend), []);
    });
});
