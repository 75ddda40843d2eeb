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
    /** Runs a claims command (true) or leaves it to the caller (undefined). */
    run(argv: readonly string[], input?: string): Promise<ExecResult> | undefined;
    /** Whether the directory and its parent are gone (the host left as it was). */
    gone(): boolean;
    dispose(): void;
}

export function claimsDir(): ClaimsDir {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ro-claims-"));
    const dir = path.join(root, "routed-overlay", "claims");
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
        run(argv, input) {
            if (argv[0] !== "sh" || argv[4] !== CLAIMS_DIR) return undefined;
            return execArgv([...argv.slice(0, 4), dir, ...argv.slice(5)], { input, allowFailure: true })
                .then((r) => ({ ...r, stdout: r.stdout.split(dir).join(CLAIMS_DIR) }));
        },
        gone: () => !fs.existsSync(path.dirname(dir)),
        dispose: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}
