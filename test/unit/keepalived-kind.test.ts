import * as assert from "assert";
import { keepalivedKind, KeepalivedState, normalizeKeepalived } from "../../provider/kinds/keepalived";
import type { RunOptions, Transport } from "../../provider/transport";
import { formatProblem, Problem } from "../../common/problems";

/**
 * A host as the Keepalived kind sees it: files and one keepalived daemon.
 * keepalived itself is faked here (the lab tests run the real one); what is
 * checked is the order and the arguments of what the kind asks of the host.
 */
function host() {
    const files = new Map<string, { content: string; mode: string }>();
    let running = false;
    const sent: string[] = [];
    const t: Transport = {
        name: "root@198.18.0.11:22",
        get calls() { return sent.length; },
        async run(argv: readonly string[], o?: RunOptions) {
            sent.push(argv.join(" "));
            const ok = (stdout = "") => ({ code: 0, stdout, stderr: "" });
            const fail = (code: number) => {
                if (o?.allowFailure) return { code, stdout: "", stderr: "" };
                throw new Error(`${argv.join(" ")} exited ${code}`);
            };
            const a = [...argv];
            if (a[0] === "install") {
                files.set(a[a.length - 1], { content: o?.input ?? "", mode: a[a.indexOf("-m") + 1] });
                return ok();
            }
            if (a[0] === "cat") {
                const f = files.get(a[a.length - 1]);
                return f ? ok(f.content) : fail(1);
            }
            if (a[0] === "rm") {
                for (const p of a.slice(2).filter((p) => p !== "--")) files.delete(p);
                return ok();
            }
            // keepalived's own exit code for a missing config (KEEPALIVED_EXIT_NO_CONFIG in 2.2).
            if (a[0] === "keepalived" && a[1] === "--config-test") return files.has(a[3]) && !files.get(a[3])!.content.includes("bogus") ? ok() : fail(6);
            if (a[0] === "keepalived") {
                if (!files.has(a[2])) return fail(6);
                running = true;
                return ok();
            }
            if (a[0] === "pgrep") return running ? ok("1") : fail(1);
            if (a[0] === "pkill") {
                if (a[1] === "-TERM") running = false;
                return ok();
            }
            return ok();
        },
    };
    return { t, files, sent, isRunning: () => running };
}

const state = (raw: Record<string, unknown>): KeepalivedState => {
    const errs: Problem[] = [];
    const s = normalizeKeepalived(raw, errs);
    assert.deepStrictEqual(errs.map(formatProblem), []);
    return s!;
};

const CONFIG = "vrrp_instance RO_61 {\n}\n";
const FILES = {
    "/etc/keepalived/RO_61-gateway.sh": { content: "#!/bin/sh\nexit 0\n", mode: "0700" },
    "/etc/keepalived/RO_61-gateway.header": { content: "Authorization: Bearer abc\n", mode: "0600" },
};

