#!/usr/bin/env node
/**
 * `node datapath-controller.js STATE_DIR`: started by the lab beside its
 * kube-apiserver, stopped with it. Polls the Subnet objects and the nodes'
 * datapaths twice a second and, as Kube-OVN's controller does:
 * - keeps the lab datapath's egress steering (lab/datapath.ts) in line with
 *   them, as Kube-OVN keeps OVN's policy routes;
 * - moves a centralized subnet's egress to the next gateway node when the
 *   active one's datapath fails, and back when it recovers, and writes the
 *   active node to status.activateGateway.
 * It also relays the API server's port from the lab's management address,
 * where the lab hosts reach it (the API server itself listens on loopback).
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { activateGatewayStatus, applyEgress, healthyNodes, planEgress, SubnetObject } from "./datapath";
import { buildTopology, LabOptions } from "./topology";
import { API_PORT, apiRequest } from "./kube";

const stateDir = process.argv[2];
if (!stateDir) {
    console.error("usage: datapath-controller STATE_DIR");
    process.exit(2);
}
const kubeDir = path.join(stateDir, "kube");
const API = `https://127.0.0.1:${API_PORT}/apis/kubeovn.io/v1/subnets`;

async function call(method: "GET" | "PATCH", url: string, mergePatch?: unknown): Promise<string> {
    const token = fs.readFileSync(path.join(kubeDir, "tokens.csv"), "utf8").split(",")[0];
    const r = await apiRequest(url, { method, token, caFile: path.join(kubeDir, "ca.crt"), mergePatch });
    if (r.status !== 200) throw new Error(`${method} ${url}: ${r.status ? `HTTP ${r.status}: ${r.body.slice(0, 200)}` : "no answer"}`);
    return r.body;
}

const listSubnets = async () => (JSON.parse(await call("GET", API)) as { items: SubnetObject[] }).items;

const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);
let applied: string | undefined;
let lastError = "";

async function tick() {
    const stateFile = path.join(stateDir, "state.json");
    if (!fs.existsSync(stateFile)) return;
    const t = buildTopology((JSON.parse(fs.readFileSync(stateFile, "utf8")) as { options: LabOptions }).options);
    relay(t.mgmtLink.address);
    const subnets = await listSubnets();
    const healthy = await healthyNodes(t);
    for (const [name, active] of activateGatewayStatus(subnets, t, healthy)) {
        const s = subnets.find((x) => x.metadata.name === name)!;
        if ((s.status?.activateGateway ?? "") === active) continue;
        await call("PATCH", `${API}/${name}/status`, { status: { activateGateway: active } });
        log(`subnet ${name}: activateGateway ${JSON.stringify(s.status?.activateGateway ?? "")} -> ${JSON.stringify(active)}`);
    }
    const plan = planEgress(subnets, t, healthy);
    const key = JSON.stringify(plan);
    if (key === applied) return;
    applied = undefined;
    await applyEgress(plan, t);
    applied = key;
    log(`egress steering: ${plan.length === 0 ? "none" : plan.map((p) => `${p.netns} from ${p.cidr} via ${p.via.join("+")}`).join("; ")}`);
}

let relaying = false;

/**
 * The API server's port on the management address, piped to loopback (TLS
 * passes through; the certificate names both addresses). Started once the
 * management link exists, which the lab makes before its API server.
 */
function relay(address: string) {
    if (relaying) return;
    relaying = true;
    const server = net.createServer((c) => {
        const up = net.connect(API_PORT, "127.0.0.1");
        c.pipe(up).pipe(c);
        const close = () => { c.destroy(); up.destroy(); };
        c.on("error", close);
        up.on("error", close);
    });
    server.on("error", (e) => {
        relaying = false;
        log(`relay ${address}:${API_PORT}: ${e.message} (retrying)`);
    });
    server.listen(API_PORT, address, () => log(`relaying ${address}:${API_PORT} to the API server`));
}

async function main() {
    log("lab datapath controller started");
    for (;;) {
        try {
            await tick();
            lastError = "";
        } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            // The API server restarts with the lab; say each distinct failure once.
            if (msg !== lastError) log(`error (retrying): ${msg}`);
            lastError = msg;
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

process.on("SIGTERM", () => process.exit(0));
void main();
