import { spawn } from "child_process";

/** Result of one local process run. */
export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export class ExecError extends Error {
    constructor(public readonly argv: readonly string[], public readonly result: ExecResult, context?: string) {
        super(
            `${context ? context + ": " : ""}${argv.join(" ")} exited ${result.code}: ` +
                (result.stderr.trim() || result.stdout.trim() || "(no output)"),
        );
        this.name = "ExecError";
    }
}

export interface ExecOptions {
    /** Written to the child's stdin, then stdin is closed. */
    input?: string;
    /** Resolve with a non-zero code instead of rejecting. */
    allowFailure?: boolean;
    env?: NodeJS.ProcessEnv;
    /** Used in error messages to say which host or step failed. */
    context?: string;
}

/**
 * Runs argv directly, never through a shell: every value stays one argument,
 * so no input can widen the command.
 */
export function execArgv(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) {
        return Promise.reject(new Error("execArgv: empty argv"));
    }
    return new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), {
            stdio: ["pipe", "pipe", "pipe"],
            env: opts.env ?? process.env,
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", (e) => reject(new Error(`${opts.context ? opts.context + ": " : ""}cannot run ${argv[0]}: ${e.message}`)));
        child.on("close", (code) => {
            const result = { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
            if (result.code !== 0 && !opts.allowFailure) {
                reject(new ExecError(argv, result, opts.context));
            } else {
                resolve(result);
            }
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}
