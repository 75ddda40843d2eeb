import { threeNodes } from "../support/fabric-fixture";
import { formatProblem, Problem } from "../../common/problems";
import * as assert from "assert";
import { ZERO_MAC } from "../../common/net";
import { diffPlans, isEmptyDiff } from "../support/plan-diff";
import {
    FABRIC_DEFAULTS,
    NodePlan,
    planRules,
    planTunnelFabric,
    ruleNamePart,
    legacyRuleNameParts,
    TunnelFabricSpec,
    validateTunnelFabric,
} from "../../components/render/fabric";
import { expectGolden } from "../support/golden";


const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const byNode = (plans: NodePlan[]) => Object.fromEntries(plans.map((p) => [p.node, p]));

describe("TunnelFabric plan", () => {
    const p1 = planTunnelFabric(threeNodes("node1"));
    const p2 = planTunnelFabric(threeNodes("node2"));

    it("names each rule by its selector as version 0.1 named its Rule resources, which the RouteSets take over on an upgrade", () => {
        assert.deepStrictEqual(
            [...planRules(threeNodes("node1"), "node1"), ...planRules(threeNodes("node1"), "node2")].map(ruleNamePart),
            ["from-10.200.0.0_16", "from-10.201.0.0_16", "to-10.200.0.0_16", "to-10.201.0.0_16"]);
        // Both roles' rules, whichever node is active: an upgrade may come with a move.
        assert.deepStrictEqual(legacyRuleNameParts(threeNodes("node2")), ["from-10.200.0.0_16", "from-10.201.0.0_16", "to-10.200.0.0_16", "to-10.201.0.0_16"]);
        assert.deepStrictEqual(legacyRuleNameParts({ ...threeNodes("node1"), gatewayInIf: "liqo-tunnel", localCidrs: ["10.166.0.0/16"] }),
            ["from-10.166.0.0_16-to-10.200.0.0_16", "from-10.166.0.0_16-to-10.201.0.0_16", "to-10.166.0.0_16-iif-liqo-tunnel"].sort());
        assert.strictEqual(ruleNamePart({ from: "10.166.0.0/16", to: "10.200.0.0/16", iif: "liqo-tunnel" }), "from-10.166.0.0_16-to-10.200.0.0_16-iif-liqo-tunnel");
    });

    it("matches the goldens for active gateway node1 and node2, and their diff", () => {
        expectGolden("fabric/plan-active-node1.json", json(p1));
        expectGolden("fabric/plan-active-node2.json", json(p2));
        expectGolden("fabric/diff-node1-to-node2.json", json(diffPlans(p1, p2)));
    });

    it("gives every node a unicast VXLAN link with Liqo's defaults and one permanent all-zero FDB entry per other node", () => {
        for (const p of p1) {
            assert.deepStrictEqual(
                { name: p.link.name, vni: p.link.vni, dstport: p.link.dstport, mtu: p.link.mtu, learning: p.link.learning, up: p.link.up },
                { name: "liqo.vxlan", vni: 18952, dstport: 4789, mtu: 1440, learning: false, up: true },
            );
            assert.strictEqual(p.fdb.length, 2);
            for (const f of p.fdb) {
                assert.deepStrictEqual([f.mac, f.dev, f.permanent], [ZERO_MAC, "liqo.vxlan", true]);
                assert.notStrictEqual(f.dst, p.link.local);
            }
        }
        assert.deepStrictEqual(byNode(p1).node2.link.addresses, ["172.29.0.2/24"]);
    });

    it("steers remote CIDRs to the active gateway's overlay address on the other nodes, in table 18952", () => {
        const n3 = byNode(p1).node3;
        assert.deepStrictEqual(n3.rules, [
            { priority: 18952, to: "10.200.0.0/16", table: 18952 },
            { priority: 18952, to: "10.201.0.0/16", table: 18952 },
        ]);
        assert.deepStrictEqual(n3.routes, [
            { dst: "10.200.0.0/16", gateway: "172.29.0.1", dev: "liqo.vxlan", table: 18952 },
            { dst: "10.201.0.0/16", gateway: "172.29.0.1", dev: "liqo.vxlan", table: 18952 },
        ]);
    });

    it("gives the active gateway symmetric /32 routes to every other node's pods and a from-remote rule", () => {
        const n1 = byNode(p1).node1;
        assert.deepStrictEqual(n1.rules.map((r) => r.from), ["10.200.0.0/16", "10.201.0.0/16"]);
        assert.ok(n1.rules.every((r) => r.to === undefined && r.table === 18952));
        assert.deepStrictEqual(
            n1.routes.map((r) => `${r.dst} via ${r.gateway}`),
            ["10.166.2.10/32 via 172.29.0.2", "10.166.2.11/32 via 172.29.0.2", "10.166.3.10/32 via 172.29.0.3", "10.166.3.11/32 via 172.29.0.3"],
        );
        // A non-candidate never needs the pod routes.
        assert.ok(byNode(p1).node3.routes.every((r) => !r.dst.startsWith("10.166.")));
    });

    it("changes only what depends on the active gateway when it moves", () => {
        const d = diffPlans(p1, p2);
        assert.deepStrictEqual(d.map((x) => x.node), ["node1", "node2", "node3"]);
        for (const x of d) {
            assert.strictEqual(x.link, undefined);
            assert.deepStrictEqual(x.fdb, { added: [], removed: [] });
            // The pre-installed per-pod routes of the candidates stay put.
            for (const r of [...x.routes.added, ...x.routes.removed]) assert.ok(r.dst.startsWith("10.20"), `${x.node}: ${r.dst}`);
        }
        const [n1, n2, n3] = d;
        assert.strictEqual(n1.rules.removed.length, 2);
        assert.strictEqual(n1.rules.added.length, 2);
        assert.ok(n1.routes.removed.length === 0 && n1.routes.added.every((r) => r.gateway === "172.29.0.2"));
        assert.ok(n2.routes.added.length === 0 && n2.routes.removed.every((r) => r.gateway === "172.29.0.1"));
        assert.deepStrictEqual(n3.rules, { added: [], removed: [] });
        assert.deepStrictEqual(n3.routes.removed.map((r) => r.gateway), ["172.29.0.1", "172.29.0.1"]);
        assert.deepStrictEqual(n3.routes.added.map((r) => r.gateway), ["172.29.0.2", "172.29.0.2"]);
        assert.ok(diffPlans(p1, p1).every(isEmptyDiff));
    });

    describe("with a gateway address", () => {
        const g1 = planTunnelFabric({ ...threeNodes("node1"), gatewayAddress: "172.29.0.254" });
        const g2 = planTunnelFabric({ ...threeNodes("node2"), gatewayAddress: "172.29.0.254" });

        it("matches the goldens for active gateway node1 and node2, and their diff", () => {
            expectGolden("fabric/plan-gateway-address-node1.json", json(g1));
            expectGolden("fabric/plan-gateway-address-node2.json", json(g2));
            expectGolden("fabric/diff-gateway-address-node1-to-node2.json", json(diffPlans(g1, g2)));
        });

        it("routes through the address, which the active gateway holds and every candidate may announce", () => {
            const b = byNode(g1);
            assert.deepStrictEqual([b.node1.link.addresses, b.node2.link.addresses], [["172.29.0.1/24"], ["172.29.0.2/24"]]);
            // The candidates' links leave the address to its own resource, so a move does not change them.
            assert.deepStrictEqual([b.node1.link.otherAddresses, b.node2.link.otherAddresses, b.node3.link.otherAddresses], [["172.29.0.254/24"], ["172.29.0.254/24"], undefined]);
            assert.deepStrictEqual([b.node1.gatewayAddress, b.node2.gatewayAddress, b.node3.gatewayAddress], [
                { dev: "liqo.vxlan", address: "172.29.0.254/24", held: true, announce: true },
                { dev: "liqo.vxlan", address: "172.29.0.254/24", held: false, announce: true },
                undefined,
            ]);
            for (const n of [b.node2, b.node3]) {
                assert.deepStrictEqual(n.routes.filter((r) => r.dst.startsWith("10.20")).map((r) => r.gateway), ["172.29.0.254", "172.29.0.254"]);
            }
        });

        it("changes the two gateways only when the gateway moves, and neither link", () => {
            const d = diffPlans(g1, g2).filter((x) => !isEmptyDiff(x));
            assert.deepStrictEqual(d.map((x) => x.node), ["node1", "node2"]);
            assert.deepStrictEqual(d.map((x) => x.link), [undefined, undefined]);
            assert.deepStrictEqual([byNode(g2).node1.gatewayAddress!.held, byNode(g2).node2.gatewayAddress!.held], [false, true]);
            // node3 keeps its routes, rules and link: the same next hop, held elsewhere.
            assert.deepStrictEqual(byNode(g1).node3, byNode(g2).node3);
        });

        it("keeps the next hop for every node as it grows: a move changes two nodes at any size", () => {
            const big = (active: string) => planTunnelFabric({
                ...threeNodes(active), gatewayAddress: "172.29.0.254",
                nodes: Array.from({ length: 64 }, (_, i) => ({ name: `node${i + 1}`, address: `192.168.2.${i + 10}`, overlayAddress: `172.29.0.${i + 1}`, pods: [`10.166.${i + 1}.10`] })),
            });
            assert.deepStrictEqual(diffPlans(big("node1"), big("node2")).filter((x) => !isEmptyDiff(x)).map((x) => x.node), ["node1", "node2"]);
        });

        it("is refused where it cannot be the nodes' next hop", () => {
            const errs = (gatewayAddress: unknown) => validateTunnelFabric({ ...threeNodes(), gatewayAddress } as TunnelFabricSpec).map(formatProblem);
            assert.deepStrictEqual(errs("172.29.0.2"), ['args.gatewayAddress: duplicate address (also args.nodes[1].overlayAddress): "172.29.0.2"']);
            assert.deepStrictEqual(errs("172.28.0.254"), ['args.gatewayAddress: not inside overlayCidr 172.29.0.0/24; the nodes reach it on-link over the VXLAN link: "172.28.0.254"']);
            assert.deepStrictEqual(errs("172.29.0.255"), ['args.gatewayAddress: the network or broadcast address of overlayCidr 172.29.0.0/24: "172.29.0.255"']);
            assert.match(errs("fd00::1")[0], /^args\.gatewayAddress: /);
            assert.match(errs(42)[0], /^args\.gatewayAddress: .*42$/);
            assert.deepStrictEqual(errs("172.29.0.254"), []);
        });
    });

    it("is deterministic: input order does not change the plan", () => {
        const s = threeNodes();
        const shuffled: TunnelFabricSpec = {
            ...s,
            nodes: [...s.nodes].reverse().map((n) => ({ ...n, pods: [...(n.pods ?? [])].reverse() })),
            remoteCidrs: [...s.remoteCidrs].reverse(),
            gatewayNodes: [...s.gatewayNodes].reverse(),
        };
        assert.deepStrictEqual(planTunnelFabric(shuffled), p1);
    });

    it("uses `iif` with gatewayInIf and pairs rules with localCidrs (golden)", () => {
        const p = planTunnelFabric({ ...threeNodes(), gatewayInIf: "liqo-tunnel", localCidrs: ["10.166.0.0/16"], table: 100, rulePriority: 1000 });
        expectGolden("fabric/plan-iif-localcidrs.json", json(p));
        assert.deepStrictEqual(byNode(p).node1.rules, [{ priority: 1000, to: "10.166.0.0/16", iif: "liqo-tunnel", table: 100 }]);
        assert.deepStrictEqual(byNode(p).node3.rules, [
            { priority: 1000, from: "10.166.0.0/16", to: "10.200.0.0/16", table: 100 },
            { priority: 1000, from: "10.166.0.0/16", to: "10.201.0.0/16", table: 100 },
        ]);
    });

    it("leaves invalid input to the validator, which lists every problem", () => {
        const errs = validateTunnelFabric({ ...threeNodes(), vni: 0, port: 0 }).map(formatProblem);
        assert.ok(errs.some((e) => /^args\.vni/.test(e)) && errs.some((e) => /^args\.port/.test(e)), errs.join("\n"));
    });

    it("documents its defaults", () => {
        assert.deepStrictEqual(FABRIC_DEFAULTS, { linkName: "liqo.vxlan", vni: 18952, port: 4789, mtu: 1440, table: 18952, rulePriority: 18952 });
        assert.deepStrictEqual(validateTunnelFabric(threeNodes()).map(formatProblem), []);
    });
});

