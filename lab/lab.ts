/**
 * `lab up` / `lab down`: the seed topology in network namespaces with real
 * sshd, FRR and a local Kubernetes API. Everything it creates is recorded in
 * .lab/state.json so that `down` removes exactly that and nothing else.
 */
import * as fs from "fs";
import * as path from "path";
import { execArgv } from "../provider/transport/exec";
import { addressOf, allNetns, buildTopology, DEFAULT_OPTIONS, HostSpec, LabOptions, Topology } from "./topology";
import { startKube, stopKube, KubeInfo } from "./kube";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_STATE_DIR = process.env.RO_LAB_DIR ?? path.join(REPO_ROOT, ".lab");

export interface LabHostInfo {
    name: string;
    role: HostSpec["role"];
    netns: string;
    ssh: { host: string; port: number; user: string; hostKey: string };
    /** A process living in the host's namespaces, for entering them (hostExec). */
    keeperPid: number;
    interfaces: Record<string, string>;
    node?: {
        index: number;
        ovsNetns: string;
        ovn0: string;
        pods: { name: string; netns: string; addresses: string[] }[];
    };
}

/** The lab description that tests and examples read (.lab/lab.json). */
export interface LabInfo {
    version: 1;
    stateDir: string;
    ssh: { user: string; privateKeyPath: string; knownHostsPath: string };
    mgmt: { cidr: string; localAddress: string };
    podCidrs: string[];
    hosts: Record<string, LabHostInfo>;
    kubernetes?: KubeInfo;
}

interface LabState {
    netns: string[];
    options: LabOptions;
}

type Log = (msg: string) => void;

const ip = (...args: string[]) => execArgv(["ip", ...args]);
const nsExec = (netns: string, ...argv: string[]) => execArgv(["ip", "netns", "exec", netns, ...argv]);

async function existingNetns(): Promise<Set<string>> {
    const r = await execArgv(["ip", "-j", "netns", "list"], { allowFailure: true });
    const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]) : [];
    return new Set(list.map((n) => n.name));
}

function readState(stateDir: string): LabState | undefined {
    const f = path.join(stateDir, "state.json");
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as LabState) : undefined;
}

export function readLabInfo(stateDir = DEFAULT_STATE_DIR): LabInfo {
    const f = path.join(stateDir, "lab.json");
    if (!fs.existsSync(f)) {
        throw new Error(`no lab description at ${f}: run \`npm run lab -- up\` first`);
    }
    return JSON.parse(fs.readFileSync(f, "utf8")) as LabInfo;
}

/** True when a process (the host's sshd and daemons) still runs in the namespace. */
async function hasProcesses(netns: string): Promise<boolean> {
    const r = await execArgv(["ip", "netns", "pids", netns], { allowFailure: true });
    return r.code === 0 && r.stdout.trim().length > 0;
}

/** True when every namespace and host daemon recorded for the lab is present. */
export async function labIsUp(stateDir = DEFAULT_STATE_DIR): Promise<boolean> {
    const state = readState(stateDir);
    if (!state || !fs.existsSync(path.join(stateDir, "lab.json"))) return false;
    const have = await existingNetns();
    if (!state.netns.every((n) => have.has(n))) return false;
    const info = readLabInfo(stateDir);
    for (const h of Object.values(info.hosts)) {
        if (!(await hasProcesses(h.netns))) return false;
        // A lab from an older checkout has no keeper process to enter the host by.
        if (!h.keeperPid || !fs.existsSync(`/proc/${h.keeperPid}`)) return false;
    }
    return true;
}

export interface UpOptions extends Partial<LabOptions> {
    /** Start etcd and kube-apiserver too (default true). */
    kube?: boolean;
}

