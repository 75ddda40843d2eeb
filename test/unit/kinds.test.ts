import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import { normalizeRoute, normalizeRouteSet, parseRoute } from "../../provider/kinds/route";
import { routeDelWords, routeWords } from "../../provider/kinds/route-text";
import { normalizeRule, addArgv as ruleAdd, deleteArgv as ruleDel, parseRule } from "../../provider/kinds/rule";
import { normalizeFdb, appendWords, delWords, parseFdb } from "../../provider/kinds/fdb";
import { normalizeLink, createLines, updateLines, parseLink, linkKind } from "../../provider/kinds/link";
import type { Transport } from "../../provider/transport";
import { addArgv as addressAdd, announceArgv, delArgv as addressDel, holdsAddress, normalizeAddress, takeArgv } from "../../provider/kinds/address";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { normalizeFirewall, iptablesInsertArgv, iptablesPresent, nftInsertArgv, nftHandles } from "../../provider/kinds/firewall";
import { delta, normalizeFdbSet } from "../../provider/kinds/sets";
import { parseJsonStream, failedBatchLine } from "../../provider/kinds/iproute";
import { kinds } from "../../provider/runtime";
import { sameJson } from "../../provider/kinds/kind";

/** Key-order-independent JSON: the reference sameJson is held to. */
function canonicalJson(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
            .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    return JSON.stringify(v);
}

function ok<T>(f: (raw: any, errs: Problem[]) => T | undefined, raw: any): T {
    const errs: Problem[] = [];
    const v = f(raw, errs);
    assert.deepStrictEqual(errs, []);
    return v!;
}
function bad(f: (raw: any, errs: Problem[]) => unknown, raw: any): string {
    const errs: Problem[] = [];
    assert.strictEqual(f(raw, errs), undefined);
    assert.ok(errs.length > 0);
    return errs.map((e) => (typeof e === "string" ? e : formatProblem(e))).join("\n");
}

