import * as assert from "assert";
import { ElectionUnsettled, vrrpElection } from "../../provider/election";

const conn = { host: "192.0.2.11", password: "pw", hostKey: "SHA256:KLR9DN/vOaa7+L8+65a7hReJd6C0uWaRC9D2JkaQrBw" };
const base = { address: "192.168.2.250", seconds: 13, nodes: [{ name: "node1", connection: conn }, { name: "node2", connection: { ...conn, host: "192.0.2.12" } }] };

describe("VrrpElection (the read-back of a GatewayVip)", () => {
    it("checks its inputs, naming the property and the value, never the connection", async () => {
        assert.strictEqual((await vrrpElection.check({}, base)).failures, undefined);
        const f = await vrrpElection.check({}, { ...base, address: "192.168.2.250/24", seconds: 0, nodes: [{ name: "Node_1", connection: { ...conn, host: "a b" } }] });
        const reasons = f.failures!.map((x) => x.reason).join("\n");
        assert.match(reasons, /^address: .*"192\.168\.2\.250\/24"$/m);
        assert.match(reasons, /^seconds: whole seconds from 1 to 300: 0$/m);
        assert.match(reasons, /^nodes\[0\]\.name: /m);
        assert.match(reasons, /^nodes\[0\]\.connection\.host: not a host name or IP address: "a b"$/m);
        assert.ok(!reasons.includes('"pw"'));
    });

    it("waits again after a refresh found no single holder, or when the group or its configs changed", async () => {
        const settled = { ...base, holder: "node1", holders: ["node1"] };
        assert.strictEqual((await vrrpElection.diff("i", settled, base)).changes, false);
        assert.strictEqual((await vrrpElection.diff("i", { ...settled, holder: null, holders: ["node1", "node2"] }, base)).changes, true);
        assert.strictEqual((await vrrpElection.diff("i", { ...settled, holder: null, holders: [] }, base)).changes, true);
        assert.strictEqual((await vrrpElection.diff("i", { ...settled, revision: "a" }, { ...base, revision: "b" })).changes, true);
        assert.strictEqual((await vrrpElection.diff("i", settled, { ...base, nodes: base.nodes.slice(0, 1) })).changes, true);
        assert.deepStrictEqual((await vrrpElection.diff("i", settled, { ...base, address: "192.168.2.251" })).replaces, []);
        // Refresh diffs what read found against the inputs: a move to another single holder is no change.
        assert.strictEqual((await vrrpElection.diff("i", { ...settled, holder: "node2", holders: ["node2"] }, base)).changes, false);
    });

    it("says what an unsettled election means: none holds it, or several at once", () => {
        const none = new ElectionUnsettled("192.168.2.250", [], base.nodes, 13);
        assert.match(none.message, /^no node holds the VIP 192\.168\.2\.250 after 13 s \(nodes node1 at root@192\.0\.2\.11:22, node2 at root@192\.0\.2\.12:22\)/);
        const split = new ElectionUnsettled("192.168.2.250", ["node1", "node2"], base.nodes, 13);
        assert.match(split.message, /^the VIP 192\.168\.2\.250 is held by node1 and node2 at once after 13 s \(split brain\)/);
        assert.deepStrictEqual(split.holders, ["node1", "node2"]);
    });
});
