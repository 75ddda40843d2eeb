/**
 * common/net reads canonical IPv4 with integer arithmetic and keeps the
 * numbers on the objects it makes, for speed (a route's check reads several
 * addresses). These tests hold that fast path to the reference it replaced:
 * the four-group regular expression for the dotted quad, and ip-num for
 * networks, bounds and membership.
 */
import * as assert from "assert";
import { IPv4, IPv4CidrRange } from "ip-num";
import * as net from "../../common/net";
import { Problem } from "../../common/problems";

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const DOTTED = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The reference: the address's number when the expression matches. */
function reference(s: string): number | undefined {
    const m = DOTTED.exec(s);
    return m ? m.slice(1).reduce((n, o) => n * 256 + Number(o), 0) : undefined;
}

/** A deterministic generator (xorshift32), so a failure names a string that reproduces. */
function rng(seed: number) {
    let x = seed;
    return (n: number) => {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        return (x >>> 0) % n;
    };
}

describe("common/net: canonical IPv4 read without ip-num", function () {
    // 100,000 strings and 5,000 networks: about a second each on an idle machine, more beside a build.
    this.timeout(30_000);

    it("reads exactly the dotted quads the four-group expression matches, to the same number", () => {
        const edge = ["0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.0", "1.2.3.00",
            "1000.1.1.1", "1.2.3.4 ", "", "...", "10.166.1.10", "199.200.201.255", "249.250.251.252", "1.2.3.-4", "1.2.3.+4", "١.2.3.4"];
        const r = rng(0x5eed);
        const alphabet = "0123456789012345678901234567890123456789....a ";
        const random = Array.from({ length: 50_000 }, () => Array.from({ length: r(17) }, () => alphabet[r(alphabet.length)]).join(""));
        // Strings that are close to addresses, where the two could differ: octets of 0 to 3 digits.
        const near = Array.from({ length: 50_000 }, () => Array.from({ length: 4 }, () => String(r(300)).padStart(r(2) ? 1 : 3, "0").slice(-(1 + r(3)))).join("."));
        let addresses = 0;
        for (const s of [...edge, ...random, ...near]) {
            const want = reference(s);
            if (want !== undefined) addresses++;
            assert.deepStrictEqual(net.ipv4Order(s), want === undefined ? undefined : [want, 32], JSON.stringify(s));
        }
        // The corpus must hold many addresses, or the comparison says little.
        assert.ok(addresses > 10_000, `only ${addresses} addresses in the corpus`);
    });

    it("networks, bounds and membership as ip-num computes them", () => {
        const r = rng(42);
        const addr = () => [r(256), r(256), r(256), r(256)].join(".");
        for (let i = 0; i < 3000; i++) {
            const prefix = r(33);
            const a = net.readIp(addr())!;
            const c = net.networkOf(a, prefix);
            const range = IPv4CidrRange.fromCidr(`${a.text}/${prefix}`);
            assert.strictEqual(c.text, `${range.getFirst().toString()}/${prefix}`);
            const b = net.readIp(addr())!;
            assert.strictEqual(net.contains(c, b), range.contains(IPv4CidrRange.fromCidr(`${b.text}/32`)), `${c.text} ∋ ${b.text}`);
            assert.strictEqual(net.contains(c, a), true);
            // The lazy ip-num objects agree with the numbers they were made from.
            assert.strictEqual(a.ip.toString(), new IPv4(a.text).toString());
            assert.strictEqual(c.range.toCidrString(), c.text);
            // The validator's host-bits check, against ip-num's first address.
            const errs: Problem[] = [];
            const v = net.cidr("dst", `${a.text}/${prefix}`, errs);
            const network = range.getFirst().toString() === a.text;
            assert.strictEqual(v?.text, network ? `${a.text}/${prefix}` : undefined, `${a.text}/${prefix}`);
            assert.strictEqual(errs.length, network ? 0 : 1);
        }
    });

    it("a next hop at the network or broadcast address of its destination, as ip-num's bounds say", () => {
        const r = rng(7);
        for (let i = 0; i < 2000; i++) {
            const prefix = 8 + r(23);
            const c = net.networkOf(net.readIp([10 + r(200), r(256), r(256), r(256)].join("."))!, prefix);
            const first = c.range.getFirst().toString(), last = c.range.getLast().toString();
            assert.match(net.badNextHop(c, net.readIp(first)!) ?? "", /network address/);
            assert.match(net.badNextHop(c, net.readIp(last)!) ?? "", /broadcast address/);
            if (prefix < 30) assert.strictEqual(net.badNextHop(c, net.readIp(c.range.getFirst().nextIPNumber().toString())!), undefined);
        }
    });
});
