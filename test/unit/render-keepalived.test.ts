import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { failoverBudget, GATEWAY_CHECK_SCRIPT, GatewayVipSpec, planGatewayVip, renderKeepalivedConf, validateGatewayVip, VipNode } from "../../components/render/keepalived";
import { expectGolden } from "../support/golden";

/** The lab segment of seed 000: node1 is 192.168.2.10, as in its `ip route add ... via 192.168.2.10`. */
const NODES: VipNode[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `192.168.2.${9 + i}`, interface: "eth0" }));

const BASIC: GatewayVipSpec = {
    vip: "192.168.2.250",
    segment: "192.168.2.0/24",
    virtualRouterId: 51,
    nodes: NODES,
    authPass: "ro-vip51",
    trackScript: { argv: ["/usr/local/libexec/routed-overlay/check-gateway", "--subnet", "10.166.0.0/16"] },
    // Kube-OVN's node interface: a node that lost it cannot route into the overlay.
    trackInterfaces: ["ovn0"],
    garpMasterDelay: 1,
};

const NOPREEMPT: GatewayVipSpec = {
    instanceName: "RO_routed",
    vip: "192.168.2.250/24",
    virtualRouterId: 52,
    nodes: NODES.map((n, i) => ({ ...n, priority: 200 - 50 * i })),
    advertInt: 2,
    nopreempt: true,
};

/** A throwaway self-signed certificate's shape: only the PEM armour is checked. */
const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const FOLLOW: GatewayVipSpec = {
    vip: "192.168.2.250/24",
    virtualRouterId: 53,
    // In the subnet's gatewayNode order.
    nodes: NODES.slice(0, 2),
    followGateway: { subnet: "central", apiServer: "https://192.168.2.5:6443", caCert: CA, token: "abc.DEF-123_~+/=" },
};

const CASES: Record<string, GatewayVipSpec> = { basic: BASIC, nopreempt: NOPREEMPT, follow: FOLLOW };

const stateOf = (conf: string) => /^ {4}state (\w+)$/m.exec(conf)?.[1];

describe("keepalived renderer", () => {
    for (const [name, spec] of Object.entries(CASES)) {
        for (const { node, config } of planGatewayVip(spec)) {
            it(`renders ${name} for ${node} as its golden file`, () => expectGolden(`keepalived/${name}-${node}.conf`, config));
        }
    }

    it("makes the first node MASTER at 150 and the others BACKUP at 140, 130", () => {
        const plan = planGatewayVip(BASIC);
        assert.deepStrictEqual(plan.map((p) => stateOf(p.config)), ["MASTER", "BACKUP", "BACKUP"]);
        assert.deepStrictEqual(plan.map((p) => /priority (\d+)/.exec(p.config)?.[1]), ["150", "140", "130"]);
    });

    it("starts every node as BACKUP with nopreempt, since keepalived ignores nopreempt on a MASTER", () => {
        const plan = planGatewayVip(NOPREEMPT);
        assert.deepStrictEqual(plan.map((p) => stateOf(p.config)), ["BACKUP", "BACKUP", "BACKUP"]);
        assert.ok(plan.every((p) => /^ {4}nopreempt$/m.test(p.config)));
    });

    it("gives the MASTER role to the highest explicit priority wherever it is listed", () => {
        const spec = { ...BASIC, nodes: NODES.map((n, i) => ({ ...n, priority: [100, 200, 150][i] })) };
        assert.deepStrictEqual(planGatewayVip(spec).map((p) => stateOf(p.config)), ["BACKUP", "MASTER", "BACKUP"]);
    });

    it("uses each node's own address as unicast source and the others' as peers", () => {
        const conf = renderKeepalivedConf(BASIC, "node2");
        assert.match(conf, /unicast_src_ip 192\.168\.2\.11\n/);
        assert.match(conf, /unicast_peer \{\n {8}192\.168\.2\.10\n {8}192\.168\.2\.12\n {4}\}/);
    });

    it("takes the VIP's prefix from the segment, or /32 without one", () => {
        assert.match(renderKeepalivedConf(BASIC, "node1"), /192\.168\.2\.250\/24 dev eth0/);
        const bare = { ...BASIC, segment: undefined };
        assert.match(renderKeepalivedConf(bare, "node1"), /192\.168\.2\.250\/32 dev eth0/);
    });

    it("renders the script weight, and global_defs with only the router_id without script or garp delay", () => {
        const spec = { ...BASIC, trackScript: { ...BASIC.trackScript!, weight: -20 }, garpMasterDelay: undefined };
        assert.match(renderKeepalivedConf(spec, "node1"), /^ {4}weight -20$/m);
        const plain = renderKeepalivedConf(NOPREEMPT, "node1");
        // keepalived would otherwise resolve the host name at start, waiting out the resolver where DNS is unreachable.
        assert.match(plain, /^global_defs \{\n {4}router_id node1\n\}\n/m);
        assert.doesNotMatch(plain, /enable_script_security|vrrp_script|track_script|authentication/);
    });

    it("ends with one newline, indents with 4 spaces and holds no tab", () => {
        for (const { config } of [...planGatewayVip(BASIC), ...planGatewayVip(NOPREEMPT)]) {
            assert.ok(config.endsWith("}\n") && !config.endsWith("\n\n"));
            assert.ok(!config.includes("\t"));
            assert.ok(config.split("\n").every((l) => /^( {4})*\S/.test(l) || l === "" || l.startsWith("#")));
        }
    });

    it("refuses to render for an unknown node, and leaves an invalid spec to the validator", () => {
        assert.match(validateGatewayVip({ ...BASIC, virtualRouterId: 0 }).map(formatProblem).join("\n"), /^args\.virtualRouterId: /m);
        assert.throws(() => renderKeepalivedConf(BASIC, "node9"), /no node named "node9"/);
    });
});