export async function labUp(up: UpOptions = {}, log: Log = console.log, stateDir = DEFAULT_STATE_DIR): Promise<LabInfo> {
    const { kube = true, ...opts } = up;
    const options = { ...DEFAULT_OPTIONS, ...opts };
    const prev = readState(stateDir);
    if (prev && JSON.stringify(prev.options) === JSON.stringify(options) && (await labIsUp(stateDir))) {
        log("lab: already up");
        const info = readLabInfo(stateDir);
        if (kube) {
            info.kubernetes = await startKube(stateDir, log); // restarts the API server if it died
            writeInfo(stateDir, info);
        }
        return info;
    }
    if (prev) {
        log("lab: a previous lab is partly up or differs; bringing it down first");
        await labDown(log, stateDir);
    }
    const t = buildTopology(options);
    const have = await existingNetns();
    const clash = allNetns(t).filter((n) => have.has(n));
    if (clash.length > 0) {
        throw new Error(`lab: network namespaces ${clash.join(", ")} exist but are not recorded in ${stateDir}/state.json; remove them yourself (ip netns del NAME) if they are a lab's leftovers`);
    }
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const state: LabState = { netns: [], options };
    const save = () => fs.writeFileSync(path.join(stateDir, "state.json"), JSON.stringify(state, null, 2));
    save();

    log(`lab: creating ${allNetns(t).length} network namespaces`);
    for (const ns of allNetns(t)) {
        await ip("netns", "add", ns);
        state.netns.push(ns);
        save();
        await ip("-n", ns, "link", "set", "lo", "up");
    }
    await wire(t, log);
    const keys = await ensureKeys(stateDir, t);
    log("lab: starting sshd on every host" + (t.hosts.some((h) => h.role === "router") ? " and FRR on the router" : ""));
    const keepers: Record<string, number> = {};
    for (const h of t.hosts) {
        keepers[h.name] = await startHost(stateDir, h);
    }
    await waitForSsh(t, log, stateDir);

    const info: LabInfo = {
        version: 1,
        stateDir,
        ssh: { user: "root", privateKeyPath: keys.userKey, knownHostsPath: keys.knownHosts },
        mgmt: { cidr: t.mgmtLink.cidr, localAddress: t.mgmtLink.address },
        podCidrs: options.podCidrs.map((c) => c.cidr),
        hosts: {},
    };
    for (const h of t.hosts) {
        info.hosts[h.name] = {
            name: h.name,
            role: h.role,
            netns: h.netns,
            ssh: { host: h.mgmt, port: 22, user: "root", hostKey: keys.hostKeys[h.name] },
            keeperPid: keepers[h.name],
            interfaces: h.interfaces,
            node: h.node && {
                index: h.node.index,
                ovsNetns: h.node.ovsNetns,
                ovn0: h.node.ovn0,
                pods: h.node.pods.map((p) => ({ name: p.name, netns: p.netns, addresses: p.addresses })),
            },
        };
    }
    writeInfo(stateDir, info);
    if (kube) {
        info.kubernetes = await startKube(stateDir, log);
        writeInfo(stateDir, info);
    }
    log(`lab: up (${t.hosts.length} hosts; description in ${path.join(stateDir, "lab.json")})`);
    return info;
}

function writeInfo(stateDir: string, info: LabInfo) {
    fs.writeFileSync(path.join(stateDir, "lab.json"), JSON.stringify(info, null, 2));
}

