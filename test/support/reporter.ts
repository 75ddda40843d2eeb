/**
 * Mocha's spec output plus, at the very end, one line per failed test and the
 * closing line in the plain form CI reads: "tests: N passed, N failed, N
 * skipped". The spec epilogue's diffs can run to pages; a CI log that keeps
 * only its tail still names what failed.
 */
import Mocha = require("mocha");

const MESSAGE = 300;

class SpecWithSummary extends Mocha.reporters.Spec {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        let passed = 0, skipped = 0;
        const failures: string[] = [];
        runner.on("pass", () => passed++);
        runner.on("fail", (test: Mocha.Runnable, err: Error) => {
            const message = String(err?.message ?? err).replace(/\s+/g, " ").trim();
            failures.push(`failed: ${test.fullTitle()}: ${message.length > MESSAGE ? `${message.slice(0, MESSAGE)}…` : message}`);
        });
        runner.on("pending", () => skipped++);
        runner.once("end", () => {
            for (const f of failures) process.stdout.write(`${f}\n`);
            process.stdout.write(`tests: ${passed} passed, ${failures.length} failed, ${skipped} skipped\n`);
        });
    }
}

export = SpecWithSummary;