/**
 * keepalived's own parser (scripts/setup.sh installs it) as the syntax check.
 * It refuses interfaces and scripts that do not exist here, so the specs are
 * moved onto an interface of this machine and a script that exists; the
 * rest of the text is the golden one.
 */
describe("keepalived --config-test", () => {
    const bin = "/usr/sbin/keepalived";
    const links = fs.existsSync("/sys/class/net") ? fs.readdirSync("/sys/class/net") : [];
    const iface = links.includes("eth0") ? "eth0" : links.find((l) => l !== "lo" && /^[A-Za-z0-9_.-]{1,15}$/.test(l));

    function localised(spec: GatewayVipSpec): GatewayVipSpec {
        const t = spec.trackScript;
        return {
            ...spec,
            nodes: spec.nodes.map((n) => ({ ...n, interface: iface! })),
            trackInterfaces: undefined,
            trackScript: t && { ...t, argv: ["/usr/bin/true", ...t.argv.slice(1)] },
        };
    }

    for (const [name, spec] of Object.entries(CASES)) {
        it(`accepts every node's config of ${name} without a warning`, function () {
            if (!fs.existsSync(bin) || !iface) {
                if (process.env.CI === "true") throw new Error(`${bin} or a network interface is missing, and CI=true forbids skipping`);
                this.skip();
            }
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ro-keepalived-"));
            try {
                // The check's files where the config names them (enable_script_security wants a root-owned path).
                for (const { node, config, files } of planGatewayVip(localised(spec), dir)) {
                    for (const [p, f] of Object.entries(files)) fs.writeFileSync(p, f.content, { mode: Number.parseInt(f.mode, 8) });
                    const conf = path.join(dir, `${node}.conf`), log = path.join(dir, `${node}.log`);
                    fs.writeFileSync(conf, config);
                    const r = spawnSync(bin, [`--config-test=${log}`, "-f", conf], { encoding: "utf8", timeout: 20000 });
                    const said = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
                    assert.strictEqual(r.status, 0, `${node}: exit ${r.status}\n${said}${r.stderr}`);
                    assert.strictEqual(said.trim(), "", `${node}: ${said}`);
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }
});

describe("GatewayVip validation", () => {
    const withNode = (i: number, patch: Partial<VipNode> & Record<string, unknown>) => NODES.map((n, j) => (j === i ? { ...n, ...patch } : n));
    const bad: { why: string; spec: Partial<GatewayVipSpec> & Record<string, unknown>; msg: RegExp }[] = [
        { why: "a single node", spec: { nodes: [NODES[0]] }, msg: /^args\.nodes: needs at least 2 nodes, one node is a single point of failure: \[\{"name":"node1"/ },
        { why: "virtual_router_id 0", spec: { virtualRouterId: 0 }, msg: /^args\.virtualRouterId: must be an integer from 1 to 255: 0$/ },
        { why: "virtual_router_id 256", spec: { virtualRouterId: 256 }, msg: /^args\.virtualRouterId: must be an integer from 1 to 255: 256$/ },
        { why: "priority 255, the address owner's", spec: { nodes: NODES.map((n, i) => ({ ...n, priority: 255 - i })) }, msg: /^args\.nodes\[0\]\.priority: must be an integer from 1 to 254 .*: 255$/ },
        { why: "duplicate explicit priorities", spec: { nodes: NODES.map((n) => ({ ...n, priority: 100 })) }, msg: /^args\.nodes\[1\]\.priority: same as args\.nodes\[0\]: 100$/ },
        { why: "priorities on some nodes only", spec: { nodes: withNode(1, { priority: 120 }) }, msg: /^args\.nodes: give priority for every node or for none: \[null,120,null\]$/ },
        { why: "a node name that is not DNS-1123", spec: { nodes: withNode(2, { name: "Node3" }) }, msg: /^args\.nodes\[2\]\.name: not a valid node name .*: "Node3"$/ },
        { why: "duplicate node names", spec: { nodes: withNode(2, { name: "node1" }) }, msg: /^args\.nodes\[2\]\.name: duplicate node name \(also args\.nodes\[0\]\): "node1"$/ },
        { why: "duplicate addresses", spec: { nodes: withNode(1, { address: "192.168.2.10" }) }, msg: /^args\.nodes\[1\]\.address: duplicate address \(also args\.nodes\[0\]\): "192\.168\.2\.10"$/ },
        { why: "an interface name with a shell metacharacter", spec: { nodes: withNode(0, { interface: "eth0;reboot" }) }, msg: /^args\.nodes\[0\]\.interface: not a Linux interface name .*: "eth0;reboot"$/ },
        { why: "an interface name over 15 characters", spec: { nodes: withNode(0, { interface: "averyveryverylongif" }) }, msg: /^args\.nodes\[0\]\.interface: not a Linux interface name .*: "averyveryverylongif"$/ },
        { why: "an interface named ..", spec: { trackInterfaces: [".."] }, msg: /^args\.trackInterfaces\[0\]: not a Linux interface name .*: "\.\."$/ },
        { why: "tracking the VRRP interface itself", spec: { trackInterfaces: ["ovn0", "eth0"] }, msg: /^args\.trackInterfaces\[1\]: the VRRP interface of nodes\[0\], which keepalived tracks already: "eth0"$/ },
        { why: "a VIP outside the segment", spec: { vip: "192.168.3.250" }, msg: /^args\.vip: outside segment 192\.168\.2\.0\/24: "192\.168\.3\.250"$/ },
        { why: "a VIP on the broadcast address", spec: { vip: "192.168.2.255" }, msg: /^args\.vip: the network or broadcast address of segment 192\.168\.2\.0\/24: "192\.168\.2\.255"$/ },
        { why: "a VIP prefix other than the segment's", spec: { vip: "192.168.2.250/16" }, msg: /^args\.vip: prefix \/16 is neither \/32 nor the prefix of segment 192\.168\.2\.0\/24: "192\.168\.2\.250\/16"$/ },
        { why: "a VIP prefix that is not a number", spec: { vip: "192.168.2.250/024" }, msg: /^args\.vip: the prefix after the address must be \/1 to \/32: "192\.168\.2\.250\/024"$/ },
        { why: "a VIP that is a node's address", spec: { vip: "192.168.2.11" }, msg: /^args\.nodes\[1\]\.address: the VIP itself.*: "192\.168\.2\.11"$/ },
        { why: "an IPv6 VIP", spec: { vip: "fd00::250", segment: undefined }, msg: /^args\.vip: IPv6 is not supported here, need an IPv4 address: "fd00::250"$/ },
        { why: "a node outside the segment", spec: { nodes: withNode(2, { address: "192.168.3.12" }) }, msg: /^args\.nodes\[2\]\.address: outside segment 192\.168\.2\.0\/24: "192\.168\.3\.12"$/ },
        { why: "a segment with host bits", spec: { segment: "192.168.2.1/24" }, msg: /^args\.segment: host bits set \(use the network address 192\.168\.2\.0\/24\): "192\.168\.2\.1\/24"$/ },
        { why: "a fractional advert_int, which VRRPv2 rounds", spec: { advertInt: 0.5 }, msg: /^args\.advertInt: must be an integer from 1 to 255 \(VRRPv2 advertises whole seconds\): 0\.5$/ },
        { why: "an instance name with a space", spec: { instanceName: "RO 51" }, msg: /^args\.instanceName: must be 1-64 of A-Z a-z 0-9 _ -: "RO 51"$/ },
        { why: "a relative script path", spec: { trackScript: { argv: ["check-gateway"] } }, msg: /^args\.trackScript\.argv\[0\]: must be an absolute path: "check-gateway"$/ },
        { why: "a script argument with a space", spec: { trackScript: { argv: ["/bin/check", "a b"] } }, msg: /^args\.trackScript\.argv\[1\]: may hold only .*: "a b"$/ },
        { why: "a script argument with a quote", spec: { trackScript: { argv: ["/bin/check", 'say"hi'] } }, msg: /^args\.trackScript\.argv\[1\]: may hold only .*: "say\\"hi"$/ },
        { why: "a script argument with a newline", spec: { trackScript: { argv: ["/bin/check\n}"] } }, msg: /^args\.trackScript\.argv\[0\]: may hold only .*: "\/bin\/check\\n}"$/ },
        { why: "an empty argv", spec: { trackScript: { argv: [] } }, msg: /^args\.trackScript\.argv: needs at least 1 entry: \[\]$/ },
        { why: "a weight too small to move the VIP", spec: { trackScript: { argv: ["/bin/check"], weight: -10 } }, msg: /^args\.trackScript\.weight: \|weight\| must exceed the gap .*\(150 - 140\).*: -10$/ },
        { why: "a weight with nopreempt", spec: { nopreempt: true, trackScript: { argv: ["/bin/check"], weight: -50 } }, msg: /^args\.trackScript\.weight: with nopreempt .*: -50$/ },
        { why: "a weight pushing a priority past 254", spec: { trackScript: { argv: ["/bin/check"], weight: 120 } }, msg: /^args\.trackScript\.weight: priority 150 \+ weight leaves 1\.\.254.*: 120$/ },
        { why: "a negative garp delay", spec: { garpMasterDelay: -1 }, msg: /^args\.garpMasterDelay: must be an integer from 0 to 3600: -1$/ },
        { why: "followGateway with an http API URL", spec: { followGateway: { ...FOLLOW.followGateway!, apiServer: "http://10.0.0.1:6443" } }, msg: /^args\.followGateway\.apiServer: must be https:\/\/host\[:port\] .*: "http:\/\/10\.0\.0\.1:6443"$/ },
        { why: "followGateway with an API URL holding a path", spec: { followGateway: { ...FOLLOW.followGateway!, apiServer: "https://k8s:6443/api" } }, msg: /^args\.followGateway\.apiServer: must be https:\/\/host.*: "https:\/\/k8s:6443\/api"$/ },
        { why: "followGateway with a token holding a newline (a header of its own)", spec: { followGateway: { ...FOLLOW.followGateway!, token: "abc\nX-Evil: 1" } }, msg: /^args\.followGateway\.token: must be a bearer token.*: \(not shown: a secret, 13 characters\)$/ },
        { why: "followGateway with a CA that is no PEM", spec: { followGateway: { ...FOLLOW.followGateway!, caCert: "/etc/kubernetes/pki/ca.crt" } }, msg: /^args\.followGateway\.caCert: must be a PEM certificate .*: "\/etc\/kubernetes\/pki\/ca\.crt…"$/ },
        { why: "followGateway with a subnet name that is not DNS-1123", spec: { followGateway: { ...FOLLOW.followGateway!, subnet: "Central" } }, msg: /^args\.followGateway\.subnet: not a valid Subnet name.*: "Central"$/ },
        { why: "followGateway with an interval (a watch replaced the periodic check)", spec: { followGateway: { ...FOLLOW.followGateway!, interval: 1 } as never }, msg: /^args\.followGateway\.interval: unknown property/ },
        { why: "followGateway with nopreempt", spec: { nopreempt: true, followGateway: FOLLOW.followGateway }, msg: /^args\.followGateway: needs preemption: .*remove nopreempt$/ },
        { why: "followGateway with priorities that do not fall in node order", spec: { nodes: NODES.map((n, i) => ({ ...n, priority: [100, 200, 50][i] })), followGateway: FOLLOW.followGateway }, msg: /^args\.nodes\[1\]\.priority: with followGateway, priorities must fall in node order .*: 200$/ },
        { why: "followGateway whose weight would pass 254", spec: { nodes: NODES.map((n, i) => ({ ...n, priority: [250, 100, 2][i] })), followGateway: FOLLOW.followGateway }, msg: /^args\.followGateway: the highest priority plus the active gateway's weight \(250\) is 500, above 254/ },
        { why: "followGateway with a priority of 1 (a failing watcher takes 1 off)", spec: { nodes: NODES.map((n, i) => ({ ...n, priority: [5, 3, 1][i] })), followGateway: FOLLOW.followGateway }, msg: /^args\.followGateway: every priority must be 2 or more: a node whose watcher fails drops by 1: 1$/ },
        { why: "a misspelt followGateway property", spec: { followGateway: { ...FOLLOW.followGateway!, apiserver: "x" } as never }, msg: /^args\.followGateway\.apiserver: unknown property/ },
        { why: "a misspelt property", spec: { advert_int: 1 }, msg: /^args\.advert_int: unknown property .*: 1$/ },
        { why: "a misspelt secret, whose value is not echoed", spec: { authpass: "hunter22" }, msg: /^args\.authpass: unknown property .*: \(not shown: a secret, 8 characters\)$/ },
    ];

    for (const b of bad) {
        it(`rejects ${b.why}`, () => {
            const errs = validateGatewayVip({ ...BASIC, ...b.spec } as GatewayVipSpec).map(formatProblem);
            assert.ok(errs.some((e) => b.msg.test(e)), `no message matched ${b.msg}:\n${errs.join("\n")}`);
        });
    }

    describe("authPass, a secret", () => {
        const cases = [
            { why: "longer than 8 characters, which keepalived truncates", pass: "ninechars", msg: /^args\.authPass: must be 1 to 8 characters, keepalived silently truncates .*: \(not shown: a secret, 9 characters\)$/ },
            { why: "holding a space", pass: "a b", msg: /^args\.authPass: may hold only .*: \(not shown: a secret, 3 characters\)$/ },
            { why: "holding a comment character", pass: "pa#ss", msg: /^args\.authPass: may hold only .*: \(not shown: a secret, 5 characters\)$/ },
            { why: "empty", pass: "", msg: /^args\.authPass: must be 1 to 8 characters.*: \(not shown: a secret, 0 characters\)$/ },
        ];
        for (const c of cases) {
            it(`rejects a password ${c.why}, naming its length but never the value`, () => {
                const errs = validateGatewayVip({ ...BASIC, authPass: c.pass }).map(formatProblem);
                assert.ok(errs.some((e) => c.msg.test(e)), errs.join("\n"));
                if (c.pass) assert.ok(errs.every((e) => !e.includes(c.pass)), errs.join("\n"));
            });
        }
    });

    it("accepts the golden specs, a weighted script and a bare two-node VIP", () => {
        for (const spec of [
            ...Object.values(CASES),
            { ...BASIC, trackScript: { argv: ["/bin/check"], interval: 1, fall: 3, rise: 1, weight: -20 } },
            { ...BASIC, trackScript: { argv: ["/bin/check"], weight: 20 } },
            { vip: "10.0.0.100", virtualRouterId: 1, nodes: NODES.slice(0, 2) },
            { ...BASIC, vip: "192.168.2.250/32" },
        ]) {
            assert.deepStrictEqual(validateGatewayVip(spec).map(formatProblem), [], JSON.stringify(spec));
        }
    });

    it("prefixes messages with the given argument path", () => {
        assert.match(validateGatewayVip({ ...BASIC, virtualRouterId: 0 }, "gatewayVip").map(formatProblem)[0], /^gatewayVip\.virtualRouterId: /);
    });
});

describe("failover budget (RFC 3768 Master_Down_Interval and Skew_Time)", () => {
    it("a silent master: 3 x advertInt + the highest backup's skew", () => {
        // Priorities 150, 140, 130: the backup at 140 waits 3 x 1 + (256 - 140) / 256 s.
        assert.deepStrictEqual(failoverBudget({ nodes: NODES }), { silentMaster: 3.45, seconds: 3.45 });
        assert.deepStrictEqual(failoverBudget({ nodes: NODES, advertInt: 2 }), { silentMaster: 6.45, seconds: 6.45 });
        const given = NODES.map((n, i) => ({ ...n, priority: [100, 200, 50][i] }));
        assert.strictEqual(failoverBudget({ nodes: given }).silentMaster, 3.61, "the backup is the second-highest priority (100), wherever it is listed");
        assert.ok(failoverBudget({ nodes: NODES }).seconds <= 3 * 1 + 1, "within 3 x advertInt + 1 s with the defaults");
    });

    it("following the gateway: the new gateway's master-down interval at its weighted priority, after the cluster names it", () => {
        // Priorities 150, 140 and the weight 12: the new gateway (at 152) waits at most 3 x 1 + (256 - 152) / 256 s.
        assert.deepStrictEqual(failoverBudget(FOLLOW), { silentMaster: 3.45, followGateway: 3.41, seconds: 3.45 });
        // Three gateways: node3 named has the lowest weighted priority, 130 + 22 = 152 again (the highest + 2).
        assert.strictEqual(failoverBudget({ ...FOLLOW, nodes: NODES }).followGateway, 3.41);
        assert.strictEqual(failoverBudget({ ...FOLLOW, advertInt: 2 }).followGateway, 6.41);
        assert.ok(failoverBudget(FOLLOW).followGateway! <= 3 * 1 + 1, "within 3 x advertInt + 1 s with the defaults");
    });

    it("a failing track script: fall runs of interval, then the skew (FAULT), or a whole master-down interval with a weight", () => {
        assert.deepStrictEqual(failoverBudget({ nodes: NODES, trackScript: { argv: ["/bin/check"] } }), { silentMaster: 3.45, trackScript: 4.45, seconds: 4.45 });
        assert.deepStrictEqual(failoverBudget({ nodes: NODES, trackScript: { argv: ["/bin/check"], interval: 1, fall: 1 } }), { silentMaster: 3.45, trackScript: 1.45, seconds: 3.45 });
        // The backup discards the demoted master's adverts (lower priority than its own) and waits out its Master_Down_Interval.
        assert.strictEqual(failoverBudget({ nodes: NODES, trackScript: { argv: ["/bin/check"], weight: -20 } }).trackScript, 7.45);
    });
});

describe("followGateway: the watcher keepalived runs on each node", () => {
    it("weights the active gateway above every other node through a tracked file, and names its files beside keepalived.conf", () => {
        const plans = planGatewayVip({ ...FOLLOW, nodes: NODES }, "/etc/ka");
        const conf = plans[2].config;
        // Priorities 150, 140, 130: the active node gets the spread (20) + 2.
        assert.match(conf, /vrrp_script RO_53_gateway_watch \{\n {4}script "\/etc\/ka\/RO_53-gateway\.sh https:\/\/192\.168\.2\.5:6443 central node3 \/etc\/ka\/RO_53-gateway\.header \/etc\/ka\/RO_53-gateway\.ca \/run\/routed-overlay-RO_53-gateway\.named 29"\n {4}interval 30\n {4}timeout 60\n {4}fall 3\n {4}rise 1\n\}/);
        assert.match(conf, /track_file RO_53_gateway \{\n {4}file "\/run\/routed-overlay-RO_53-gateway\.named"\n {4}weight 22\n {4}init_file 0\n\}/);
        assert.match(conf, /track_script \{\n {8}RO_53_gateway_watch weight -1\n {4}\}\n {4}track_file \{\n {8}RO_53_gateway\n {4}\}/);
        assert.deepStrictEqual(Object.entries(plans[2].files).map(([p, f]) => [p, f.mode]),
            [["/etc/ka/RO_53-gateway.sh", "0700"], ["/etc/ka/RO_53-gateway.header", "0600"], ["/etc/ka/RO_53-gateway.ca", "0600"]]);
        assert.strictEqual(plans[2].files["/etc/ka/RO_53-gateway.header"].content, "Authorization: Bearer abc.DEF-123_~+/=\n");
        assert.ok(!conf.includes("abc.DEF"), "the token is in the config");
        assert.deepStrictEqual(plans[2].scratch, ["/run/routed-overlay-RO_53-gateway.named", "/run/routed-overlay-RO_53-gateway.named.tmp"]);
        assert.deepStrictEqual(planGatewayVip(BASIC)[0].files, {});
    });

    /**
     * Runs the script as keepalived would, against a local HTTPS stand-in for
     * the API that answers the Subnet's GET and holds its watch open, sending
     * the events a test pushes.
     */
    describe("the script, run with sh against a local API", function () {
        this.timeout(60_000);
        let dir: string;
        let port = 0;
        let server: import("https").Server | undefined;
        /** The GET's answer; a watch is answered 200 and kept open. */
        let answer: { status: number; body: string } = { status: 200, body: "" };
        let requests: { url: string; auth?: string; agent?: string }[] = [];
        let watches: import("http").ServerResponse[] = [];
        /** How long the GET's answer takes. */
        let answerDelayMs = 0;
        before(async function () {
            const have = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
            if (!have("curl") || !have("openssl")) {
                if (process.env.CI === "true") throw new Error("curl or openssl is missing, and CI=true forbids skipping");
                this.skip();
            }
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ro-follow-"));
            const key = path.join(dir, "key.pem"), crt = path.join(dir, "crt.pem");
            const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", crt], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            const https = await import("https");
            server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(crt) }, (req, res) => {
                requests.push({ url: req.url!, auth: req.headers.authorization, agent: req.headers["user-agent"] });
                if (req.url!.includes("watch=1")) {
                    res.writeHead(200, { "Content-Type": "application/json" });
                    res.flushHeaders();
                    watches.push(res);
                    const seconds = Number(/timeoutSeconds=(\d+)/.exec(req.url!)?.[1] ?? 1);
                    setTimeout(() => res.end(), seconds * 1000).unref();
                    return;
                }
                const send = () => {
                    res.writeHead(answer.status, { "Content-Type": "application/json" });
                    res.end(answer.body);
                };
                if (answerDelayMs) setTimeout(send, answerDelayMs).unref();
                else send();
            });
            await new Promise<void>((ok) => server!.listen(0, "127.0.0.1", ok));
            port = (server.address() as import("net").AddressInfo).port;
            const spec = { ...FOLLOW, followGateway: { ...FOLLOW.followGateway!, apiServer: `https://127.0.0.1:${port}`, caCert: fs.readFileSync(crt, "utf8") } };
            for (const [p, f] of Object.entries(planGatewayVip(spec, dir)[0].files)) fs.writeFileSync(p, f.content, { mode: Number.parseInt(f.mode, 8) });
        });
        after(() => {
            for (const w of watches) w.destroy();
            server?.close();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });
        beforeEach(() => {
            answerDelayMs = 0;
            requests = [];
            watches = [];
            fs.rmSync(record(), { force: true });
        });

        const record = () => path.join(dir, "named");
        const read = () => (fs.existsSync(record()) ? fs.readFileSync(record(), "utf8") : "(none)");
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        /** Polls until `ok` (a condition, not a deadline of the behaviour: the limit only ends a broken run). */
        const until = async (what: string, ok: () => boolean) => {
            for (let i = 0; i < 100 && !ok(); i++) await sleep(50);
            assert.ok(ok(), what);
        };
        /** One run of the script, as keepalived starts it, for `seconds`. */
        const start = async (node: string, seconds: number) => {
            const { spawn } = await import("child_process");
            const child = spawn("sh", [path.join(dir, "RO_53-gateway.sh"), `https://127.0.0.1:${port}`, "central", node,
                path.join(dir, "RO_53-gateway.header"), path.join(dir, "RO_53-gateway.ca"), record(), String(seconds)]);
            const exit = new Promise<number>((ok) => child.on("exit", (code) => ok(code ?? -1)));
            return { exit, kill: () => child.kill() };
        };
        // Compact JSON, one object to a line, as kube-apiserver answers a client that is not curl.
        const subnet = (active: string | undefined, rv = "4242") => JSON.stringify({ kind: "Subnet", apiVersion: "kubeovn.io/v1",
            metadata: { name: "central", resourceVersion: rv, managedFields: [{ fieldsV1: { "f:status": { "f:activateGateway": {} } } }] },
            spec: { gatewayNode: "node1,node2" }, status: { ...(active !== undefined ? { activateGateway: active } : {}), v4usingIPs: 3 } });
        const push = (type: string, object: string) => watches[watches.length - 1].write(`{"type":"${type}","object":${object}}\n`);

        it("reads the Subnet, then follows its watch from that resourceVersion, with the token from the header file", async () => {
            answer = { status: 200, body: subnet("node2", "777") };
            const run = await start("node2", 6);
            await until("the verdict from the GET", () => read() === "1\n");
            await until("a watch", () => watches.length === 1);
            assert.deepStrictEqual(requests.map((r) => r.url.replace(/timeoutSeconds=\d+/, "timeoutSeconds=N")), [
                "/apis/kubeovn.io/v1/subnets/central",
                "/apis/kubeovn.io/v1/subnets?watch=1&fieldSelector=metadata.name%3Dcentral&resourceVersion=777&timeoutSeconds=N",
            ]);
            assert.ok(requests.every((r) => r.auth === "Bearer abc.DEF-123_~+/=" && r.agent === "routed-overlay"), JSON.stringify(requests));
            push("MODIFIED", subnet("node1"));
            await until("node1 named: 0 here", () => read() === "0\n");
            push("MODIFIED", subnet("node1,node2"));
            await until("one of several active gateways (enableEcmp)", () => read() === "1\n");
            push("MODIFIED", subnet("node"));
            await until("a prefix of this node's name is another node", () => read() === "0\n");
            run.kill();
            await run.exit;
        });

        it("keeps the file while the API answers with an error, sends an event naming no gateway, or ends the watch; exits 0 at the end of its run", async () => {
            answer = { status: 200, body: subnet("node1") };
            const run = await start("node1", 5);
            await until("the verdict from the GET", () => read() === "1\n");
            await until("a watch", () => watches.length === 1);
            push("MODIFIED", subnet(""));
            push("MODIFIED", subnet(undefined));
            push("ERROR", JSON.stringify({ kind: "Status", code: 410, reason: "Expired" }));
            answer = { status: 503, body: "{}" };
            watches[0].end();
            // The next round's GET fails: the file must stand through it.
            await until("another GET", () => requests.filter((r) => !r.url.includes("watch")).length >= 2);
            assert.strictEqual(read(), "1\n", "an event without a gateway or an API error changed the verdict");
            assert.strictEqual(await run.exit, 0, "a run ends by itself, with 0");
            assert.strictEqual(read(), "1\n");
        });

        it("writes nothing without an answer naming a gateway, and exits 0 with the API gone", async () => {
            answer = { status: 200, body: subnet(undefined) };
            const run = await start("node1", 3);
            assert.strictEqual(await run.exit, 0);
            assert.strictEqual(read(), "(none)");
            const unreachable = spawnSync("sh", [path.join(dir, "RO_53-gateway.sh"), "https://127.0.0.1:9", "central", "node1",
                path.join(dir, "RO_53-gateway.header"), path.join(dir, "RO_53-gateway.ca"), record(), "3"], { timeout: 20_000 });
            assert.strictEqual(unreachable.status, 0);
            assert.strictEqual(read(), "(none)");
        });

        it("opens no watch when the GET leaves under two seconds of its run (curl's --max-time 0 has no limit, the API's timeoutSeconds 0 its own)", async () => {
            answer = { status: 200, body: subnet("node1") };
            // date +%s counts whole seconds: after 3.2 s of a 4 s run, 1 s at most is left by its count.
            answerDelayMs = 3200;
            const run = await start("node1", 4);
            assert.strictEqual(await run.exit, 0);
            assert.strictEqual(read(), "1\n", "the late answer still counts");
            assert.deepStrictEqual(requests.map((r) => r.url), ["/apis/kubeovn.io/v1/subnets/central"]);
        });

        it("is the constant text the renderer ships", () => {
            assert.strictEqual(fs.readFileSync(path.join(dir, "RO_53-gateway.sh"), "utf8"), GATEWAY_CHECK_SCRIPT);
        });
    });
});
