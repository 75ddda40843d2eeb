import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { classify, clientRoute, forwardChain, pathCheck, PathReadings, PathUnreachable, snmpCounters } from "../../provider/pathcheck";
import { expectGolden } from "../support/golden";

// Tests run from dist/test/unit. Readings recorded in the lab (peer -> node1 192.168.2.10 -> pod 10.166.2.10) by readPath.
const FIXTURES = path.resolve(__dirname, "../../../test/fixtures/pathcheck");
const recorded = (name: string): PathReadings => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8"));

const conn = { host: "192.0.2.20", password: "pw", hostKey: "SHA256:KLR9DN/vOaa7+L8+65a7hReJd6C0uWaRC9D2JkaQrBw" };
const base = { client: { name: "peer", connection: conn }, targets: ["10.166.2.10"], seconds: 7 };

describe("PathCheck: the first failing hop, from recorded readings", () => {
    const cases: [string, string, string][] = [
        // fixture, hop, where
        ["route-unreachable", "route", "peer"],
        ["route-via-default", "route", "peer"],
        ["next-hop-down", "next-hop", "192.168.2.10"],
        ["forwarding-off", "beyond-next-hop", "192.168.2.10"],
        ["firewall-drops", "beyond-next-hop", "192.168.2.10"],
    ];
    for (const [fixture, hop, at] of cases) {
        it(`${fixture}: ${hop} at ${at}`, () => {
            const f = classify(recorded(fixture))!;
            assert.ok(f, "a failure");
            assert.strictEqual(f.hop, hop);
            assert.strictEqual(f.at, at);
            expectGolden(`pathcheck/${fixture}.txt`, `${f.message}\n`);
        });
    }

    it("names what the counters show: forwarding off, InAddrErrors up; a firewall: FORWARD policy drops up", () => {
        const off = classify(recorded("forwarding-off"))!;
        assert.match(off.message, /forwarding is off on node1 \(net\.ipv4\.ip_forward = 0\)/);
        assert.strictEqual(off.counters!["InAddrErrors +"], 3);
        const fw = classify(recorded("firewall-drops"))!;
        assert.match(fw.message, /node1's firewall drops the probes in FORWARD/);
        assert.strictEqual(fw.counters!["FORWARD policy drops +"], 3);
    });

    it("a next hop whose ARP failed says so", () => {
        const r = recorded("next-hop-down");
        const f = classify({ ...r, hop: { ...r.hop!, neigh: { code: 0, stderr: "", stdout: '[{"dst":"192.168.2.10","state":["FAILED"]}]\n' } } })!;
        assert.strictEqual(f.hop, "next-hop");
        assert.match(f.message, /^the next hop 192\.168\.2\.10 \(node1\) of the client peer does not answer: no ping reply, and ARP\/ND gets no answer \(neighbour FAILED\)/);
    });

    it("a route via the expected next hop is no failure of the route; without `via`, the default route is accepted", () => {
        const r = recorded("route-via-default");
        assert.strictEqual(classify({ ...r, via: "192.168.2.1" })!.hop, "beyond-next-hop");
        assert.strictEqual(classify({ ...r, via: undefined })!.hop, "beyond-next-hop");
        assert.match(classify(r)!.message, /via 192\.168\.2\.10: it routes it 10\.166\.2\.10 via 192\.168\.2\.1 dev eth0/);
    });

    it("a target that answers is no failure; one that answers ping but not the port fails at the port", () => {
        const r = recorded("firewall-drops");
        assert.strictEqual(classify({ ...r, icmp: true }), undefined);
        assert.strictEqual(classify({ ...r, icmp: true, port: 80, tcp: true }), undefined);
        const f = classify({ ...r, icmp: true, port: 80, tcp: false, hop: undefined, node: undefined })!;
        assert.strictEqual(f.hop, "port");
        assert.match(f.message, /answers ping from the client peer but does not accept TCP port 80/);
    });

    it("a next hop that answers, with no connection to it: says so instead of counters", () => {
        const f = classify({ ...recorded("firewall-drops"), node: undefined })!;
        assert.strictEqual(f.hop, "beyond-next-hop");
        assert.match(f.message, /no connection to 192\.168\.2\.10 among the check's nodes, so no counters$/);
    });

    it("parses ip route get, /proc/net/snmp(6) and the FORWARD chain", () => {
        assert.deepStrictEqual(clientRoute(recorded("route-unreachable").route), { error: "RTNETLINK answers: No route to host" });
        assert.deepStrictEqual(clientRoute({ code: 0, stderr: "", stdout: '[{"dst":"2001:db8::5","via":{"family":"inet6","host":"fe80::1"},"dev":"eth0"}]' }),
            { hop: "fe80::1", dev: "eth0", text: "2001:db8::5 via fe80::1 dev eth0" });
        const snmp = "Ip: Forwarding DefaultTTL InAddrErrors ForwDatagrams\nIp: 1 64 7 12\nIcmp: InMsgs\nIcmp: 3\n";
        assert.deepStrictEqual(snmpCounters(snmp), { Forwarding: 1, DefaultTTL: 64, InAddrErrors: 7, ForwDatagrams: 12 });
        assert.deepStrictEqual(snmpCounters("Ip6InReceives                   \t5\nIp6OutForwDatagrams             \t2\n"), { Ip6InReceives: 5, Ip6OutForwDatagrams: 2 });
        const chain = "Chain FORWARD (policy ACCEPT 4 packets, 336 bytes)\n    pkts      bytes target     prot opt in     out     source               destination\n       9      756 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate INVALID\n       2      168 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0\n       5      420 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0\n";
        assert.deepStrictEqual(forwardChain({ code: 0, stderr: "", stdout: chain }), { policy: "ACCEPT", policyPackets: 4, ruleDrops: 11 });
        assert.strictEqual(forwardChain({ code: 1, stderr: "iptables: not found", stdout: "" }), undefined);
    });

    it("the typed error names the first failing hop, and the others by target", () => {
        const first = classify(recorded("route-unreachable"))!;
        const second = { ...classify(recorded("forwarding-off"))!, target: "10.166.3.10" };
        const e = new PathUnreachable("peer (root@192.0.2.20:22)", [first, second], 7);
        assert.ok(e instanceof Error);
        assert.strictEqual(e.name, "PathUnreachable");
        assert.strictEqual(e.first.hop, "route");
        assert.match(e.message, /^path check from peer \(root@192\.0\.2\.20:22\) failed after 7 s, first failing hop "route": no route on the client peer to 10\.166\.2\.10/);
        assert.match(e.message, /\(and 1 more: 10\.166\.3\.10 at beyond-next-hop\)$/);
    });
});

describe("PathCheck: inputs and drift", () => {
    it("checks its inputs, naming the property and the value, never the connection", async () => {
        const ok = await pathCheck.check({}, base);
        assert.strictEqual(ok.failures, undefined);
        const f = await pathCheck.check({}, {
            ...base, client: { name: "Peer_1", connection: { ...conn, host: "a b" } },
            targets: ["10.166.2.10", "10.166.2.10/32", "224.0.0.1", "10.166.2.10"], port: 0, seconds: 301, via: "x",
            nodes: [{ name: "node1", address: "192.168.2.10" }],
        });
        const reasons = f.failures!.map((x) => x.reason).join("\n");
        assert.match(reasons, /^client\.name: /m);
        assert.match(reasons, /^client\.connection\.host: not a host name or IP address: "a b"$/m);
        assert.match(reasons, /^targets\[1\]: .*"10\.166\.2\.10\/32"$/m);
        assert.match(reasons, /^targets\[2\]: .*multicast/m);
        assert.match(reasons, /^targets\[3\]: appears twice: "10\.166\.2\.10"$/m);
        assert.match(reasons, /^port: must be an integer from 1 to 65535: 0$/m);
        assert.match(reasons, /^seconds: must be an integer from 1 to 300 \(whole seconds\): 301$/m);
        assert.match(reasons, /^via: /m);
        assert.match(reasons, /^nodes\[0\]\.connection/m);
        assert.ok(!reasons.includes('"pw"'));
        assert.strictEqual((await pathCheck.check({}, { ...base, targets: [] })).failures!.length, 1);
    });

    it("fills the default window and canonical addresses", async () => {
        const { inputs } = await pathCheck.check({}, { ...base, seconds: undefined, targets: ["2001:DB8::5"] });
        assert.strictEqual(inputs!.seconds, 10);
        assert.deepStrictEqual(inputs!.targets, ["2001:db8::5"]);
    });

    it("a last check that failed is drift: refresh shows it, and up checks again; inputs that changed too", async () => {
        const good = { ...base, ok: true, failures: [] };
        assert.strictEqual((await pathCheck.diff("i", good, base)).changes, false);
        assert.strictEqual((await pathCheck.diff("i", { ...good, ok: false, failures: [{ target: "10.166.2.10" }] }, base)).changes, true);
        assert.strictEqual((await pathCheck.diff("i", good, { ...base, port: 7070 })).changes, true);
        assert.strictEqual((await pathCheck.diff("i", good, { ...base, targets: ["10.166.2.11"] })).changes, true);
        assert.deepStrictEqual((await pathCheck.diff("i", good, { ...base, targets: ["10.166.2.11"] })).replaces, []);
    });
});
