import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { Flow, forwardedPackets, sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { LabInfo } from "../../lab/lab";
import { labSnapshot } from "../support/snapshot";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

interface Proof {
    /** Pod address and namespace to serve from, and the lab host that connects. */
    pods: { netns: string; address: string }[];
    from: string;
    /** The address the pod must see: the client's own (no NAT). */
    source: string;
    /** Which nodes forward an exchange with the pod on node2, each way. */
    path?: { title: string; flows: (Flow & { passes: boolean })[] };
}

const PEER = "192.168.2.100";
const POD_ON_NODE2 = "10.166.2.10";

const EXAMPLES: { name: string; resources: number; subnet: string; proof: Proof }[] = [
    {
        name: "seed-routed-distributed",
        // Stack, kubernetes Provider, Subnet, per node (3) ip_forward + 2 accepts, the return routes, 2 components.
        resources: 1 + 1 + 1 + 9 + 1 + 2,
        subnet: "routed",
        proof: {
            from: "peer",
            source: "192.168.2.100",
            pods: [1, 2, 3].map((i) => ({ netns: `ro-node${i}-p0`, address: `10.166.${i}.10` })),
            path: {
                title: "requests enter by node1 (the next hop), replies leave by the pod's own node2",
                flows: [
                    { host: "node1", src: PEER, dst: POD_ON_NODE2, passes: true },
                    { host: "node1", src: POD_ON_NODE2, dst: PEER, passes: false },
                    { host: "node2", src: POD_ON_NODE2, dst: PEER, passes: true },
                ],
            },
        },
    },
    {
        name: "seed-routed-centralized",
        resources: 1 + 1 + 1 + 9 + 1 + 2,
        subnet: "central",
        proof: {
            from: "peer",
            source: "192.168.2.100",
            pods: [1, 2, 3].map((i) => ({ netns: `ro-node${i}-p0`, address: `10.166.${i}.10` })),
            path: {
                title: "requests and replies both pass the gateway node1, none leaves by node2",
                flows: [
                    { host: "node1", src: PEER, dst: POD_ON_NODE2, passes: true },
                    { host: "node1", src: POD_ON_NODE2, dst: PEER, passes: true },
                    { host: "node2", src: POD_ON_NODE2, dst: PEER, passes: false },
                ],
            },
        },
    },
    {
        name: "seed-subnet-gateway",
        resources: 1 + 1 + 1 + 9 + 1 + 2,
        subnet: "exposed",
        proof: {
            from: "remote",
            source: "192.168.3.100",
            pods: [1, 2, 3].map((i) => ({ netns: `ro-node${i}-p1`, address: `100.64.${i}.11` })),
        },
    },
];

describe("e2e: seed examples on the lab (real CLI, packets)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });

    for (const ex of EXAMPLES) {
        describe(`examples/${ex.name}`, () => {
            const stack = useStack(ex.name, () => lab, { example: true });
            let t: TestStack;
            let before0: Record<string, string>;
            const stops: (() => void)[] = [];
            const seen = async () => Promise.all(ex.proof.pods.map((p) => sourceSeenBy(lab, ex.proof.from, p.address)));

            before(async () => {
                t = stack();
                before0 = await labSnapshot(lab);
                for (const p of ex.proof.pods) stops.push(await whoAmIServer(p.netns));
            });
            after(() => stops.forEach((s) => s()));

            it("no pod answers from outside before up", async () => {
                assert.deepStrictEqual(await seen(), ex.proof.pods.map(() => undefined));
            });

            it("up creates the Subnet and routes; every pod answers and sees the client's real address", async () => {
                const up = await t.stack.up();
                assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: ex.resources });
                assert.deepStrictEqual(await seen(), ex.proof.pods.map(() => ex.proof.source));
                const kubectl = await execArgv([toolchainBin("kubectl"), "--kubeconfig", lab.kubernetes!.kubeconfig, "get", "subnet", ex.subnet, "-o", "json"]);
                assert.strictEqual(JSON.parse(kubectl.stdout).spec.natOutgoing, false);
            });

            if (ex.proof.path) {
                const p = ex.proof.path;
                it(`the path: ${p.title}`, async () => {
                    const want = p.flows.map((f) => f.passes);
                    let answer: string | undefined;
                    let counts: number[] = [];
                    // The lab's datapath controller, like Kube-OVN's, reacts to the Subnet within a second of up.
                    for (let attempt = 0; attempt < 5; attempt++) {
                        counts = await forwardedPackets(lab, p.flows, async () => (answer = await sourceSeenBy(lab, ex.proof.from, POD_ON_NODE2)));
                        if (JSON.stringify(counts.map((c) => c > 0)) === JSON.stringify(want)) break;
                        await new Promise((r) => setTimeout(r, 1000));
                    }
                    assert.strictEqual(answer, ex.proof.source);
                    assert.deepStrictEqual(counts.map((c) => c > 0), want, `packets forwarded: ${JSON.stringify(counts)}`);
                });
            }

            it("a second preview and a refresh show no changes", async () => {
                assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
                assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
            });

            it("destroy leaves the lab as it was", async () => {
                await t.stack.destroy();
                assert.deepStrictEqual(await labSnapshot(lab), before0);
                assert.deepStrictEqual(await seen(), ex.proof.pods.map(() => undefined));
            });
        });
    }
});