/** A veth pair between two lab namespaces, created in the first with the peer placed at creation. */
async function veth(aNs: string, aName: string, bNs: string, bName: string) {
    await ip("-n", aNs, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", bNs);
    await ip("-n", aNs, "link", "set", aName, "up");
    await ip("-n", bNs, "link", "set", bName, "up");
}

async function bridge(ns: string) {
    await ip("-n", ns, "link", "add", "br0", "type", "bridge");
    await ip("-n", ns, "link", "set", "br0", "up");
}

async function sysctl(ns: string, key: string, value: string) {
    await nsExec(ns, "sysctl", "-q", "-w", `${key}=${value}`);
}

async function wire(t: Topology, log: Log) {
    log("lab: wiring the management network, the 192.168.2.0/24 segment, the router and the node datapaths");
    await bridge(t.mgmtNetns);
    await bridge(t.switchNetns);
    // The only change in the machine's own namespace: one veth end in 198.18.0.0/24.
    await ip("link", "add", t.mgmtLink.name, "type", "veth", "peer", "name", "up0", "netns", t.mgmtNetns);
    await ip("link", "set", t.mgmtLink.name, "up");
    await ip("-n", t.mgmtNetns, "link", "set", "up0", "master", "br0", "up");
    await ip("addr", "add", `${t.mgmtLink.address}/24`, "dev", t.mgmtLink.name);

    for (const h of t.hosts) {
        await veth(t.mgmtNetns, `h-${h.name}`, h.netns, "mgmt0");
        await ip("-n", t.mgmtNetns, "link", "set", `h-${h.name}`, "master", "br0");
        await ip("-n", h.netns, "addr", "add", `${h.mgmt}/24`, "dev", "mgmt0");
    }
    const router = t.hosts.find((h) => h.role === "router")!;
    const remote = t.hosts.find((h) => h.role === "remote")!;
    for (const h of t.hosts) {
        if (h === remote) continue;
        await veth(t.switchNetns, `s-${h.name}`, h.netns, "eth0");
        await ip("-n", t.switchNetns, "link", "set", `s-${h.name}`, "master", "br0");
        await ip("-n", h.netns, "addr", "add", h.interfaces.eth0, "dev", "eth0");
    }
    await veth(router.netns, "eth1", remote.netns, "eth0");
    await ip("-n", router.netns, "addr", "add", router.interfaces.eth1, "dev", "eth1");
    await ip("-n", remote.netns, "addr", "add", remote.interfaces.eth0, "dev", "eth0");
    await sysctl(router.netns, "net.ipv4.ip_forward", "1");
    await ip("-n", remote.netns, "route", "add", "default", "via", addressOf(router.interfaces.eth1));
    for (const h of t.hosts) {
        if (h.role === "node" || h.role === "peer") {
            await ip("-n", h.netns, "route", "add", "default", "via", addressOf(router.interfaces.eth0));
        }
    }
    const nodes = t.hosts.filter((h) => h.node);
    for (const h of nodes) {
        await wireNode(t, h, nodes);
    }
}

/**
 * One node's stand-in for Kube-OVN: the host keeps ip_forward at the kernel
 * default (0) and gets FORWARD rules like a typical Kubernetes host (policy
 * DROP, INVALID dropped), so the seed's prerequisites are really needed.
 */
async function wireNode(t: Topology, h: HostSpec, nodes: HostSpec[]) {
    const n = h.node!;
    const ovs = n.ovsNetns;
    // The same for links made later in the node's namespace, such as a fabric's VXLAN link (see tun0 below).
    await sysctl(h.netns, "net.ipv6.conf.default.disable_ipv6", "1");
    await veth(h.netns, "ovn0", ovs, "ovn0");
    await ip("-n", h.netns, "addr", "add", n.ovn0, "dev", "ovn0");
    await ip("-n", ovs, "addr", "add", `${t.datapathGateway}/16`, "dev", "ovn0");
    for (const c of t.options.podCidrs) {
        await ip("-n", h.netns, "route", "add", c.cidr, "via", t.datapathGateway, "dev", "ovn0");
    }
    await sysctl(ovs, "net.ipv4.ip_forward", "1");
    await sysctl(ovs, "net.ipv4.conf.all.rp_filter", "0");
    await ip("-n", ovs, "route", "add", "default", "via", addressOf(n.ovn0), "dev", "ovn0");
    // The tunnel's UDP socket stays in the host namespace (created there, then moved), like Geneve on a node's eth0.
    await ip("-n", h.netns, "link", "add", "tun0", "type", "vxlan", "id", String(t.tunnel.vni), "dstport", String(t.tunnel.port),
        "local", addressOf(h.interfaces.eth0), "dev", "eth0", "nolearning");
    await ip("-n", h.netns, "link", "set", "tun0", "netns", ovs);
    // IPv4 only, for the size of the neighbour table: every multicast a link sends (IPv6 DAD, router
    // solicitations, MLD) is flooded to every other node by the all-zero FDB entries, and each node then
    // resolves every other node's underlay address. The kernel keeps one ARP table for all namespaces,
    // capped by gc_thresh3 (1024) of the machine's own namespace, which the lab does not touch: at 64
    // nodes those 64 × 63 entries overflowed it, and the machine's SSH to a lab host failed with
    // EHOSTUNREACH. On separate machines each would hold 63.
    await sysctl(ovs, "net.ipv6.conf.tun0.disable_ipv6", "1");
    await ip("-n", ovs, "addr", "add", n.tunnelAddress, "dev", "tun0");
    await ip("-n", ovs, "link", "set", "tun0", "up");
    for (const other of nodes) {
        if (other === h) continue;
        await execArgv(["bridge", "-n", ovs, "fdb", "append", "00:00:00:00:00:00", "dev", "tun0", "dst", addressOf(other.interfaces.eth0)]);
    }
    for (const argv of tunnelRoutes(h, nodes)) await ip(...argv);
    for (const p of n.pods) {
        await veth(ovs, p.ovsIf, p.netns, "eth0");
        await sysctl(ovs, `net.ipv4.conf.${p.ovsIf}.proxy_arp`, "1");
        for (const a of p.addresses) {
            await ip("-n", p.netns, "addr", "add", `${a}/32`, "dev", "eth0");
            await ip("-n", ovs, "route", "add", `${a}/32`, "dev", p.ovsIf);
        }
        await ip("-n", p.netns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
        await ip("-n", p.netns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
    }
    await nsExec(h.netns, "iptables", "-P", "FORWARD", "DROP");
    await nsExec(h.netns, "iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
    await nsExec(h.netns, "iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT");
}

interface Keys {
    userKey: string;
    knownHosts: string;
    hostKeys: Record<string, string>;
}

async function ensureKeys(stateDir: string, t: Topology): Promise<Keys> {
    const sshDir = path.join(stateDir, "ssh");
    fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    const userKey = path.join(sshDir, "id_ed25519");
    if (!fs.existsSync(userKey)) {
        await execArgv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "routed-overlay-lab", "-f", userKey]);
    }
    fs.copyFileSync(`${userKey}.pub`, path.join(sshDir, "authorized_keys"));
    const hostKeys: Record<string, string> = {};
    const known: string[] = [];
    for (const h of t.hosts) {
        const dir = path.join(stateDir, "hosts", h.name);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const key = path.join(dir, "ssh_host_ed25519_key");
        if (!fs.existsSync(key)) {
            await execArgv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `lab-${h.name}`, "-f", key]);
        }
        const pub = fs.readFileSync(`${key}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
        hostKeys[h.name] = pub;
        known.push(`${h.mgmt} ${pub}`);
    }
    const knownHosts = path.join(sshDir, "known_hosts");
    fs.writeFileSync(knownHosts, known.join("\n") + "\n");
    return { userKey, knownHosts, hostKeys };
}

/**
 * Every host gets a private mount namespace with its own /run, /etc/keepalived
 * and /etc/frr: the lab's hosts share one filesystem, and keepalived's and
 * FRR's pid files and configs would otherwise collide between them.
 */
async function startHost(stateDir: string, h: HostSpec) {
    const dir = path.join(stateDir, "hosts", h.name);
    for (const d of ["etc-keepalived", "etc-frr"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, "sshd_config"), [
        `ListenAddress ${h.mgmt}`,
        "Port 22",
        `HostKey ${path.join(dir, "ssh_host_ed25519_key")}`,
        `AuthorizedKeysFile ${path.join(stateDir, "ssh", "authorized_keys")}`,
        "PidFile /run/sshd.pid",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "MaxSessions 64",
        "MaxStartups 64:30:128",
        "Subsystem sftp internal-sftp",
        "",
    ].join("\n"));
    const init: string[] = [
        "#!/bin/sh",
        "set -e",
        `hostname ${h.name}`,
        "mount -t tmpfs -o mode=0755 tmpfs /run",
        "mkdir -p /run/sshd /run/keepalived /run/frr",
        "chown frr:frr /run/frr",
        `mount --bind ${path.join(dir, "etc-keepalived")} /etc/keepalived`,
        // bash sources ~/.bashrc when sshd starts it for a command, so the machine's own root
        // .bashrc (on this one, a pyenv init of seconds under load) would run before every SSH
        // command the providers send. A lab host is a fresh host: its root gets an empty one.
        `if [ -f /root/.bashrc ]; then mount --bind ${path.join(dir, "bashrc")} /root/.bashrc; fi`,
    ];
    fs.writeFileSync(path.join(dir, "bashrc"), "# the lab host's root .bashrc (lab/lab.ts)\n", { mode: 0o644 });
    if (h.role === "router") {
        const etcFrr = path.join(dir, "etc-frr");
        fs.writeFileSync(path.join(etcFrr, "daemons"), "zebra=yes\nstaticd=yes\nvtysh_enable=yes\n");
        fs.writeFileSync(path.join(etcFrr, "vtysh.conf"), "service integrated-vtysh-config\n");
        fs.writeFileSync(path.join(etcFrr, "frr.conf"), "frr defaults traditional\nhostname router\nlog syslog informational\n!\n");
        for (const f of ["daemons", "vtysh.conf", "frr.conf"]) fs.chmodSync(path.join(etcFrr, f), 0o644);
        init.push(
            `mount --bind ${etcFrr} /etc/frr`,
            "chown -R frr:frr /etc/frr",
            ...FRR_DAEMONS.map((d) => frrArgv(d).join(" ")),
        );
    }
    // sshd runs as a daemon beside a keeper process, so a test can stop and start it (a host whose
    // sshd is down) while the host's mount namespace, with its /run and configs, stays.
    init.push(sshdArgv(stateDir, h.name).join(" "), "exec sleep infinity");
    const initPath = path.join(dir, "init.sh");
    fs.writeFileSync(initPath, init.join("\n") + "\n", { mode: 0o755 });
    const logFd = fs.openSync(path.join(dir, "init.log"), "a");
    const { spawn } = await import("child_process");
    const child = spawn("ip", ["netns", "exec", h.netns, "unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", initPath], {
        detached: true,
        stdio: ["ignore", logFd, logFd],
    });
    child.unref();
    fs.closeSync(logFd);
    return child.pid!;
}

const FRR_DAEMONS = ["zebra", "staticd"];
const frrArgv = (daemon: string) =>
    [`/usr/lib/frr/${daemon}`, "-d", "-A", "127.0.0.1", "-u", "frr", "-g", "frr", "-f", "/etc/frr/frr.conf", "-i", `/run/frr/${daemon}.pid`];

/** Polls `done` every `ms` until it holds or `tries` run out (what the caller waits for happens at its own pace). */
async function pollUntil(done: () => Promise<boolean>, tries: number, ms: number): Promise<void> {
    for (let i = 0; i < tries && !(await done()); i++) await new Promise((r) => setTimeout(r, ms));
}

function sshdArgv(stateDir: string, host: string): string[] {
    const dir = path.join(stateDir, "hosts", host);
    return ["/usr/sbin/sshd", "-f", path.join(dir, "sshd_config"), "-E", path.join(dir, "sshd.log")];
}

/** Runs argv on a lab host as its own processes see the world: its network, mount and UTS namespaces. */
export function hostExec(info: LabInfo, host: string, argv: string[], opts: { allowFailure?: boolean; input?: string } = {}) {
    const h = info.hosts[host];
    if (!h?.keeperPid) throw new Error(`lab: no host ${host} with a keeper process in ${info.stateDir}/lab.json`);
    return execArgv(["nsenter", "-t", String(h.keeperPid), "-m", "-u", "-n", "--", ...argv], opts);
}

/** Stops a host's sshd (the host stays up): what a provider sees when sshd is down. */
export async function stopSshd(info: LabInfo, host: string): Promise<void> {
    await hostExec(info, host, ["pkill", "-F", "/run/sshd.pid"]);
    await pollUntil(async () => !(await sshAnswers(info.hosts[host].ssh.host)), 100, 50);
}

export async function startSshd(info: LabInfo, host: string): Promise<void> {
    await hostExec(info, host, sshdArgv(info.stateDir, host));
    await pollUntil(() => sshAnswers(info.hosts[host].ssh.host), 200, 50);
}

/**
 * Restarts the router's FRR as a package upgrade or a crash would: zebra
 * withdraws its routes on the way down and starts again from /etc/frr/frr.conf,
 * so whatever was configured only at run time is gone.
 */
export async function restartFrr(info: LabInfo, host = "router"): Promise<void> {
    const answers = async (argv: string[]) => (await hostExec(info, host, argv, { allowFailure: true })).code === 0;
    for (const d of FRR_DAEMONS) await hostExec(info, host, ["pkill", "-F", `/run/frr/${d}.pid`], { allowFailure: true });
    await pollUntil(async () => !(await answers(["pgrep", "-x", FRR_DAEMONS.join("|")])), 100, 50);
    for (const d of FRR_DAEMONS) await hostExec(info, host, frrArgv(d));
    await pollUntil(() => answers(["vtysh", "-c", "show version"]), 100, 100);
}

async function sshAnswers(host: string): Promise<boolean> {
    const net = await import("net");
    return new Promise<boolean>((resolve) => {
        const s = net.connect({ host, port: 22, timeout: 1000 });
        s.once("data", () => { s.destroy(); resolve(true); });
        s.once("error", () => resolve(false));
        s.once("timeout", () => { s.destroy(); resolve(false); });
    });
}

async function waitForSsh(t: Topology, log: Log, stateDir: string) {
    // The sshds start together; at 133 namespaces (64 nodes) on 2 CPUs the last answer takes longer than 20 s.
    const limit = 20 + Math.ceil(t.hosts.length / 2);
    const deadline = Date.now() + limit * 1000;
    for (const h of t.hosts) {
        while (!(await sshAnswers(h.mgmt))) {
            if (Date.now() > deadline) {
                const logFile = path.join(stateDir, "hosts", h.name, "init.log");
                throw new Error(`lab: sshd on ${h.name} (${h.mgmt}:22) did not answer within ${limit} s; see ${logFile}`);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    log("lab: sshd answers on every host");
}

export async function labDown(log: Log = console.log, stateDir = DEFAULT_STATE_DIR): Promise<void> {
    await stopKube(stateDir, log);
    const state = readState(stateDir);
    if (!state) {
        log("lab: nothing to bring down");
        return;
    }
    const have = await existingNetns();
    const mine = state.netns.filter((n) => have.has(n));
    for (const ns of mine) {
        const r = await execArgv(["ip", "netns", "pids", ns], { allowFailure: true });
        for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
            try { process.kill(Number(pid), "SIGKILL"); } catch { /* already gone */ }
        }
    }
    // Give the killed processes a moment to release their namespaces before deleting them.
    for (const ns of mine) await pollUntil(async () => !(await hasProcesses(ns)), 50, 50);
    for (const ns of [...mine].reverse()) {
        await execArgv(["ip", "netns", "del", ns], { allowFailure: true });
    }
    // The management veth lives in the machine's namespace until its peer's namespace is gone.
    await execArgv(["ip", "link", "del", "ro-mgmt0"], { allowFailure: true });
    fs.rmSync(path.join(stateDir, "state.json"), { force: true });
    fs.rmSync(path.join(stateDir, "lab.json"), { force: true });
    log(`lab: down (${mine.length} namespaces removed)`);
}

/**
 * The routes of a node's datapath to the other nodes, over its tunnel. Join
 * addresses are per node, as in Kube-OVN, so a node's traffic to a remote
 * pod gets its reply. The kernel drops them when tun0 goes down.
 */
export function tunnelRoutes(h: HostSpec, nodes: HostSpec[]): string[][] {
    const out: string[][] = [];
    for (const other of nodes) {
        if (other === h) continue;
        const via = ["via", addressOf(other.node!.tunnelAddress), "dev", "tun0"];
        out.push(["-n", h.node!.ovsNetns, "route", "replace", `${addressOf(other.node!.ovn0)}/32`, ...via]);
        for (const p of other.node!.pods) for (const a of p.addresses) out.push(["-n", h.node!.ovsNetns, "route", "replace", `${a}/32`, ...via]);
    }
    return out;
}

/**
 * Fails or repairs a node's datapath, as a broken OVS or tunnel would on a
 * Kube-OVN node: its tunnel goes down (the lab's datapath controller then
 * moves the gateways of centralized subnets away from it), or comes back with
 * its routes.
 */
export async function setDatapath(lab: LabInfo, node: string, state: "up" | "down"): Promise<void> {
    const recorded = readState(lab.stateDir);
    if (!recorded) throw new Error(`lab: no lab recorded in ${lab.stateDir}`);
    const nodes = buildTopology(recorded.options).hosts.filter((x) => x.node);
    const h = nodes.find((x) => x.name === node);
    if (!h) throw new Error(`lab: no node ${node}`);
    await ip("-n", h.node!.ovsNetns, "link", "set", "tun0", state);
    if (state === "up") for (const argv of tunnelRoutes(h, nodes)) await ip(...argv);
}
