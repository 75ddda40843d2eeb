/**
 * Real packets for the proofs: a TCP server inside a pod's namespace that
 * answers each connection with the source address it sees, and a client on a
 * lab host. One exchange proves reachability, the return path and the
 * absence of NAT at once.
 */
import { spawn } from "child_process";
import { hostExec, LabInfo } from "../../lab/lab";

const SERVER = `
const net = require("net");
const s = net.createServer((c) => c.end(c.remoteAddress + "\\n"));
s.listen(Number(process.argv[1]), "0.0.0.0", () => console.log("ready"));
`;

/** Starts the server in a pod's namespace; resolves with a function that stops it. */
export function whoAmIServer(podNetns: string, port = 7070): Promise<() => void> {
    return new Promise((resolve, reject) => {
        const child = spawn("ip", ["netns", "exec", podNetns, process.execPath, "-e", SERVER, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
        const stop = () => { child.kill("SIGKILL"); };
        child.stdout.once("data", () => resolve(stop));
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`server in ${podNetns} exited ${code}`)));
    });
}

/** Connects from a lab host; the address the pod saw, or undefined when there was no answer. */
export async function sourceSeenBy(lab: LabInfo, fromHost: string, address: string, port = 7070): Promise<string | undefined> {
    // bash's /dev/tcp: the lab hosts need no client tool. Address and port reach the script as $0 and $1.
    const r = await hostExec(lab, fromHost, ["timeout", "3", "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1" && cat <&3', address, String(port)], { allowFailure: true });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}
