#!/usr/bin/env node
/**
 * What the demo stack changed, seen from the lab's hosts with real packets:
 * the peer and the remote host reach pod IPs (and the pods see their real
 * addresses), which node holds the VIP, the routes now on the peer and the
 * router, and where cross-cluster traffic goes. Exit code 1 when a pod cannot
 * be reached.
 */
import { hostExec, LabInfo, readLabInfo } from "../lab/lab";
import { sourceSeenBy, whoAmIServer } from "../lab/packets";

const VIP = "192.168.2.250";
const PODS = [
    { netns: "ro-node2-p0", address: "10.166.2.10", node: "node2" },
    { netns: "ro-node3-p0", address: "10.166.3.10", node: "node3" },
];
const CLIENTS = [
    { host: "peer", address: "192.168.2.100", how: "same L2, route via the VIP" },
    { host: "remote", address: "192.168.3.100", how: "behind the router, FRR route via the VIP" },
];

const indent = (text: string) => text.trim().split("\n").map((l) => `    ${l}`).join("\n");

async function run(lab: LabInfo, host: string, argv: string[]) {
    return (await hostExec(lab, host, argv, { allowFailure: true })).stdout;
}

async function main() {
    const lab = readLabInfo();
    let ok = true;
    console.log("\n== proof: pod IPs reachable from outside, by routing ==");
    const stops: (() => void)[] = [];
    try {
        for (const p of PODS) stops.push(await whoAmIServer(p.netns));
        for (const c of CLIENTS) {
            for (const p of PODS) {
                const seen = await sourceSeenBy(lab, c.host, p.address);
                const good = seen === c.address;
                ok &&= good;
                console.log(`  ${good ? "OK  " : "FAIL"} ${c.host} ${c.address} -> pod ${p.address} on ${p.node} (${c.how}): ` +
                    (seen === undefined ? "no answer" : `the pod saw ${seen}${good ? " (its real address, no NAT)" : " (NAT!)"}`));
            }
        }
    } finally {
        stops.forEach((s) => s());
    }

    console.log("\n== the VIP (keepalived VRRP over node1..node3) ==");
    for (const n of Object.values(lab.hosts).filter((h) => h.role === "node")) {
        const addrs = await run(lab, n.name, ["ip", "-br", "-4", "addr", "show", "dev", "eth0"]);
        console.log(`  ${n.name}: ${addrs.includes(`${VIP}/`) ? `holds ${VIP} (MASTER)` : "backup"}`);
    }

    console.log("\n== return routes this stack owns (protocol 214 / FRR tag 214) ==");
    console.log("  peer: ip route show proto 214");
    console.log(indent(await run(lab, "peer", ["ip", "route", "show", "proto", "214"])));
    console.log("  router: FRR running config");
    console.log(indent((await run(lab, "router", ["vtysh", "-c", "show running-config"])).split("\n").filter((l) => l.includes("tag 214")).join("\n")));
    console.log("  router: kernel");
    console.log(indent(await run(lab, "router", ["ip", "route", "show", "10.166.0.0/16"])));

    console.log("\n== the fabric: node3 to the other cluster (10.200.0.0/16) ==");
    console.log(indent(await run(lab, "node3", ["ip", "route", "get", "10.200.0.1"])));
    console.log(indent(await run(lab, "node3", ["bridge", "fdb", "show", "dev", "liqo.vxlan"])));
    console.log(ok ? "\nproof: every pod answered every client with the client's own address" : "\nproof FAILED: see the FAIL lines above");
    process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