describe("Keepalived kind: the config and the files it names", () => {
    it("create writes the named files, then the config, tests it and starts keepalived", async () => {
        const h = host();
        await keepalivedKind.create(h.t, state({ config: CONFIG, files: FILES, scratch: ["/run/routed-overlay-RO_61-gateway.verdict"] }), false);
        assert.deepStrictEqual(h.sent.filter((c) => !c.startsWith("cat") && !c.startsWith("pgrep")), [
            "install -D -m 0700 /dev/stdin /etc/keepalived/RO_61-gateway.sh",
            "install -D -m 0600 /dev/stdin /etc/keepalived/RO_61-gateway.header",
            "install -m 0600 /dev/stdin /etc/keepalived/keepalived.conf",
            "keepalived --config-test -f /etc/keepalived/keepalived.conf",
            "keepalived -f /etc/keepalived/keepalived.conf -p /run/keepalived.pid",
        ]);
        assert.strictEqual(h.files.get("/etc/keepalived/keepalived.conf")?.content, CONFIG);
        assert.strictEqual(h.files.get("/etc/keepalived/RO_61-gateway.header")?.content, "Authorization: Bearer abc\n");
        assert.ok(h.isRunning());
        assert.ok(h.sent.every((c) => !c.includes("Bearer")), "the token went into an argv");
    });

    it("read reports an edited or missing file as drift; delete removes the config, the files and the scratch", async () => {
        const h = host();
        const s = state({ config: CONFIG, files: FILES, scratch: ["/run/v"] });
        await keepalivedKind.create(h.t, s, false);
        h.files.set("/run/v", { content: "0\n", mode: "0644" });
        assert.deepStrictEqual((await keepalivedKind.read(h.t, s))?.files, FILES);
        h.files.set("/etc/keepalived/RO_61-gateway.sh", { content: "#!/bin/sh\nexit 1\n", mode: "0700" });
        h.files.delete("/etc/keepalived/RO_61-gateway.header");
        const read = (await keepalivedKind.read(h.t, s))!;
        assert.strictEqual(read.files["/etc/keepalived/RO_61-gateway.sh"].content, "#!/bin/sh\nexit 1\n");
        assert.strictEqual(read.files["/etc/keepalived/RO_61-gateway.header"].content, "");
        await keepalivedKind.remove(h.t, s);
        assert.deepStrictEqual([...h.files.keys()], []);
        assert.ok(!h.isRunning());
    });

    it("update rewrites, reloads, and removes the files the new state no longer names", async () => {
        const h = host();
        const olds = state({ config: CONFIG, files: FILES, scratch: ["/run/v"] });
        await keepalivedKind.create(h.t, olds, false);
        h.files.set("/run/v", { content: "0\n", mode: "0644" });
        h.sent.length = 0;
        await keepalivedKind.update(h.t, olds, state({ config: CONFIG }), false);
        assert.deepStrictEqual([...h.files.keys()], ["/etc/keepalived/keepalived.conf"]);
        assert.ok(h.sent.includes("pkill -HUP -F /run/keepalived.pid"));
    });

    it("a create keepalived refuses takes back the config and the files it wrote, and leaves a config that was there", async () => {
        const h = host();
        const bad = state({ config: "bogus {\n", files: FILES });
        await assert.rejects(keepalivedKind.create(h.t, bad, false), /keepalived rejects \/etc\/keepalived\/keepalived\.conf/);
        assert.deepStrictEqual([...h.files.keys()], []);
        h.files.set("/etc/keepalived/keepalived.conf", { content: "bogus {\n", mode: "0600" });
        await assert.rejects(keepalivedKind.create(h.t, bad, false));
        assert.ok(h.files.has("/etc/keepalived/keepalived.conf"), "a config that was there before is not removed");
    });

    it("refuses a file that is not { content, mode } without showing it, a relative path and the config's own path", () => {
        const errs: Problem[] = [];
        normalizeKeepalived({ config: CONFIG, files: { "/etc/k/a": "Authorization: Bearer hunter2", "rel/b": { content: "", mode: "0700" }, "/etc/keepalived/keepalived.conf": { content: "", mode: "0777" } } }, errs);
        const msgs = errs.map(formatProblem);
        assert.ok(msgs.some((m) => /^files\["\/etc\/k\/a"\]: must be \{ content, mode \}, not string$/.test(m)), msgs.join("\n"));
        assert.ok(msgs.some((m) => /^files\["rel\/b"\]: /.test(m)), msgs.join("\n"));
        assert.ok(msgs.some((m) => /is the config file itself/.test(m)), msgs.join("\n"));
        assert.ok(msgs.some((m) => /mode: must be 0600, 0644, 0700 or 0755: "0777"$/.test(m)), msgs.join("\n"));
        assert.ok(msgs.every((m) => !m.includes("hunter2")), msgs.join("\n"));
    });
});
