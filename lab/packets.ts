/**
 * Real packets for the proofs (tests and the demo): a TCP server inside a pod's namespace that
 * answers each connection with the source address it sees, and a client on a
 * lab host. One exchange proves reachability, the return path and the
 * absence of NAT at once.
 */
import { spawn } from "child_process";
import { hostExec, LabInfo } from "./lab";

const SERVER = `
const net = require("net");
// A client that closes at once (a bare connect test) resets the connection: ignored, not fatal to the server.
const s = net.createServer((c) => { c.on("error", () => undefined); c.end(c.remoteAddress + "\\n"); });
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

export interface Flow {
    /** The lab host whose FORWARD chain counts. */
    host: string;
    src: string;
    dst: string;
}

/**
 * Runs `traffic` with a counting rule (no target, so it changes no verdict)
 * at the top of each host's FORWARD chain, and returns how many packets of
 * each flow that host forwarded meanwhile. The rules are gone afterwards.
 */
export async function forwardedPackets(lab: LabInfo, flows: Flow[], traffic: () => Promise<unknown>): Promise<number[]> {
    const rule = (f: Flow) => ["FORWARD", "-s", f.src, "-d", f.dst, "-m", "comment", "--comment", "lab-probe"];
    for (const f of flows) await hostExec(lab, f.host, ["iptables", "-I", ...rule(f)]);
    try {
        await traffic();
        const counts: number[] = [];
        const listings = new Map<string, string>();
        for (const f of flows) {
            if (!listings.has(f.host)) listings.set(f.host, (await hostExec(lab, f.host, ["iptables", "-v", "-S", "FORWARD"])).stdout);
            const listing = listings.get(f.host)!;
            const line = listing.split("\n").find((l) => l.includes(`-s ${f.src}/32 -d ${f.dst}/32`) && l.includes("lab-probe"));
            const m = line?.match(/-c (\d+) \d+/);
            if (!m) throw new Error(`no counter for ${JSON.stringify(f)} in:\n${listing}`);
            counts.push(Number(m[1]));
        }
        return counts;
    } finally {
        for (const f of flows) await hostExec(lab, f.host, ["iptables", "-D", ...rule(f)], { allowFailure: true });
    }
}

/** The nodes among `nodes` whose `dev` holds `address` now. */
export async function holdersOf(lab: LabInfo, nodes: string[], address: string, dev = "eth0"): Promise<string[]> {
    const out: string[] = [];
    for (const n of nodes) {
        const a = JSON.parse((await hostExec(lab, n, ["ip", "-j", "addr", "show", "dev", dev])).stdout) as { addr_info: { local: string }[] }[];
        if (a[0]?.addr_info.some((i) => i.local === address)) out.push(n);
    }
    return out;
}
