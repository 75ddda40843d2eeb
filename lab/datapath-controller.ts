#!/usr/bin/env node
/**
 * `node datapath-controller.js STATE_DIR`: started by the lab beside its
 * kube-apiserver, stopped with it. Polls the Subnet objects once a second
 * and keeps the lab datapath's egress steering (lab/datapath.ts) in line
 * with them, as Kube-OVN's controller keeps OVN's policy routes.
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { applyEgress, planEgress, SubnetObject } from "./datapath";
import { buildTopology, LabOptions } from "./topology";

const stateDir = process.argv[2];
if (!stateDir) {
    console.error("usage: datapath-controller STATE_DIR");
    process.exit(2);
}
const kubeDir = path.join(stateDir, "kube");
const API = "https://127.0.0.1:16443/apis/kubeovn.io/v1/subnets";

function listSubnets(): Promise<SubnetObject[]> {
    const token = fs.readFileSync(path.join(kubeDir, "tokens.csv"), "utf8").split(",")[0];
    const ca = fs.readFileSync(path.join(kubeDir, "ca.crt"));
    return new Promise((resolve, reject) => {
        const req = https.get(API, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 3000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => {
                if (res.statusCode !== 200) return reject(new Error(`GET subnets: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
                resolve((JSON.parse(body) as { items: SubnetObject[] }).items);
            });
        });
        req.on("timeout", () => req.destroy(new Error("GET subnets: timeout")));
        req.on("error", reject);
    });
}

const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);
let applied: string | undefined;
let lastError = "";

async function tick() {
    const stateFile = path.join(stateDir, "state.json");
    if (!fs.existsSync(stateFile)) return;
    const t = buildTopology((JSON.parse(fs.readFileSync(stateFile, "utf8")) as { options: LabOptions }).options);
    const plan = planEgress(await listSubnets(), t);
    const key = JSON.stringify(plan);
    if (key === applied) return;
    applied = undefined;
    await applyEgress(plan, t);
    applied = key;
    log(`egress steering: ${plan.length === 0 ? "none" : plan.map((p) => `${p.netns} from ${p.cidr} via ${p.via.join("+")}`).join("; ")}`);
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
        await new Promise((r) => setTimeout(r, 1000));
    }
}

process.on("SIGTERM", () => process.exit(0));
void main();
