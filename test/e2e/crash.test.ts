import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { brokenSidecars, changes, exportAsUser, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { LabInfo } from "../../lab/lab";
import { toolchainDir } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

/** Live (not zombie) processes of a session, with their command lines. */
function sessionMembers(sid: number): { pid: number; cmd: string }[] {
    const out: { pid: number; cmd: string }[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            // Fields after the command name: state ppid pgrp session ...
            const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (Number(f[3]) !== sid || f[0] === "Z") continue;
            out.push({ pid: Number(d), cmd: fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim() });
        } catch { /* exited while listed */ }
    }
    return out;
}

function lockFiles(backend: string): string[] {
    const root = path.join(backend, ".pulumi", "locks");
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".json"));
}

/** The file backend's checkpoint of the only stack, or undefined while it is absent or half written. */
function checkpoint(backend: string): { resources?: { type: string }[]; pending_operations?: { type: string; resource: { type: string } }[] } | undefined {
    const root = path.join(backend, ".pulumi", "stacks");
    const files = fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".json")) : [];
    if (files.length !== 1) return undefined;
    try {
        return JSON.parse(fs.readFileSync(path.join(root, files[0]), "utf8")).checkpoint?.latest;
    } catch {
        return undefined;
    }
}

const hostObject = (type: string) => type.startsWith("pulumi-nodejs:dynamic/routed-overlay:");
const inTheMiddle = (c: ReturnType<typeof checkpoint>) =>
    !!c && (c.resources ?? []).some((r) => hostObject(r.type)) && (c.pending_operations ?? []).some((p) => p.type === "creating" && hostObject(p.resource.type));

/**
 * The machine running pulumi crashes in the middle of `up`: the CLI, the
 * language host and the provider plugins all die at once, with some host
 * objects made and others not. What the user must do afterwards is measured
 * here with the real CLI, and the README's troubleshooting entry says the same.
 */
describe("e2e: pulumi killed with SIGKILL in the middle of up (examples/seed-routed-distributed)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    const stack = useStack("seed-routed-distributed", () => lab, { example: true });
    let t: TestStack;
    let stop: () => void = () => undefined;
    let before0: Record<string, string>;
    const reach = () => sourceSeenBy(lab, "peer", "10.166.2.10");
    const cli = (...args: string[]) =>
        execArgv([path.join(toolchainDir(), "bin", "pulumi"), ...args, "--stack", "e2e", "--cwd", t.dir], { env: { ...process.env, ...t.env }, allowFailure: true });

    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stop = await whoAmIServer("ro-node2-p0");
    });
    after(() => stop());

    it("the killed up leaves the stack locked with pending creates; `pulumi cancel`, `refresh --clear-pending-creates`, then `up` converges", async () => {
        // Its own session and process group: the kill below reaches nothing of the test runner.
        const child = spawn(path.join(toolchainDir(), "bin", "pulumi"), ["up", "--yes", "--skip-preview", "--stack", "e2e", "--cwd", t.dir],
            { env: { ...process.env, ...t.env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        const sid = child.pid!;
        let out = "";
        child.stdout!.on("data", (b: Buffer) => { out += b.toString(); });
        child.stderr!.on("data", (b: Buffer) => { out += b.toString(); });
        const exited = new Promise((r) => child.once("exit", r));
        const started = Date.now();
        // In the middle: the checkpoint on disk holds a host object created and creates still in flight.
        // Read from the checkpoint rather than the CLI's "created" lines: those can come when nothing
        // else is in flight yet (a loaded CI machine), and then the kill leaves no pending operation.
        while (!inTheMiddle(checkpoint(t.backend))) {
            assert.ok(child.exitCode === null, `the up ended before the checkpoint showed a host object created and another in flight:\n${out}`);
            await new Promise((r) => setTimeout(r, 10));
        }
        const members = sessionMembers(sid);
        process.kill(-sid, "SIGKILL");
        await exited;
        await new Promise((r) => setTimeout(r, 1000));
        // pulumi starts each plugin in a process group of its own: killing the CLI's group alone leaves them running.
        const survivors = sessionMembers(sid);
        process.stderr.write(`      measured: killed ${((Date.now() - started) / 1000).toFixed(1)} s into the up; ${members.length} processes in its session, ` +
            `${survivors.length} still alive 1 s after SIGKILL of the CLI's process group: ${survivors.map((p) => path.basename(p.cmd.split(" ")[0])).join(", ") || "none"}\n`);
        // The rest of the machine's crash: every process of the run dies.
        for (const p of survivors) try { process.kill(p.pid, "SIGKILL"); } catch { /* gone */ }
        for (let i = 0; i < 100 && sessionMembers(sid).length; i++) await new Promise((r) => setTimeout(r, 50));
        assert.deepStrictEqual(sessionMembers(sid), [], "a process of the killed run is still alive");
        assert.doesNotMatch(out, /Resources:/, "the up had finished before the kill");

        assert.strictEqual(lockFiles(t.backend).length, 1, "the file backend keeps the killed run's lock");
        // The kill can land in the file backend's write of the checkpoint's sidecar: every command then fails
        // until it is removed, as the README says. (Seen in a CI run; the kill follows a checkpoint write.)
        const broken = brokenSidecars(t.backend);
        if (broken.length) {
            // Only the checkpoint's own sidecar stops the CLI; the backup's (<stack>.json.bak.attrs, written
            // the same way) is cut as often and read by no command here (seen in a CI run). Both are removed.
            if (broken.some((f) => /\.json\.attrs$/.test(f))) {
                const exp = await cli("stack", "export");
                assert.match(exp.stderr, /failed to load checkpoint: EOF/);
            }
            for (const f of broken) fs.rmSync(f);
            process.stderr.write(`      measured: the kill cut the write of ${broken.map((f) => path.basename(f)).join(", ")}: removed, as the README says\n`);
        }
        const pending = (JSON.parse(await exportAsUser(t)).deployment.pending_operations ?? []) as { type: string; resource: { urn: string } }[];
        process.stderr.write(`      measured: ${pending.length} pending operations in the state: ${pending.map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`).join(", ")}\n`);
        assert.ok(pending.length > 0, "the state records the creates in flight");
        assert.ok(pending.every((p) => p.type === "creating"));
        assert.notDeepStrictEqual(await labSnapshot(lab), before0, "the lab shows part of the change");

        // Nothing runs until the lock is gone; the error names the way out.
        await assert.rejects(t.stack.up(), /locked by 1 lock[\s\S]*pulumi cancel/);
        const cancel = await cli("cancel", "--yes");
        assert.strictEqual(cancel.code, 0, cancel.stderr);
        assert.deepStrictEqual(lockFiles(t.backend), [], "`pulumi cancel` removes the file backend's lock");

        // Left in the state, the pending creates survive an up and a plain refresh (each up warns about them again);
        // refresh --clear-pending-creates drops them, and up creates those objects again.
        const clear = await cli("refresh", "--clear-pending-creates", "--yes", "--skip-preview");
        assert.strictEqual(clear.code, 0, clear.stderr || clear.stdout);
        assert.deepStrictEqual(JSON.parse(await exportAsUser(t)).deployment.pending_operations ?? [], [], "the state still has pending operations");
        // The providers complete or take over what the killed run had half made (its own marked rules, the recorded sysctl value).
        const up = await t.stack.up();
        assert.doesNotMatch(up.stdout, /pending operations/);
        assert.strictEqual(await reach(), "192.168.2.100");
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    });

    it("destroy leaves the lab as it was (the node whose ip_forward create was cut off gets back 0)", async () => {
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