describe("TunnelFabric validation", () => {
    type Case = [string, (s: any) => void, string, unknown];
    const cases: Case[] = [
        ["a single node", (s) => (s.nodes = s.nodes.slice(0, 1)), "args.nodes", undefined],
        ["duplicate node names", (s) => (s.nodes[1].name = "node1"), "args.nodes[1].name", "node1"],
        ["an upper-case node name", (s) => (s.nodes[2].name = "Node3"), "args.nodes[2].name", "Node3"],
        ["an invalid underlay IP", (s) => (s.nodes[0].address = "192.168.2.256"), "args.nodes[0].address", "192.168.2.256"],
        ["a non-canonical underlay IP", (s) => (s.nodes[0].address = "192.168.002.10"), "args.nodes[0].address", "192.168.002.10"],
        ["a duplicate underlay IP", (s) => (s.nodes[1].address = "192.168.2.10"), "args.nodes[1].address", "192.168.2.10"],
        ["an underlay IP inside the overlay", (s) => (s.nodes[2].address = "172.29.0.99"), "args.nodes[2].address", "172.29.0.99"],
        ["an overlay IP outside overlayCidr", (s) => (s.nodes[1].overlayAddress = "172.28.0.2"), "args.nodes[1].overlayAddress", "172.28.0.2"],
        ["an IPv6 overlay IP", (s) => (s.nodes[1].overlayAddress = "fd00::2"), "args.nodes[1].overlayAddress", "fd00::2"],
        ["the overlay network address", (s) => (s.nodes[0].overlayAddress = "172.29.0.0"), "args.nodes[0].overlayAddress", "172.29.0.0"],
        ["a duplicate overlay IP", (s) => (s.nodes[2].overlayAddress = "172.29.0.1"), "args.nodes[2].overlayAddress", "172.29.0.1"],
        ["a bad underlay dev", (s) => (s.nodes[0].interface = "eth 0"), "args.nodes[0].interface", "eth 0"],
        ["an overlay CIDR with host bits", (s) => (s.overlayCidr = "172.29.0.1/24"), "args.overlayCidr", "172.29.0.1/24"],
        ["a /31 overlay", (s) => (s.overlayCidr = "172.29.0.0/31"), "args.overlayCidr", "172.29.0.0/31"],
        ["an active gateway that is not a candidate", (s) => (s.activeGateway = "node3"), "args.activeGateway", "node3"],
        ["a gateway candidate that is no node", (s) => s.gatewayNodes.push("node9"), "args.gatewayNodes[2]", "node9"],
        ["a remote CIDR with host bits", (s) => (s.remoteCidrs[0] = "10.200.1.0/16"), "args.remoteCidrs[0]", "10.200.1.0/16"],
        ["overlapping remote CIDRs", (s) => s.remoteCidrs.push("10.200.128.0/17"), "args.remoteCidrs[2]", "10.200.128.0/17"],
        ["a remote CIDR over the overlay", (s) => s.remoteCidrs.push("172.29.0.0/16"), "args.remoteCidrs[2]", "172.29.0.0/16"],
        ["no remote CIDR", (s) => (s.remoteCidrs = []), "args.remoteCidrs", []],
        ["a local CIDR that is also remote", (s) => (s.localCidrs = ["10.0.0.0/8"]), "args.localCidrs[0]", "10.0.0.0/8"],
        ["a pod outside localCidrs", (s) => (s.localCidrs = ["10.167.0.0/16"]), "args.nodes[0].pods[0]", "10.166.1.10"],
        ["an invalid pod IP", (s) => (s.nodes[0].pods[1] = "10.166.1.300"), "args.nodes[0].pods[1]", "10.166.1.300"],
        ["a pod inside a remote CIDR", (s) => (s.nodes[1].pods[0] = "10.200.0.5"), "args.nodes[1].pods[0]", "10.200.0.5"],
        ["a pod IP on two nodes", (s) => (s.nodes[2].pods[0] = "10.166.1.10"), "args.nodes[2].pods[0]", "10.166.1.10"],
        ["a loopback pod IP", (s) => (s.nodes[2].pods[0] = "127.0.0.1"), "args.nodes[2].pods[0]", "127.0.0.1"],
        ["the main table", (s) => (s.table = 254), "args.table", 254],
        ["table 0", (s) => (s.table = 0), "args.table", 0],
        ["a table above 2^32-1", (s) => (s.table = 2 ** 32), "args.table", 2 ** 32],
        ["VNI 0", (s) => (s.vni = 0), "args.vni", 0],
        ["a 25-bit VNI", (s) => (s.vni = 16777216), "args.vni", 16777216],
        ["port 70000", (s) => (s.port = 70000), "args.port", 70000],
        ["MTU 67", (s) => (s.mtu = 67), "args.mtu", 67],
        ["MTU 9001", (s) => (s.mtu = 9001), "args.mtu", 9001],
        ["a link name over 15 bytes", (s) => (s.linkName = "liqo.vxlan.fabric"), "args.linkName", "liqo.vxlan.fabric"],
        ["rule priority 0", (s) => (s.rulePriority = 0), "args.rulePriority", 0],
        ["rule priority of main", (s) => (s.rulePriority = 32766), "args.rulePriority", 32766],
        ["gatewayInIf equal to the link", (s) => (s.gatewayInIf = "liqo.vxlan"), "args.gatewayInIf", "liqo.vxlan"],
        ["a misspelt property", (s) => (s.activeGatway = "node2"), "args.activeGatway", "node2"],
        ["a fractional MTU", (s) => (s.mtu = 1440.5), "args.mtu", 1440.5],
    ];

    for (const [what, mutate, arg, value] of cases) {
        it(`names the argument and the value for ${what}`, () => {
            const s = JSON.parse(JSON.stringify(threeNodes())) as TunnelFabricSpec;
            mutate(s);
            const errs = validateTunnelFabric(s).map(formatProblem);
            const shown = JSON.stringify(value === undefined ? (s as any).nodes : value);
            const hit = errs.find((e) => e.startsWith(`${arg}:`) && e.includes(shown));
            assert.ok(hit, `expected a message for ${arg} with ${shown}, got:\n${errs.join("\n")}`);
        });
    }

    it("counts at least 15 bad-input cases", () => assert.ok(cases.length >= 15));

    it("uses the given argument name", () => {
        const errs = validateTunnelFabric({ ...threeNodes(), vni: -1 }, "fabric").map(formatProblem);
        assert.deepStrictEqual(errs, ["fabric.vni: must be an integer from 1 to 16777215: -1"]);
    });
});
