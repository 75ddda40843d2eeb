/**
 * Drives the real Pulumi CLI through the Automation API on a local program,
 * with a temporary file backend and the offline toolchain's plugins.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { toolchainDir } from "../../lab/toolchain";
import { REPO_ROOT } from "../../lab/lab";
import { execArgv } from "../../provider/transport/exec";

export const PASSPHRASE = "routed-overlay-e2e";

export interface TestStack {
    stack: Stack;
    dir: string;
    backend: string;
    /** Removes the stack's state and working directory (after destroy). */
    cleanup(): Promise<void>;
    env: Record<string, string>;
}

export function toolchainEnv(): Record<string, string> {
    const tc = toolchainDir();
    return {
        PATH: `${path.join(tc, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_HOME: path.join(tc, "pulumi-home"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
}

/**
 * Copies a program into a scratch folder inside the repository (so that
 * `require("routed-overlay")` and @pulumi/* resolve to this checkout) and
 * creates a stack for it on a fresh file backend.
 */
export async function programStack(program: string, files: Record<string, string>, env: Record<string, string> = {}, opts: { workDir?: string; stackName?: string } = {}): Promise<TestStack> {
    const stackName = opts.stackName ?? "e2e";
    const root = path.join(REPO_ROOT, ".e2e-work");
    fs.mkdirSync(root, { recursive: true });
    // An example runs where it lives, as a user runs it; test programs are copied to scratch folders.
    const dir = opts.workDir ?? fs.mkdtempSync(path.join(root, `${program}-`));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"),
            `name: ${program}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n`);
    }
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "ro-backend-"));
    // The CLI's plugins leave files in TMPDIR that nothing removes (the Node language host's
    // pulumi-node-pipes folders, the kubernetes provider's kubeconfig copies): here they go
    // with the backend when the test cleans up.
    const tmp = path.join(backend, "tmp");
    fs.mkdirSync(tmp);
    const tcEnv: Record<string, string> = { ...toolchainEnv(), PULUMI_BACKEND_URL: `file://${backend}`, TMPDIR: tmp, ...env };
    const pulumiCommand = await PulumiCommand.get({ root: toolchainDir(), skipVersionCheck: true });
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, workDir: dir },
        { envVars: tcEnv, pulumiHome: tcEnv.PULUMI_HOME, pulumiCommand },
    );
    return {
        stack,
        dir,
        backend,
        env: tcEnv,
        async cleanup() {
            await stack.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
            if (opts.workDir) fs.rmSync(path.join(dir, `Pulumi.${stackName}.yaml`), { force: true });
            else fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(backend, { recursive: true, force: true });
        },
    };
}

/**
 * The file backend's metadata sidecars (`<stack>.json.attrs`) that do not
 * parse. gocloud's fileblob writes the checkpoint to a temporary file and
 * renames it, but writes this sidecar in place (os.Create, then the JSON):
 * a kill between the two leaves it empty, and every command then fails with
 * "failed to load checkpoint: EOF". It holds only the content type and an
 * MD5, and a missing one reads as defaults, so removing it is the repair
 * (README, "pulumi was killed mid-update").
 */
export function brokenSidecars(backend: string): string[] {
    const root = path.join(backend, ".pulumi", "stacks");
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".attrs"))
        .map((f) => path.join(root, f))
        .filter((f) => {
            try {
                JSON.parse(fs.readFileSync(f, "utf8"));
                return false;
            } catch {
                return true;
            }
        });
}

/**
 * `pulumi stack export` as a user runs it. The Automation API's exportStack
 * adds --show-secrets, which would hide exactly the leak a test looks for.
 */
export async function exportAsUser(t: TestStack): Promise<string> {
    const r = await execArgv([path.join(toolchainDir(), "bin", "pulumi"), "stack", "export", "--stack", "e2e", "--cwd", t.dir],
        { env: { ...process.env, ...t.env } });
    return r.stdout;
}

/** Steps of a preview or refresh other than "same": what a user would see as changes. */
export function changes(summary: Record<string, number> | undefined): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(summary ?? {})) if (k !== "same" && v) out[k] = v;
    return out;
}
