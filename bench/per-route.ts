/**
 * The baselines' providers, run inside the dynamic-provider process.
 *
 * perRoute stands in for the way a Pulumi user adds routes today, one
 * @pulumi/command `remote.Command` per route: each create and delete dials
 * its own SSH connection and runs one command, and refresh does not look at
 * the host. The command plugin cannot be built here (issue 2), so this is
 * the same shape on ssh2: one engine step and one SSH session per route.
 *
 * noop does nothing at all: the engine floor, a stack of the same resources
 * and inputs whose provider never leaves the process.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Client } from "ssh2";
import { commandLine, describe, hostKeyMatches } from "../provider/transport";
import { recordStats, timedOp } from "../provider/stats";

interface CommandInputs {
    connection: { host: string; port?: number; user?: string; privateKey: string; hostKey: string };
    create: string[];
    delete: string[];
}

// remote.Command retries a failed dial (its dialErrorLimit defaults to 10); so does the stand-in.
async function runOnce(c: CommandInputs["connection"], argv: string[]): Promise<void> {
    for (let n = 1; ; n++) {
        try {
            return await dialAndRun(c, argv);
        } catch (e) {
            if (n >= 10 || !(e as { dial?: boolean }).dial) throw e;
            await new Promise((r) => setTimeout(r, 1000));
        }
    }
}

function dialAndRun(c: CommandInputs["connection"], argv: string[]): Promise<void> {
    const t0 = Date.now();
    return new Promise<void>((resolve, reject) => {
        const client = new Client();
        client.once("ready", () => {
            client.exec(commandLine(argv), (err, ch) => {
                if (err) { client.end(); return reject(err); }
                let code = -1;
                const errb: Buffer[] = [];
                ch.on("data", () => undefined);
                ch.stderr.on("data", (b: Buffer) => errb.push(b));
                ch.on("exit", (x: number | null) => { code = x ?? -1; });
                ch.on("close", () => {
                    client.end();
                    recordStats({ ev: "call", host: describe(c), cmd: argv[0], ms: Date.now() - t0 });
                    code === 0 ? resolve() : reject(new Error(`${c.host}: ${argv.join(" ")} exited ${code}: ${Buffer.concat(errb).toString().trim()}`));
                });
                ch.end();
            });
        });
        client.once("error", (e: Error) => reject(Object.assign(e, { dial: true })));
        client.connect({
            host: c.host, port: c.port ?? 22, username: c.user ?? "root", privateKey: c.privateKey, readyTimeout: 30_000,
            hostVerifier: (key: Buffer) => hostKeyMatches(c.hostKey, key),
        });
    });
}

export const perRoute: pulumi.dynamic.ResourceProvider = {
    create: (inputs: CommandInputs) => timedOp("PerRouteCommand", "create", async () => {
        await runOnce(inputs.connection, inputs.create);
        return { id: inputs.create.join(" "), outs: inputs };
    }),
    delete: (_id: string, props: CommandInputs) => timedOp("PerRouteCommand", "delete", () => runOnce(props.connection, props.delete)),
};

export const noop: pulumi.dynamic.ResourceProvider = {
    create: (inputs: Record<string, unknown>) => timedOp("Noop", "create", async () => ({ id: "noop", outs: inputs })),
    delete: () => timedOp("Noop", "delete", async () => undefined),
};

const SELF = __filename;

/**
 * A dynamic provider object that defers to perRoute or noop in the provider
 * process. Only the two strings are captured by the closure serializer; one
 * object per program, so the SDK serializes it once.
 */
export function baselineProvider(which: "perRoute" | "noop"): pulumi.dynamic.ResourceProvider {
    const file = SELF;
    return {
        create: (i) => require(file)[which].create(i),
        delete: (id, p) => require(file)[which].delete(id, p),
    };
}
