import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, exportAsUser, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { holdersOf, sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { apiRequest } from "../../lab/kube";
import { labSnapshot } from "../support/snapshot";
import { hostExec, LabInfo, setDatapath } from "../../lab/lab";
import { failoverBudget, VipNode } from "../../components/render/keepalived";

const VIP = "192.168.2.250";
/** A pod on node3, which is no gateway: requests cross the VIP holder's datapath, replies the active gateway's. */
const POD = { netns: "ro-node3-p0", address: "10.166.3.10" };
const GATEWAYS = ["node1", "node2"];

/**
 * GatewayVip.followGateway on the lab: the lab's stand-in for Kube-OVN's
 * controller moves the centralized subnet's gateway when the active node's
 * datapath fails and writes status.activateGateway; the VIP must follow it.
 */
describe("e2e: a GatewayVip that follows Kube-OVN's active gateway (keepalived, the Subnet's status, packets)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    const stack = useStack("follow-gateway", () => lab);
    let t: TestStack;
    let before0: Record<string, string>;
    let stop: () => void;

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const holders = () => holdersOf(lab, GATEWAYS, VIP);
    const waitFor = async <T>(what: string, read: () => Promise<T>, want: T, seconds = 15) => {
        for (let i = 0; i < seconds * 10; i++) {
            if (JSON.stringify(await read()) === JSON.stringify(want)) return;
            await sleep(100);
        }
        assert.deepStrictEqual(await read(), want, what);
    };
    /** status.activateGateway, read straight from the API: kubectl takes longer than the resolution the measurement needs. */
    const activeGateway = async () => {
        const k = lab.kubernetes!;
        const r = await apiRequest(`${k.server}/apis/kubeovn.io/v1/subnets/central`, { token: k.token, caFile: k.caFile, timeoutMs: 2000 });
        return r.status === 200 ? (JSON.parse(r.body).status?.activateGateway ?? "") as string : "";
    };
    const datapath = (node: string, state: "up" | "down") => setDatapath(lab, node, state);
    const blockApi = (node: string, on: boolean) =>
        hostExec(lab, node, ["iptables", on ? "-I" : "-D", "OUTPUT", "-p", "tcp", "-d", "198.18.0.1", "--dport", "16443", "-j", "REJECT"]);

    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stop = await whoAmIServer(POD.netns);
    });
    after(async () => {
        stop?.();
        // Whatever a failed test left: the datapath up, the API open.
        for (const n of GATEWAYS) {
            await datapath(n, "up").catch(() => undefined);
            await blockApi(n, false).catch(() => undefined);
        }
    });

    it("up: the VIP on node1, the first gateway and the active one; the peer reaches a pod through it", async () => {
        const up = await t.stack.up();
        assert.strictEqual(up.outputs.holder.value, "node1");
        await waitFor("the lab's controller reports node1 active", activeGateway, "node1");
        assert.deepStrictEqual(await holders(), ["node1"]);
        const route = JSON.parse((await hostExec(lab, "peer", ["ip", "-j", "route", "show", "10.166.0.0/16"])).stdout);
        assert.strictEqual(route[0].gateway, VIP);
        assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
    });

    it("installs the watcher beside keepalived.conf: the token in a 0600 file, never in the state's plaintext or an argv", async () => {
        const token = lab.kubernetes!.readerToken;
        for (const n of GATEWAYS) {
            const modes = (await hostExec(lab, n, ["stat", "-c", "%n %a", "/etc/keepalived/RO_61-gateway.sh", "/etc/keepalived/RO_61-gateway.header"])).stdout.trim().split("\n");
            assert.deepStrictEqual(modes, ["/etc/keepalived/RO_61-gateway.sh 700", "/etc/keepalived/RO_61-gateway.header 600"]);
            assert.strictEqual((await hostExec(lab, n, ["cat", "/etc/keepalived/RO_61-gateway.header"])).stdout, `Authorization: Bearer ${token}\n`);
            assert.ok(!(await hostExec(lab, n, ["ps", "-eo", "args"])).stdout.includes(token), `${n}: the token shows in ps`);
        }
        assert.ok(!(await exportAsUser(t)).includes(token), "the token appears in `pulumi stack export`");
    });

    it("node1's datapath fails: Kube-OVN's stand-in makes node2 active, the VIP follows, and the outage stays within the budget", async () => {
        const nodes: VipNode[] = GATEWAYS.map((name, i) => ({ name, address: `192.168.2.${10 + i}`, interface: "eth0" }));
        const budget = failoverBudget({ nodes, followGateway: { subnet: "central", apiServer: "https://x", caCert: "", token: "" } });
        // A count, not a deadline (-w): with a deadline ping stops at the first ICMP error, and node1's broken datapath sends some.
        const ping = hostExec(lab, "peer", ["ping", "-n", "-i", "0.1", "-W", "1", "-c", "120", POD.address], { allowFailure: true });
        await sleep(2000);
        const failed = Date.now();
        await datapath("node1", "down");
        // When the cluster reported the new gateway: the budget counts from there (Kube-OVN's own detection comes first).
        let reported = 0;
        for (let i = 0; i < 200 && !reported; i++) {
            if ((await activeGateway()) === "node2") reported = Date.now();
            else await sleep(50);
        }
        assert.ok(reported, "the lab's controller did not make node2 active");
        // Answers only: the broken datapath's "Time to live exceeded" carries a sequence number too.
        const seqs = [...(await ping).stdout.matchAll(/bytes from .* icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
        let gap = 1;
        for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, seqs[i] - seqs[i - 1]);
        const outage = (gap - 1) * 0.1;
        const cluster = (reported - failed) / 1000;
        process.stderr.write(`      measured: outage ${outage.toFixed(1)} s = the cluster's report after ${cluster.toFixed(1)} s + the VIP's move; ` +
            `follow budget ${budget.followGateway} s after the report (${seqs.length} of ~120 pings answered)\n`);
        assert.ok(seqs.length > 0 && seqs[seqs.length - 1] >= 115, `the pod stopped answering after the failover (last seq ${seqs[seqs.length - 1]})`);
        assert.ok(outage > 0, "with node1's datapath down, packets through it must be lost until the VIP moves");
        // Resolution: one ping interval (0.1 s) for the outage and one poll (0.05 s) for the report.
        assert.ok(outage <= cluster + budget.followGateway! + 0.2, `outage ${outage.toFixed(1)} s exceeds the report (${cluster.toFixed(1)} s) + the budget (${budget.followGateway} s)`);
        // The bound, with the defaults, on what the package owns: from the cluster's report to the VIP on node2.
        assert.ok(outage - cluster <= 3 * 1 + 1, `after the report, the VIP took ${(outage - cluster).toFixed(1)} s: more than 3 x advertInt + 1 s`);
        assert.deepStrictEqual(await holders(), ["node2"]);
        assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
    });

    it("the API unreachable from the nodes, their watches cut: each keeps its last verdict, and the VIP stays with the active gateway", async () => {
        const record = "/run/routed-overlay-RO_61-gateway.named";
        const verdicts = async () => Promise.all(GATEWAYS.map(async (n) => (await hostExec(lab, n, ["cat", record])).stdout.trim()));
        assert.deepStrictEqual(await verdicts(), ["0", "1"]);
        for (const n of GATEWAYS) {
            await blockApi(n, true);
            // An open watch sends nothing while the Subnet is quiet: cut it, so each watcher retries against the block.
            await hostExec(lab, n, ["ss", "-K", "dst", "198.18.0.1", "dport", "=", "16443"]);
        }
        try {
            // Several rounds of retries (one a second): a watcher that wrote a verdict without an answer would move the VIP.
            await sleep(5000);
            assert.deepStrictEqual(await verdicts(), ["0", "1"]);
            assert.deepStrictEqual(await holders(), ["node2"]);
            assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
            const open = (await hostExec(lab, "node1", ["ss", "-Htn", "state", "established", "dst", "198.18.0.1", "dport", "=", "16443"])).stdout.trim();
            assert.strictEqual(open, "", "node1 still has a connection to the API: the block was not tested");
        } finally {
            for (const n of GATEWAYS) await blockApi(n, false);
        }
    });

    it("node1's datapath back: Kube-OVN's stand-in makes node1 active again and the VIP returns to it", async () => {
        await datapath("node1", "up");
        await waitFor("node1 active again", activeGateway, "node1");
        await waitFor("the VIP back on node1", holders, ["node1"]);
        assert.strictEqual(await sourceSeenBy(lab, "peer", POD.address), "192.168.2.100");
        // The election recorded node2 at no point of an up: a refresh reads node1, as up left it.
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
    });

    it("destroy removes the watcher's files and verdicts with keepalived, and leaves the lab as it was", async () => {
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
        for (const n of GATEWAYS) {
            assert.strictEqual((await hostExec(lab, n, ["sh", "-c", "ls /etc/keepalived /run | grep -c RO_61 || true"])).stdout.trim(), "0", `${n}: a file of the watcher is left`);
        }
    });
});