describe("kernel object kinds: validation, argv and ip -j parsing", () => {
    describe("route", () => {
        it("canonicalizes, renders argv with the ownership proto, and reads back equal", () => {
            const r = ok(normalizeRoute, { dst: "2001:DB8:0::/64", gateway: "2001:db8::0:1", dev: "eth0", table: 100 });
            assert.deepStrictEqual(r, { dst: "2001:db8::/64", table: 100, metric: 1024, type: "unicast", proto: 214, gateway: "2001:db8::1", dev: "eth0" });
            assert.deepStrictEqual(["ip", "route", "replace", ...routeWords(r)], ["ip", "route", "replace", "2001:db8::/64", "via", "2001:db8::1", "dev", "eth0", "table", "100", "metric", "1024", "proto", "214"]);
            assert.deepStrictEqual(["ip", "route", "del", ...routeDelWords(r)], ["ip", "route", "del", "2001:db8::/64", "table", "100", "metric", "1024", "proto", "214"]);
            const live = parseRoute({ type: "1", dst: "2001:db8::/64", gateway: "2001:db8::1", dev: "eth0", protocol: "214", scope: "0", metric: 1024, flags: [] }, 100);
            assert.deepStrictEqual({ ...live, scope: undefined }, { ...r, scope: undefined });
        });
        it("reads host routes and default as CIDRs, and blackholes by number", () => {
            assert.strictEqual(parseRoute({ dst: "10.9.0.1", dev: "eth0" }, 254).dst, "10.9.0.1/32");
            assert.strictEqual(parseRoute({ dst: "default", gateway: "fe80::1" }, 254).dst, "::/0");
            assert.strictEqual(parseRoute({ type: "6", dst: "10.0.0.0/8" }, 5).type, "blackhole");
        });
        it("names the argument and the value of bad input", () => {
            assert.match(bad(normalizeRoute, { dst: "10.1.2.3/16", dev: "eth0" }), /^dst: host bits set; the network is 10\.1\.0\.0\/16: "10\.1\.2\.3\/16"/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", gateway: "2001:db8::1" }), /gateway: not of the IP family of dst 10\.1\.0\.0\/16: "2001:db8::1"/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", dev: "eth0 ; rm" }), /dev: not a Linux interface name.*"eth0 ; rm"/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", dev: "eth0", table: 255 }), /table: table is reserved .*: 255/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", dev: "eth0", table: 0 }), /table: not a routing table.*0/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16" }), /gateway: a unicast route to 10\.1\.0\.0\/16 needs a gateway or a dev/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", type: "blackhole", dev: "eth0" }), /type: a blackhole route takes no gateway or dev/);
            assert.match(bad(normalizeRoute, { dst: "10.1.0.0/16", dev: "eth0", gatway: "10.0.0.1" }), /gatway: unknown property/);
        });
    });

    describe("rule", () => {
        it("renders add/del with fwmark/mask and the protocol mark, and parses ip -N -j rule", () => {
            const r = ok(normalizeRule, { priority: 100, from: "10.1.0.0/16", fwmark: 16, fwmask: 255, iif: "eth0", table: 18952 });
            assert.deepStrictEqual(ruleAdd(r), ["ip", "-4", "rule", "add", "priority", "100", "from", "10.1.0.0/16", "iif", "eth0", "fwmark", "0x10/0xff", "table", "18952", "protocol", "214"]);
            assert.deepStrictEqual(ruleDel(r).slice(-2), ["protocol", "214"]);
            const live = parseRule({ priority: 100, src: "10.1.0.0", srclen: 16, iif: "eth0", fwmark: "0x10", fwmask: "0xff", table: "18952", protocol: "214" }, 4);
            assert.deepStrictEqual(live, r);
            assert.strictEqual(parseRule({ priority: 5, src: "10.9.9.9", table: "100" }, 4).from, "10.9.9.9/32");
        });
        it("refuses the kernel's own priorities and tables, and mixed families", () => {
            assert.match(bad(normalizeRule, { priority: 32766, table: 100 }), /priority: must be an integer from 1 to 32765: 32766/);
            assert.match(bad(normalizeRule, { priority: 10, table: "local" }), /table: table is reserved .*: "local"/);
            assert.match(bad(normalizeRule, { priority: 10, from: "10.0.0.0/8", to: "2001:db8::/32", table: 5 }), /to: not of the IP family of from .*: "2001:db8::\/32"/);
        });
    });

    describe("fdb", () => {
        it("defaults to the all-zero MAC, appends one remote and deletes exactly it", () => {
            const f = ok(normalizeFdb, { dev: "vx0", dst: "192.168.2.11", port: 4790 });
            assert.deepStrictEqual(appendWords(f), ["fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", "192.168.2.11", "port", "4790", "permanent", "self"]);
            assert.deepStrictEqual(delWords(f), ["fdb", "del", "00:00:00:00:00:00", "dev", "vx0", "dst", "192.168.2.11", "port", "4790", "self"]);
            assert.deepStrictEqual(parseFdb({ mac: "00:00:00:00:00:00", dst: "192.168.2.11", port: 4790, state: "permanent" }, "vx0"), f);
        });
        it("rejects malformed MACs naming the value", () => {
            assert.match(bad(normalizeFdb, { dev: "vx0", dst: "192.168.2.11", mac: "00:11:22:33:44" }), /mac: not a MAC address.*"00:11:22:33:44"/);
        });
    });

    describe("vxlan link", () => {
        it("creates with learning off and its ownership alias, and updates only what changed", () => {
            const l = ok(normalizeLink, { name: "vx0", vni: 42, local: "192.168.2.10", dev: "eth0", mtu: 1450, addresses: ["172.29.0.1/24"] });
            assert.deepStrictEqual(createLines(l), [
                ["link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "local", "192.168.2.10", "dev", "eth0", "nolearning"],
                ["link", "set", "dev", "vx0", "alias", "routed-overlay", "mtu", "1450"],
                ["addr", "add", "172.29.0.1/24", "dev", "vx0"],
                ["link", "set", "dev", "vx0", "up"],
            ]);
            assert.deepStrictEqual(updateLines({ ...l, mtu: 1400, addresses: ["172.29.0.9/24"] }, l), [
                ["link", "set", "dev", "vx0", "mtu", "1450"],
                ["addr", "del", "172.29.0.9/24", "dev", "vx0"],
                ["addr", "add", "172.29.0.1/24", "dev", "vx0"],
            ]);
        });
        it("leaves the addresses other resources hold alone: not read back, never removed", async () => {
            const l = ok(normalizeLink, { name: "vx0", vni: 42, addresses: ["172.29.0.1/24"], otherAddresses: ["172.29.0.254/24"] });
            const shown = [{
                ifname: "vx0", flags: ["UP"], ifalias: "routed-overlay", linkinfo: { info_kind: "vxlan", info_data: { id: 42, port: 4789, learning: false } },
                addr_info: [{ family: "inet", local: "172.29.0.1", prefixlen: 24 }, { family: "inet", local: "172.29.0.254", prefixlen: 24 }],
            }];
            const host: Transport = {
                name: "root@h:22", calls: 0,
                async run(argv) {
                    assert.deepStrictEqual(argv, ["ip", "-j", "-d", "addr", "show", "dev", "vx0"]);
                    return { code: 0, stdout: JSON.stringify(shown), stderr: "" };
                },
            };
            const live = (await linkKind.read(host, l))!;
            assert.deepStrictEqual(live.addresses, ["172.29.0.1/24"], "the gateway address on the link is not drift");
            assert.deepStrictEqual(updateLines(live, l), []);
            assert.match(bad(normalizeLink, { name: "vx0", vni: 42, addresses: ["172.29.0.1/24"], otherAddresses: ["172.29.0.1/24"] }), /otherAddresses\[0\]: is also one of addresses/);
        });
        it("parses ip -j -d addr show, ignoring the kernel's link-local address", () => {
            const live = parseLink({
                ifname: "vx0", flags: ["UP"], mtu: 1450, ifalias: "routed-overlay",
                linkinfo: { info_kind: "vxlan", info_data: { id: 42, local: "192.168.2.10", link: "eth0", port: 4789, learning: false } },
                addr_info: [{ family: "inet", local: "172.29.0.1", prefixlen: 24, scope: "global" }, { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" }],
            });
            assert.deepStrictEqual(live, ok(normalizeLink, { name: "vx0", vni: 42, local: "192.168.2.10", dev: "eth0", mtu: 1450, addresses: ["172.29.0.1/24"] }));
        });
    });

    describe("interface address", () => {
        it("holds by default, replaces (idempotent) to take and deletes to let go, and finds itself in ip -j addr show", () => {
            const a = ok(normalizeAddress, { dev: "liqo.vxlan", address: "172.29.0.254/24" });
            assert.deepStrictEqual(a, { dev: "liqo.vxlan", address: "172.29.0.254/24", held: true, announce: false });
            assert.deepStrictEqual(addressAdd(a), ["ip", "addr", "replace", "172.29.0.254/24", "dev", "liqo.vxlan"]);
            assert.deepStrictEqual(addressDel(a), ["ip", "addr", "del", "172.29.0.254/24", "dev", "liqo.vxlan"]);
            const listing = [{ ifname: "liqo.vxlan", addr_info: [{ family: "inet", local: "172.29.0.1", prefixlen: 24 }, { family: "inet", local: "172.29.0.254", prefixlen: 24 }] }];
            assert.strictEqual(holdsAddress(listing, "172.29.0.254/24"), true);
            assert.strictEqual(holdsAddress(listing, "172.29.0.254/25"), false, "another prefix length is another address");
            assert.match(bad(normalizeAddress, { dev: "liqo.vxlan", address: "172.29.0.254" }), /address: not an interface address with a prefix length/);
            assert.match(bad(normalizeAddress, { dev: "liqo.vxlan", address: "172.29.0.254/24", held: "yes" }), /held/);
        });
        it("announces IPv4 only, with values as arguments of a constant script", () => {
            assert.strictEqual(announceArgv("vx0", "fd00::1/64"), undefined, "arping speaks ARP only");
            const argv = announceArgv("vx0", "172.29.0.254/24")!;
            assert.deepStrictEqual([argv[0], argv[1], ...argv.slice(3)], ["sh", "-c", "routed-overlay", "vx0", "172.29.0.254"]);
            assert.deepStrictEqual(announceArgv("vx0", undefined)!.slice(3), ["routed-overlay", "vx0"], "no address: only the check for arping");
            assert.doesNotMatch(argv[2], /vx0|172\.29/, "the script is constant");
        });
        it("runs arping twice a second apart in the background, and fails plainly without arping; taking the address runs ip first, in the same script", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ro-announce-"));
            try {
                const log = path.join(dir, "calls");
                fs.mkdirSync(path.join(dir, "bin"));
                // The stand-in blocks until released: the script can only end first if arping runs in the background.
                const release = path.join(dir, "release");
                fs.writeFileSync(path.join(dir, "bin", "arping"), `#!/bin/sh\necho "$*" >> ${log}\nwhile [ ! -e ${release} ]; do sleep 0.05; done\n`, { mode: 0o755 });
                const argv = announceArgv("vx0", "172.29.0.254/24")!;
                const r = spawnSync("/bin/sh", argv.slice(1), { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` }, encoding: "utf8", timeout: 20_000 });
                fs.writeFileSync(release, "");
                assert.strictEqual(r.status, 0, `the script waited for arping or failed: ${r.signal ?? ""} ${r.stderr}`);
                for (let i = 0; i < 50 && !fs.existsSync(log); i++) await new Promise((res) => setTimeout(res, 50));
                assert.deepStrictEqual(fs.readFileSync(log, "utf8").split("\n").filter(Boolean), ["-q -U -c 2 -w 3 -I vx0 172.29.0.254"]);
                // Taking the address runs the command first, then announces, in one script; a failed command announces nothing.
                const held = { dev: "vx0", address: "172.29.0.254/24", held: true, announce: true };
                assert.deepStrictEqual(takeArgv({ ...held, announce: false }), addressAdd(held));
                assert.deepStrictEqual(takeArgv({ ...held, address: "fd00::1/64" }), addressAdd({ ...held, address: "fd00::1/64" }), "arping speaks ARP only");
                const take = takeArgv(held);
                assert.deepStrictEqual(take.slice(3), ["routed-overlay", "vx0", "172.29.0.254", ...addressAdd(held)]);
                fs.writeFileSync(path.join(dir, "bin", "ip"), `#!/bin/sh\necho "ip $*" >> ${log}\n[ ! -e ${dir}/fail ]\n`, { mode: 0o755 });
                fs.rmSync(log);
                const took = spawnSync("/bin/sh", take.slice(1), { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` }, encoding: "utf8", timeout: 20_000 });
                assert.strictEqual(took.status, 0, took.stderr);
                for (let i = 0; i < 50 && fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length < 2; i++) await new Promise((res) => setTimeout(res, 50));
                assert.deepStrictEqual(fs.readFileSync(log, "utf8").split("\n").filter(Boolean), ["ip addr replace 172.29.0.254/24 dev vx0", "-q -U -c 2 -w 3 -I vx0 172.29.0.254"]);
                fs.writeFileSync(path.join(dir, "fail"), "");
                fs.rmSync(log);
                const failed = spawnSync("/bin/sh", take.slice(1), { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` }, encoding: "utf8", timeout: 20_000 });
                assert.strictEqual(failed.status, 100);
                await new Promise((res) => setTimeout(res, 200));
                assert.deepStrictEqual(fs.readFileSync(log, "utf8").split("\n").filter(Boolean), ["ip addr replace 172.29.0.254/24 dev vx0"]);
                for (const check of [argv, announceArgv("vx0", undefined)!]) {
                    const none = spawnSync("/bin/sh", check.slice(1), { env: { PATH: path.join(dir, "empty") }, encoding: "utf8" });
                    assert.strictEqual(none.status, 127);
                    assert.match(none.stderr, /arping not found: announcing addresses on vx0 needs it \(Debian and Ubuntu: iputils-arping\)/);
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("firewall accept", () => {
        const f = ok(normalizeFirewall, { cidr: "10.166.0.0/16", invalidOnly: true, marker: "pods" });
        it("inserts first in FORWARD with a comment, and finds its rules in iptables -S", () => {
            assert.deepStrictEqual(iptablesInsertArgv(f, "src"), ["iptables", "-w", "5", "-I", "FORWARD", "1", "-s", "10.166.0.0/16", "-m", "conntrack", "--ctstate", "INVALID", "-m", "comment", "--comment", "routed-overlay:pods:10.166.0.0/16:invalid:src", "-j", "ACCEPT"]);
            const listing = '-P FORWARD DROP\n-A FORWARD -s 10.166.0.0/16 -m conntrack --ctstate INVALID -m comment --comment "routed-overlay:pods:10.166.0.0/16:invalid:src" -j ACCEPT\n';
            assert.deepStrictEqual(iptablesPresent(f, listing), ["src"]);
        });
        it("speaks nftables too, with the comment quoted for nft's own parser", () => {
            assert.deepStrictEqual(nftInsertArgv(f, "dst"), ["nft", "insert", "rule", "inet", "filter", "forward", "ip", "daddr", "10.166.0.0/16", "ct", "state", "invalid", "accept", "comment", '"routed-overlay:pods:10.166.0.0/16:invalid:dst"']);
            const json = JSON.stringify({ nftables: [{ rule: { handle: 7, comment: "routed-overlay:pods:10.166.0.0/16:invalid:dst" } }, { rule: { handle: 8, comment: "other" } }] });
            assert.deepStrictEqual(nftHandles(f, json), { dst: [7] });
        });
        it("refuses markers and chains that are not plain words", () => {
            assert.match(bad(normalizeFirewall, { cidr: "10.166.0.0/16", marker: "a b" }), /marker: must be .* "a b"/);
            assert.match(bad(normalizeFirewall, { cidr: "10.166.0.0/16", marker: "m", nftChain: "inet filter forward; flush ruleset" }), /nftChain: expected/);
        });
    });

    describe("bulk sets", () => {
        it("keys routes by destination and finds duplicates", () => {
            const s = ok(normalizeRouteSet, { table: 7, routes: [{ dst: "10.1.0.0/16", dev: "eth0" }, { dst: "10.2.0.0/16", dev: "eth0", metric: 5 }] }) as { routes: object };
            assert.deepStrictEqual(Object.keys(s.routes), ["10.1.0.0/16", "10.2.0.0/16 metric 5"]);
            assert.match(bad(normalizeRouteSet, { table: 7, routes: [{ dst: "10.1.0.0/16", dev: "eth0" }, { dst: "10.1.0.0/16", dev: "eth1" }] }), /routes\[1\]\.dst: appears twice \(metric 0\): "10\.1\.0\.0\/16"/);
            assert.match(bad(normalizeRouteSet, { routes: [{ dst: "10.1.0.0/16", dev: "eth0", table: 9 }] }), /routes\[0\]\.table: set table on the RouteSet/);
            assert.match(bad(normalizeFdbSet, { dev: "vx0", entries: [{ dst: "192.168.2.300" }] }), /entries\[0\]\.dst: not an IP address: "192\.168\.2\.300"/);
        });
        it("sameJson: equal exactly when the key-sorted JSON is, over random values and their key-shuffled copies", () => {
            let x = 99;
            const r = (n: number) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n; };
            const value = (depth: number): unknown => {
                const k = r(depth > 2 ? 4 : 7);
                if (k === 0) return r(3);
                if (k === 1) return ["a", "b", ""][r(3)];
                if (k === 2) return [null, true, false][r(3)];
                if (k === 3) return undefined;
                if (k === 4) return Array.from({ length: r(3) }, () => value(depth + 1) ?? null);
                return Object.fromEntries(Array.from({ length: r(4) }, () => [["p", "q", "s"][r(3)], value(depth + 1)]));
            };
            const shuffled = (v: unknown): unknown => Array.isArray(v) ? v.map(shuffled)
                : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, y]) => [k, shuffled(y)])) : v;
            let equal = 0;
            for (let i = 0; i < 20_000; i++) {
                const a = value(0), b = i % 3 === 0 ? shuffled(a) : value(0);
                const want = canonicalJson(a) === canonicalJson(b);
                if (want) equal++;
                assert.strictEqual(sameJson(a, b), want, `${canonicalJson(a)} vs ${canonicalJson(b)}`);
            }
            assert.ok(equal > 5_000 && equal < 15_000, `${equal} equal pairs: the corpus must hold both`);
        });
        it("plans the smallest delta: an identity change is a remove plus an add", () => {
            const same = sameJson;
            const d = delta({ a: { id: 1, v: 1 }, b: { id: 2, v: 1 }, c: { id: 3, v: 1 } }, { a: { id: 1, v: 2 }, b: { id: 9, v: 1 }, d: { id: 4, v: 1 } }, same, (x, y) => x.id === y.id);
            assert.deepStrictEqual(d.change.map(([k]) => k), ["a"]);
            assert.deepStrictEqual(d.remove.map(([k]) => k), ["b", "c"]);
            assert.deepStrictEqual(d.add.map(([k]) => k), ["b", "d"]);
        });
    });

    describe("ip -batch plumbing", () => {
        it("splits back-to-back JSON documents and finds the failed line", () => {
            assert.deepStrictEqual(parseJsonStream('[{"a":"]"}]\n[]\n[{"b":1}]'), [[{ a: "]" }], [], [{ b: 1 }]]);
            assert.strictEqual(failedBatchLine("Error: Nexthop has invalid gateway.\nCommand failed -:12\n"), 12);
        });
    });

    describe("the generic lifecycle", () => {
        it("fails an operation without a stack trace, unless the error is a bug of ours", async () => {
            // The SDK prints `${e}: ${e.stack}` for a failed read or delete: frames would land in the user's CI log.
            // A key that does not parse fails before any connection is made.
            const unusable = { host: "192.0.2.1", privateKey: "not a key", hostKey: "SHA256:x" };
            for (const op of [() => kinds.Route.read("i", { connection: unusable, dst: "10.1.0.0/16", dev: "eth0" }),
                () => kinds.Route.delete("i", { connection: unusable, dst: "10.1.0.0/16", dev: "eth0" })]) {
                await assert.rejects(op(), (e: Error) => {
                    assert.match(e.message, /privateKey/);
                    assert.strictEqual(e.stack, "");
                    return true;
                });
            }
            // No connection at all is a state this package never writes: a TypeError, and its frames are kept for the report.
            await assert.rejects(kinds.Route.read("i", { dst: "10.1.0.0/16", dev: "eth0" }), (e: Error) => e instanceof TypeError && /\n\s+at /.test(e.stack ?? ""));
        });
        const conn = { host: "192.0.2.11", password: "pw", hostKey: "SHA256:KLR9DN/vOaa7+L8+65a7hReJd6C0uWaRC9D2JkaQrBw" };
        it("check returns canonical inputs and names failures by argument", async () => {
            const c = await kinds.Route.check({}, { connection: conn, dst: "10.1.0.0/16", dev: "eth0" });
            assert.strictEqual(c.failures, undefined);
            assert.strictEqual(c.inputs!.metric, 0);
            const f = await kinds.Route.check({}, { connection: { host: "x y" }, dst: "nope" });
            // A connection is never named as the property: the engine would print its value itself.
            assert.deepStrictEqual(f.failures!.map((x) => x.property).sort(), ["", "", "", "", "dst"]);
            assert.match(f.failures!.map((x) => x.reason).join("\n"), /^connection\.host: not a host name or IP address: "x y"$/m);
        });
        it("takes a sysctl's integer value as its text, and several words as one value", async () => {
            assert.strictEqual((await kinds.Sysctl.check({}, { connection: conn, key: "net.ipv4.ip_forward", value: 1 })).inputs!.value, "1");
            assert.strictEqual((await kinds.Sysctl.check({}, { connection: conn, key: "net.ipv4.ip_local_port_range", value: "32768\t 60999" })).inputs!.value, "32768 60999");
            assert.strictEqual((await kinds.Sysctl.check({}, { connection: conn, key: "net.ipv4.ip_forward", value: 1.5 })).failures?.length, 1);
        });
        it("check at preview leaves values not known yet to the check at up, and still reports the rest", async () => {
            const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
            assert.strictEqual((await kinds.Route.check({}, { connection: conn, dst: "10.1.0.0/16", gateway: unknown })).failures?.length ?? 0, 0);
            assert.strictEqual((await kinds.RouteSet.check({}, { connection: conn, routes: unknown })).failures?.length ?? 0, 0);
            assert.strictEqual((await kinds.Route.check({}, { connection: unknown, dst: "10.1.0.0/16", dev: "eth0" })).failures?.length ?? 0, 0);
            const f = await kinds.Route.check({}, { connection: conn, dst: "10.1.0.0/33", gateway: unknown });
            assert.deepStrictEqual(f.failures!.map((x) => x.reason), ['dst: not a CIDR: "10.1.0.0/33"']);
        });
        it("diff at preview reports a replace only for identity known to differ", async () => {
            const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
            const olds = { connection: conn, table: 254, routes: { "10.166.0.0/16": "via 192.168.2.10 dev eth0" }, present: true };
            // check left these raw at preview: the table's default is not filled in, the routes are unknown.
            const d = await kinds.RouteSet.diff("i", olds, { connection: conn, routes: unknown });
            assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
            assert.deepStrictEqual((await kinds.RouteSet.diff("i", olds, { connection: conn, table: 100, routes: unknown })).replaces, ["table"]);
        });
        it("diff replaces on identity, updates in place otherwise, and repairs an absent object", async () => {
            const base = { connection: conn, dst: "10.1.0.0/16", table: 254, metric: 0, type: "unicast", proto: 214, dev: "eth0" };
            assert.deepStrictEqual(await kinds.Route.diff("i", { ...base, present: true }, base), { changes: false, replaces: [], deleteBeforeReplace: false });
            assert.deepStrictEqual((await kinds.Route.diff("i", { ...base, present: true }, { ...base, gateway: "10.0.0.1" })).replaces, []);
            assert.deepStrictEqual((await kinds.Route.diff("i", { ...base, present: true }, { ...base, metric: 5 })).replaces, ["metric"]);
            assert.strictEqual((await kinds.Route.diff("i", { ...base, present: false }, base)).changes, true);
            assert.deepStrictEqual((await kinds.Route.diff("i", base, { ...base, connection: { ...conn, host: "192.0.2.12" } })).replaces, ["connection"]);
            const ssh = { host: "198.18.0.11", privateKey: "k", hostKey: "SHA256:KLR9DN/vOaa7+L8+65a7hReJd6C0uWaRC9D2JkaQrBw" };
            const repinned = await kinds.Route.diff("i", { ...base, connection: ssh, present: true }, { ...base, connection: { ...ssh, hostKey: "ssh-ed25519 AAAA" } });
            assert.deepStrictEqual([repinned.changes, repinned.replaces], [true, []], "a new hostKey must reach the saved outputs by an in-place update");
        });
    });
});
