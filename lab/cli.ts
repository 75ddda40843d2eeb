#!/usr/bin/env node
/** `lab up [--nodes N] [--pods N] [--no-kube]`, `lab down`, `lab status`, `lab config --stack S [--cwd DIR]`. */
import { labDown, labIsUp, labUp, readLabInfo } from "./lab";
import { configJson, labStackConfig } from "./stack-config";
import { execArgv } from "../provider/transport/exec";

function usage(): never {
    console.error("usage: lab up [--nodes N] [--pods N] [--no-kube] | lab down | lab status | lab config --stack S [--cwd DIR]");
    process.exit(2);
}

async function main(argv: string[]) {
    const [cmd, ...rest] = argv;
    if (process.getuid && process.getuid() !== 0) {
        console.error("lab: needs root (network namespaces, sshd, FRR)");
        process.exit(1);
    }
    switch (cmd) {
        case "up": {
            const opts: { nodes?: number; podsPerNode?: number; kube?: boolean } = {};
            for (let i = 0; i < rest.length; i += 2) {
                const v = Number(rest[i + 1]);
                if (rest[i] === "--no-kube") { opts.kube = false; i--; }
                else if (rest[i] === "--nodes") opts.nodes = v;
                else if (rest[i] === "--pods") opts.podsPerNode = v;
                else usage();
            }
            await labUp(opts);
            return;
        }
        case "down":
            await labDown();
            return;
        case "status": {
            const up = await labIsUp();
            console.log(up ? "up" : "down");
            if (up) {
                const info = readLabInfo();
                for (const h of Object.values(info.hosts)) {
                    console.log(`  ${h.name.padEnd(8)} ${h.role.padEnd(7)} ssh ${h.ssh.host}  ${Object.entries(h.interfaces).map(([k, v]) => `${k} ${v}`).join("  ")}`);
                }
                if (info.kubernetes) console.log(`  kubernetes ${info.kubernetes.version} ${info.kubernetes.server} (kubeconfig ${info.kubernetes.kubeconfig})`);
            }
            process.exit(up ? 0 : 3);
        }
        case "config": {
            // Writes the lab's hosts into a stack's configuration, as a user sets their own (see examples/lib/config.js).
            const flag = (f: string) => (rest.includes(f) ? rest[rest.indexOf(f) + 1] : undefined);
            const stack = flag("--stack");
            if (!stack) usage();
            const argv = ["pulumi", "config", "set-all", "--stack", stack, ...(flag("--cwd") ? ["--cwd", flag("--cwd")!] : []), "--json", configJson(labStackConfig(readLabInfo()))];
            // The argv holds the private key and the kubeconfig: a failure names the command, not its arguments.
            const r = await execArgv(argv, { allowFailure: true });
            if (r.code !== 0) throw new Error(`pulumi config set-all --stack ${stack} exited ${r.code}: ${r.stderr.trim()}`);
            return;
        }
        default:
            usage();
    }
}

main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
