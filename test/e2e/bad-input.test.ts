import * as assert from "assert";
import { ensureLab, requireRoot } from "../support/lab";
import { TestStack } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { BadInputCase, BASELINE, COMPONENTS, CORPUS as CASES, leakedSecret, MARKER, RESOURCES, withMarkers } from "../support/bad-input";
import { LabInfo } from "../../lab/lab";

/**
 * The bad-input corpus through a real `pulumi preview` (the unit suite runs
 * every case under mocks): each case is refused at preview with a message
 * naming the argument and the value, and the lab is unchanged afterwards.
 * A preview costs a few seconds, so by default a spread of cases over every
 * target runs here; RO_BAD_INPUT_ALL=1 runs all of them.
 */
/** The named categories, always in the selection; the rest is spread over every target. */
const ALWAYS = [
    "subnet-nat-outgoing", "subnet-centralized-no-gateway-node", "subnet-gateway-outside", "subnet-exclude-outside",
    "subnet-protocol-ipv4-ipv6-cidr", "subnet-overlaps-another", "vip-vrid-twice-on-segment", "vip-outside-segment",
    "vip-interface-subshell", "route-dev-semicolon", "route-gateway-ipv6-for-ipv4", "fdb-mac-metachar",
    // Issue 13's: shapes, misspelt connections, connections once per node, what the kernel reads differently, twins.
    "subnet-args-null", "route-args-null", "subnet-nodes-as-map", "subnet-node-conection", "subnet-connection-host-port",
    "subnet-cidr-octal", "vxlan-local-multicast", "return-next-hop-inside", "subnet-two-nodes-one-address", "return-destination-twice-frr",
];

/** The CLI's output holds no secret of the case and no JavaScript stack frame. */
function assertClean(output: string) {
    assert.strictEqual(leakedSecret(output), undefined, `a secret in the output:\n${output}`);
    assert.ok(!/^\s+at \S.*:\d+:\d+\)?$/m.test(output), `a stack trace in the output:\n${output}`);
}

function selection(all: readonly BadInputCase[], size: number): BadInputCase[] {
    const out: BadInputCase[] = ALWAYS.map((id) => {
        const c = all.find((x) => x.id === id);
        if (!c) throw new Error(`corpus case ${id} is gone`);
        return c;
    });
    const byTarget = new Map<string, BadInputCase[]>();
    for (const c of all) if (!out.includes(c)) byTarget.set(c.target, [...(byTarget.get(c.target) ?? []), c]);
    for (let round = 0; out.length < size && out.length < all.length; round++) {
        for (const list of byTarget.values()) if (list[round] && out.length < size) out.push(list[round]);
    }
    return out;
}

describe("e2e: bad input is refused at a real pulumi preview", function () {
    this.timeout(1_800_000);
    let lab: LabInfo;
    let t: TestStack;
    let before0: Record<string, string>;
    const cases = process.env.RO_BAD_INPUT_ALL === "1" ? [...CASES] : selection(CASES, 64);

    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const stack = useStack("bad-input", () => lab);
    before(async () => {
        t = stack();
        before0 = await labSnapshot(lab);
    });

    it(`runs ${cases.length} cases over ${new Set(cases.map((c) => c.target)).size} targets`, () => {
        assert.ok(cases.length >= 60);
        assert.strictEqual(new Set(cases.map((c) => c.target)).size, COMPONENTS.length + RESOURCES.length);
    });

    for (const c of cases) {
        it(`${c.target}: ${c.id}`, async () => {
            // The marker in every connection's key and passwords: the CLI's whole output must not show it.
            const marked = { ...c, args: withMarkers(c.args, c.target, { passwords: false }) };
            await t.stack.setConfig("case", { value: JSON.stringify(marked) });
            await assert.rejects(t.stack.preview(), (e: Error) => {
                assert.match(e.message, c.expect);
                assertClean(e.message);
                return true;
            });
        });
    }

    it("GatewayVip: a secret authPass Output is checked once known, without showing it or a stack", async () => {
        const c = { id: "vip-secret-auth-pass-too-long", target: "GatewayVip", args: { ...(withMarkers(BASELINE.GatewayVip, "GatewayVip", { passwords: false }) as object), authPass: `${MARKER}xy` }, secretArgs: ["authPass"] };
        await t.stack.setConfig("case", { value: JSON.stringify(c) });
        await assert.rejects(t.stack.preview(), (e: Error) => {
            assert.match(e.message, /args\.authPass: must be 1 to 8 characters, keepalived silently truncates PASS passwords to 8: \(not shown: a secret, 10 characters\)/);
            assertClean(e.message);
            return true;
        });
    });

    it("RoutedSubnet: a connection given as a secret Output is checked once it is known, once per node", async () => {
        const nodes = (BASELINE.RoutedSubnet.nodes as Record<string, unknown>[]).map((n, i) => ({ ...n, connection: { ...(n.connection as object), host: `192.168.2.${10 + i}:2222` } }));
        const c = { id: "subnet-secret-connection-host-port", target: "RoutedSubnet", args: withMarkers({ ...BASELINE.RoutedSubnet, nodes }, "RoutedSubnet"), secretConnections: true };
        await t.stack.setConfig("case", { value: JSON.stringify(c) });
        await assert.rejects(t.stack.preview(), (e: Error) => {
            // The Automation API's message holds the CLI's output twice: take its first Diagnostics section.
            const from = e.message.indexOf("Diagnostics:");
            const diagnostics = e.message.slice(from, e.message.indexOf("Resources:", from));
            assert.match(diagnostics, /args\.nodes\[0\]\.connection\.host: give the port as port: 2222, not in host \(node node1\): "192\.168\.2\.10:2222"/);
            assert.match(diagnostics, /args\.nodes\[1\]\.connection\.host: give the port as port: 2222, not in host \(node node2\): "192\.168\.2\.11:2222"/);
            // Once per node: not once in each of the node's Sysctl, ForwardAccept and ConntrackInvalidAccept checks.
            assert.strictEqual(diagnostics.match(/give the port as port/g)?.length, nodes.length, diagnostics);
            assertClean(e.message);
            return true;
        });
    });

    it("leaves the lab as it was", async () => {
        assert.deepStrictEqual(await labSnapshot(lab), before0);
    });
});
