/**
 * The host's claims (provider/kinds/claims.ts) for unit tests: the claim
 * scripts take their directory as an argument, so a scripted host runs the
 * very scripts the kinds send, locally, on a temporary directory that stands
 * in for /run/routed-overlay/claims.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CLAIMS_DIR } from "../../provider/kinds/claims";
import { execArgv, ExecResult } from "../../provider/transport/exec";

export interface ClaimsDir {
    /** The claim files as owner → sorted keys. */
    read(): Record<string, string[]>;
    /** Writes a claim file as another run or stack would have. */
    put(owner: string, keys: string[]): void;
    /**
     * Runs a claims command, or leaves it to the caller (undefined). A command
     * that follows the claims (changeClaims' `then`) is answered by `then`,
     * the scripted host's, instead of running here: the script runs `cat` of
     * its answer in its place.
     */
    run(argv: readonly string[], input?: string, then?: (argv: readonly string[]) => ExecResult): Promise<ExecResult> | undefined;
    /** Whether the directory and its parent are gone (the host left as it was). */
    gone(): boolean;
    dispose(): void;
}

export function claimsDir(): ClaimsDir {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ro-claims-"));
    const dir = path.join(root, "routed-overlay", "claims");
    let n = 0;
    return {
        read() {
            if (!fs.existsSync(dir)) return {};
            return Object.fromEntries(fs.readdirSync(dir).filter((f) => !f.startsWith("."))
                .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).sort()]));
        },
        put(owner, keys) {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, owner), keys.map((k) => `${k}\n`).join(""));
        },
        run(argv, input, then) {
            if (argv[0] !== "sh" || argv[4] !== CLAIMS_DIR) return undefined;
            let tail = argv.slice(7);
            let stderr = "";
            if (tail.length && then) {
                const answer = then(tail);
                const file = path.join(root, `then-${n++}`);
                fs.writeFileSync(file, answer.stdout);
                stderr = answer.stderr;
                tail = ["cat", file];
            }
            return execArgv([...argv.slice(0, 4), dir, ...argv.slice(5, 7), ...tail], { input, allowFailure: true })
                .then((r) => ({ ...r, stdout: r.stdout.split(dir).join(CLAIMS_DIR), stderr: r.stderr + stderr }));
        },
        gone: () => !fs.existsSync(path.dirname(dir)),
        dispose: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}
