import * as fs from "fs";
import * as path from "path";
import type { LabInfo } from "../../lab/lab";
import { configJson, ConfigValue, labStackConfig } from "../../lab/stack-config";
import { brokenSidecars, programStack, TestStack } from "./pulumi";

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
        if (t) await destroyForGood(t);
        await t?.cleanup();
    });
    return () => t;
}

/**
 * Destroys what a describe left, even after a failed test: a run killed or
 * failed half way leaves the stack locked or with pending creates, and a
 * plain destroy then refuses. Its objects would stay on the lab's hosts and
 * fail every later test that compares the lab with how it was.
 */
async function destroyForGood(t: TestStack): Promise<void> {
    try {
        await t.stack.destroy();
        return;
    } catch (e) {
        process.stderr.write(`      cleanup: destroy failed, cancelling and clearing pending creates: ${String(e).split("\n")[0]}\n`);
    }
    // A kill in the middle of a checkpoint write can leave the backend unreadable (brokenSidecars).
    for (const f of brokenSidecars(t.backend)) fs.rmSync(f);
    // The objects of creates cut off in flight are on the hosts but not in the state, so destroy
    // alone would leave them: an up takes them over (each carries its resource's own marker).
    await t.stack.cancel().catch(() => undefined);
    await t.stack.refresh({ clearPendingCreates: true }).catch(() => undefined);
    await t.stack.up().catch(() => undefined);
    await t.stack.destroy().catch((e) => process.stderr.write(`      cleanup: destroy failed again: ${String(e).slice(0, 2000)}\n`));
}
