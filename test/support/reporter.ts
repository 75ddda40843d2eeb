/**
 * Mocha's spec output plus one closing line in the plain form CI reads:
 * "tests: N passed, N failed, N skipped".
 */
import Mocha = require("mocha");

class SpecWithSummary extends Mocha.reporters.Spec {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        let passed = 0, failed = 0, skipped = 0;
        runner.on("pass", () => passed++);
        runner.on("fail", () => failed++);
        runner.on("pending", () => skipped++);
        runner.once("end", () => {
            process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
        });
    }
}

export = SpecWithSummary;
