/**
 * A local Kubernetes API for the lab: Debian's etcd and the toolchain's
 * kube-apiserver and kube-controller-manager on loopback, token auth, the
 * upstream CRDs installed.
 */
import * as fs from "fs";
import * as path from "path";
import * as crypto from "crypto";
import { spawn } from "child_process";
import * as https from "https";
import { execArgv } from "../provider/transport/exec";
import { toolchainBin } from "./toolchain";
import { MGMT_ADDRESS } from "./topology";

export interface KubeInfo {
    server: string;
    /** The API server as the lab's hosts reach it: the management address, relayed by the datapath controller. */
    hostServer: string;
    kubeconfig: string;
    token: string;
    /** A token of user "gateway-reader", with no rights until a program grants some (RBAC). */
    readerToken: string;
    caFile: string;
    version: string;
}

const ETCD_CLIENT = "127.0.0.1:23790";
const ETCD_PEER = "127.0.0.1:23800";
export const API_PORT = 16443;
const SAN = `subjectAltName=IP:127.0.0.1,IP:${MGMT_ADDRESS},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n`;
// Not upstream's 10257, which a cluster on this machine may already use.
const KCM_PORT = 16457;
const CRD_DIR = path.resolve(__dirname, "..", "..", "lab", "crds");

type Log = (msg: string) => void;

/** What each daemon's command line contains, so that a pid reused by another process is not signalled. */
const DAEMONS: Record<string, string> = {
    etcd: "etcd", apiserver: "kube-apiserver", "controller-manager": "kube-controller-manager", datapath: "datapath-controller.js",
};
const CONTROLLER = path.join(__dirname, "datapath-controller.js");

/** The recorded pid if it is still our daemon. */
function pidAlive(pidFile: string): number | undefined {
    if (!fs.existsSync(pidFile)) return undefined;
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    const mark = DAEMONS[path.basename(pidFile, ".pid")];
    try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv.slice(0, 2).some((a) => path.basename(a) === mark) ? pid : undefined;
    } catch {
        return undefined;
    }
}

function startDetached(argv: string[], logFile: string, pidFile: string) {
    const fd = fs.openSync(logFile, "a");
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
    child.unref();
    fs.closeSync(fd);
    fs.writeFileSync(pidFile, String(child.pid));
}

async function ensureCerts(dir: string) {
    const ca = path.join(dir, "ca.crt");
    const san = path.join(dir, "san.ext");
    // A lab made before the certificate named the management address gets a new one.
    if (fs.existsSync(ca) && fs.existsSync(san) && fs.readFileSync(san, "utf8") === SAN) return;
    const o = (...a: string[]) => execArgv(["openssl", ...a]);
    await o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=routed-overlay-lab-ca",
        "-keyout", path.join(dir, "ca.key"), "-out", ca);
    await o("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
        "-keyout", path.join(dir, "apiserver.key"), "-out", path.join(dir, "apiserver.csr"));
    fs.writeFileSync(san, SAN);
    await o("x509", "-req", "-in", path.join(dir, "apiserver.csr"), "-CA", ca, "-CAkey", path.join(dir, "ca.key"),
        "-CAcreateserial", "-days", "3650", "-extfile", path.join(dir, "san.ext"), "-out", path.join(dir, "apiserver.crt"));
    await o("genrsa", "-out", path.join(dir, "sa.key"), "2048");
    await o("rsa", "-in", path.join(dir, "sa.key"), "-pubout", "-out", path.join(dir, "sa.pub"));
}

