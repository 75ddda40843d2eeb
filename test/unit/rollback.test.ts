import * as assert from "assert";
import { probed } from "../../provider/runtime";
import { ChangeRolledBack, PathUnreachable } from "../../provider/pathcheck";

/** Probe and roll back (the runtime's part): what is undone, and what the error says. */
describe("probe and roll back after a change", () => {
    const broken = new PathUnreachable("remote (root@198.18.0.202:22)", [{ target: "10.166.2.10", hop: "route", at: "remote", message: "no route on the client remote to 10.166.2.10" }], 5);

    it("a passing check undoes nothing", async () => {
        let undone = 0;
        await probed("root@h:22", "routes/table254", async () => undefined, async () => { undone++; });
        assert.strictEqual(undone, 0);
    });

    it("a failing check undoes the change once and fails typed, with the diagnosis", async () => {
        let undone = 0;
        const err = await probed("root@h:22", "routes/table254", async () => { throw broken; }, async () => { undone++; }).then(() => undefined, (e) => e);
        assert.strictEqual(undone, 1);
        assert.ok(err instanceof ChangeRolledBack);
        assert.strictEqual(err.cause, broken);
        assert.match(err.message, /^root@h:22: routes\/table254: the change made the path check fail, so the previous state was restored on the host; path check from remote .* first failing hop "route": no route on the client remote/);
    });

    it("an undo that fails too keeps the diagnosis in the message", async () => {
        const err = await probed("root@h:22", "x", async () => { throw broken; }, async () => { throw new Error("ssh: connection lost"); }).then(() => undefined, (e) => e);
        assert.match(err.message, /^root@h:22: x: the change made the path check fail, and putting the previous state back failed too \(ssh: connection lost\); path check from remote/);
    });

    it("a check that cannot run (the client unreachable) undoes the change too: up keeps the previous state, so must the host", async () => {
        let undone = 0;
        await assert.rejects(probed("root@h:22", "x", async () => { throw new Error("root@198.18.0.202:22: cannot connect over SSH"); }, async () => { undone++; }),
            /^Error: root@h:22: x: the path check could not run \(root@198\.18\.0\.202:22: cannot connect over SSH\), so the previous state was restored on the host$/);
        assert.strictEqual(undone, 1);
    });
});
