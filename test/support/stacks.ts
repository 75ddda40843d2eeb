import * as fs from "fs";
import * as path from "path";
import type { LabInfo } from "../../lab/lab";
import { configJson, ConfigValue, labStackConfig } from "../../lab/stack-config";
import { programStack, TestStack } from "./pulumi";

const PROGRAMS = path.resolve(__dirname, "..", "..", "..", "test", "e2e", "programs");
const EXAMPLES = path.resolve(__dirname, "..", "..", "..", "examples");

export function programFiles(name: string): Record<string, string> {
    const dir = path.join(PROGRAMS, name);
    return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

/** A stack of test/e2e/programs/NAME (or examples/NAME, run in place) for the enclosing describe, destroyed and removed after it. */
export function useStack(name: string, lab: () => LabInfo, opts: { example?: boolean; config?: Record<string, ConfigValue>; stackName?: string } = {}): () => TestStack {
    let t: TestStack;
    before(async () => {
        const env = { RO_LAB_JSON: path.join(lab().stateDir, "lab.json") };
        if (opts.example) {
            // Examples read their hosts from stack config only, as they would a user's.
            t = await programStack(name, {}, {}, { workDir: path.join(EXAMPLES, name), stackName: opts.stackName });
            await t.stack.setAllConfigJson(configJson({ ...labStackConfig(lab()), ...opts.config }));
        } else t = await programStack(name, programFiles(name), env, { stackName: opts.stackName });
    });
    after(async () => {
        await t?.stack.destroy().catch(() => undefined);
        await t?.cleanup();
    });
    return () => t;
}
