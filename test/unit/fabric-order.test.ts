/**
 * The order in which a TunnelFabric registers its resources. The engine
 * generates steps one registration at a time, so what reaches it first is
 * worked on first: the gateway candidates, which a move changes, must not
 * queue behind every other node's link.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { NodeArgs, TunnelFabric } from "../../components";
import { resetRegistry } from "../../components/registry";
import { CONNECTION } from "../support/bad-input";
import { useMocks } from "../support/mock-program";

/** An Output's value (the SDK's internal promise). */
const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => (o as unknown as { promise(): Promise<T> }).promise();
const drained = () => new Promise((r) => setTimeout(r, 50));

function sixNodes(): NodeArgs[] {
    return [1, 2, 3, 4, 5, 6].map((i) => ({
        name: `node${i}`,
        address: `192.168.2.${9 + i}`,
        interface: "eth0",
        connection: { ...CONNECTION, host: `198.18.0.1${i}` } as never,
        overlayAddress: `172.29.0.${i}`,
        pods: [`10.166.${i}.10`],
    }));
}

describe("TunnelFabric: the gateway candidates reach the engine first", () => {
    const order: string[] = [];
    let release!: () => void;
    let held!: Promise<void>;
    const candidateLinks = ["fabric-node5-link", "fabric-node3-link"];

    before(() => {
        pulumi.runtime.setMocks({
            async newResource(a) {
                order.push(a.name);
                // The candidates' link steps take as long as the test wants: what registers meanwhile does not wait for them.
                if (candidateLinks.includes(a.name)) await held;
                return { id: `${a.name}-id`, state: a.inputs };
            },
            call: (a) => a.inputs,
        }, "order", "test", false);
    });
    beforeEach(() => {
        resetRegistry();
        order.length = 0;
        held = new Promise((r) => (release = r));
    });
    after(() => {
        resetRegistry();
        useMocks();
    });

    it("registers the candidates' links first, and the other links only after theirs", async () => {
        // Candidates out of natural order and not first in it, to tell "candidates first" from "natural order".
        const fabric = new TunnelFabric("fabric", {
            nodes: sixNodes(), gatewayNodes: ["node5", "node3"], activeGateway: "node3",
            remoteCidrs: ["10.200.0.0/16"], overlayCidr: "172.29.0.0/24", gatewayAddress: "172.29.0.254",
        });
        await drained();
        const links = () => order.filter((n) => n.endsWith("-link"));
        assert.deepStrictEqual(links().sort(), [...candidateLinks].sort(), "while the candidates' link steps run, no other link is registered");
        // And no object of a node before its link's step is done: each is placed on its link.
        assert.deepStrictEqual(order.filter((n) => !n.endsWith("-link")), ["fabric"]);
        release();
        const linkUrns = await valueOf(pulumi.all(fabric.links.map((l) => l.urn)));
        await drained();
        assert.deepStrictEqual(links().sort(), sixNodes().map((n) => `fabric-${n.name}-link`).sort());
        for (const c of ["node3", "node5"]) {
            for (const what of ["gateway-address", "routes", "fdb"]) {
                assert.ok(order.indexOf(`fabric-${c}-${what}`) >= 0, `${c}'s ${what} is registered`);
            }
        }
        // The getters keep natural node order whatever the order of registration.
        const named = (urns: string[]) => urns.map((u) => u.split("::").pop());
        assert.deepStrictEqual(named(linkUrns), ["node1", "node2", "node3", "node4", "node5", "node6"].map((n) => `fabric-${n}-link`));
        assert.deepStrictEqual(named(await valueOf(pulumi.all(fabric.gatewayAddresses.map((l) => l.urn)))),
            ["fabric-node3-gateway-address", "fabric-node5-gateway-address"]);
    });
});