async function waitFor(what: string, logFile: string, probe: () => Promise<boolean>, seconds: number) {
    const deadline = Date.now() + seconds * 1000;
    while (!(await probe())) {
        if (Date.now() > deadline) {
            const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "";
            throw new Error(`lab: ${what} not ready after ${seconds} s; last lines of ${logFile}:\n${tail}`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}

/**
 * One request to the lab's API server, for the lab's own controller and its tests (programs go
 * through @pulumi/kubernetes): status and body, or status 0 when no answer came in time.
 */
export function apiRequest(url: string, o: { token: string; caFile: string; method?: "GET" | "PATCH"; mergePatch?: unknown; timeoutMs?: number }): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${o.token}` };
    if (o.mergePatch !== undefined) headers["Content-Type"] = "application/merge-patch+json";
    return new Promise((resolve) => {
        const req = https.request(url, { method: o.method ?? "GET", ca: fs.readFileSync(o.caFile), headers, timeout: o.timeoutMs ?? 3000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve({ status: 0, body: "" }));
        req.end(o.mergePatch === undefined ? undefined : JSON.stringify(o.mergePatch));
    });
}

async function httpOk(url: string, token?: string, caFile?: string): Promise<boolean> {
    const args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2"];
    if (caFile) args.push("--cacert", caFile);
    if (token) args.push("-H", `Authorization: Bearer ${token}`);
    args.push(url);
    const r = await execArgv(args, { allowFailure: true });
    return r.stdout.trim() === "200";
}

export async function startKube(stateDir: string, log: Log): Promise<KubeInfo> {
    const apiserver = toolchainBin("kube-apiserver");
    const kubectl = toolchainBin("kubectl");
    const dir = path.join(stateDir, "kube");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await ensureCerts(dir);
    const tokenFile = path.join(dir, "tokens.csv");
    if (!fs.existsSync(tokenFile) || !fs.readFileSync(tokenFile, "utf8").includes(",gateway-reader,")) {
        const lines = [`${crypto.randomBytes(24).toString("hex")},admin,admin,system:masters`, `${crypto.randomBytes(24).toString("hex")},gateway-reader,gateway-reader`];
        fs.writeFileSync(tokenFile, `${lines.join("\n")}\n`, { mode: 0o600 });
    }
    const [token, readerToken] = fs.readFileSync(tokenFile, "utf8").trim().split("\n").map((l) => l.split(",")[0]);
    const caFile = path.join(dir, "ca.crt");
    const server = `https://127.0.0.1:${API_PORT}`;

    if (!pidAlive(path.join(dir, "etcd.pid"))) {
        log("lab: starting etcd on loopback");
        startDetached(["etcd", "--name", "lab", "--data-dir", path.join(dir, "etcd"),
            "--listen-client-urls", `http://${ETCD_CLIENT}`, "--advertise-client-urls", `http://${ETCD_CLIENT}`,
            "--listen-peer-urls", `http://${ETCD_PEER}`, "--initial-advertise-peer-urls", `http://${ETCD_PEER}`,
            "--initial-cluster", `lab=http://${ETCD_PEER}`, "--log-level", "warn"],
            path.join(dir, "etcd.log"), path.join(dir, "etcd.pid"));
        await waitFor("etcd", path.join(dir, "etcd.log"), () => httpOk(`http://${ETCD_CLIENT}/health`), 30);
    }
    if (!pidAlive(path.join(dir, "apiserver.pid"))) {
        log("lab: starting kube-apiserver on loopback");
        startDetached([apiserver,
            "--etcd-servers", `http://${ETCD_CLIENT}`,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String(API_PORT),
            "--tls-cert-file", path.join(dir, "apiserver.crt"), "--tls-private-key-file", path.join(dir, "apiserver.key"),
            "--client-ca-file", caFile,
            "--token-auth-file", tokenFile, "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", path.join(dir, "sa.pub"),
            "--service-account-signing-key-file", path.join(dir, "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            "--enable-priority-and-fairness=false",
            "--v", "1"],
            path.join(dir, "apiserver.log"), path.join(dir, "apiserver.pid"));
        await waitFor("kube-apiserver", path.join(dir, "apiserver.log"), () => httpOk(`${server}/readyz`, token, caFile), 90);
    }
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: lab",
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority: ${caFile}`,
        "users:",
        "- name: admin",
        "  user:",
        `    token: ${token}`,
        "contexts:",
        "- name: lab",
        "  context: {cluster: lab, user: admin}",
        "current-context: lab",
        "",
    ].join("\n"), { mode: 0o600 });
    const kc = (...a: string[]) => execArgv([kubectl, "--kubeconfig", kubeconfig, ...a], { context: "lab: kubectl" });
    const crds = fs.readdirSync(CRD_DIR).filter((f) => f.endsWith(".yaml")).sort();
    await kc("apply", "--server-side", ...crds.flatMap((f) => ["-f", path.join(CRD_DIR, f)]));
    await kc("wait", "--for", "condition=Established", "--timeout", "60s", "crd/subnets.kubeovn.io",
        "crd/routeconfigurations.networking.liqo.io", "crd/firewallconfigurations.networking.liqo.io");
    // After the CRDs: the garbage collector discovers them at start instead of at its next discovery resync (30 s).
    await startControllerManager(dir, kubeconfig, caFile, log);
    // Liqo's namespaces, as on a cluster where Liqo is installed and peered with Milan (seed 004): programs
    // and tests expect them to exist, as they would expect of a real cluster, rather than create them.
    for (const ns of ["liqo", "liqo-tenant-milan"]) {
        await execArgv([kubectl, "--kubeconfig", kubeconfig, "create", "namespace", ns], { allowFailure: true });
    }
    if (!pidAlive(path.join(dir, "datapath.pid"))) {
        // Kube-OVN's reaction to Subnets (centralized gateway egress), see lab/datapath.ts.
        startDetached([process.execPath, CONTROLLER, path.resolve(stateDir)], path.join(dir, "datapath.log"), path.join(dir, "datapath.pid"));
    }
    const version = JSON.parse((await kc("version", "-o", "json")).stdout).serverVersion.gitVersion as string;
    log(`lab: Kubernetes API ${version} at ${server} with ${crds.length} upstream CRDs`);
    return { server, hostServer: `https://${MGMT_ADDRESS}:${API_PORT}`, kubeconfig, token, readerToken, caFile, version };
}

/**
 * The garbage collector (foreground deletion: it removes the foregroundDeletion finalizer once an object's
 * dependents are gone) and the namespace controller (it empties a terminating namespace and removes its
 * finalizer); without them such deletions wait forever, unlike on a real cluster.
 */
async function startControllerManager(dir: string, kubeconfig: string, caFile: string, log: Log) {
    const pidFile = path.join(dir, "controller-manager.pid");
    const logFile = path.join(dir, "controller-manager.log");
    if (pidAlive(pidFile)) return;
    log("lab: starting kube-controller-manager on loopback");
    startDetached([toolchainBin("kube-controller-manager"),
        "--kubeconfig", kubeconfig,
        // The admin token for every controller: per-controller service accounts would need the token controllers too.
        "--use-service-account-credentials=false",
        "--controllers", "garbagecollector,namespace",
        "--leader-elect=false",
        // Served only for the readiness probe (/healthz needs no authentication), with the API server's
        // certificate (the lab CA's, for 127.0.0.1) so that the probe verifies it. No delegated authentication:
        // it would look up a request-header CA that the lab's API server does not have, and log that endlessly.
        "--bind-address", "127.0.0.1", "--secure-port", String(KCM_PORT),
        "--tls-cert-file", path.join(dir, "apiserver.crt"), "--tls-private-key-file", path.join(dir, "apiserver.key"),
        "--v", "1"],
        logFile, pidFile);
    await waitFor("kube-controller-manager", logFile, () => httpOk(`https://127.0.0.1:${KCM_PORT}/healthz`, undefined, caFile), 60);
}

export async function stopKube(stateDir: string, log: Log): Promise<void> {
    const dir = path.join(stateDir, "kube");
    for (const name of ["datapath", "controller-manager", "apiserver", "etcd"]) {
        const pidFile = path.join(dir, `${name}.pid`);
        const pid = pidAlive(pidFile);
        if (pid) {
            process.kill(pid, "SIGTERM");
            for (let i = 0; i < 100 && pidAlive(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
            if (pidAlive(pidFile)) process.kill(pid, "SIGKILL");
            log(`lab: stopped ${name}`);
        }
        fs.rmSync(pidFile, { force: true });
    }
    // etcd's data is the lab's cluster state: a new lab starts from an empty API.
    fs.rmSync(path.join(dir, "etcd"), { recursive: true, force: true });
}
