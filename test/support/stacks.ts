import * as fs from "fs";
import * as path from "path";
import type { LabInfo } from "../../lab/lab";
import { programStack, TestStack } from "./pulumi";

const PROGRAMS = path.resolve(__dirname, "..", "..", "..", "test", "e2e", "programs");

export function programFiles(name: string): Record<string, string> {
    const dir = path.join(PROGRAMS, name);
    return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

/** A stack of test/e2e/programs/NAME for the enclosing describe, destroyed and removed after it. */
export function useStack(name: string, lab: () => LabInfo): () => TestStack {
    let t: TestStack;
    before(async () => {
        t = await programStack(name, programFiles(name), { RO_LAB_JSON: path.join(lab().stateDir, "lab.json") });
    });
    after(async () => {
        await t?.stack.destroy().catch(() => undefined);
        await t?.cleanup();
    });
    return () => t;
}
