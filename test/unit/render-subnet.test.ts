import * as assert from "assert";
import { formatProblem, Problem } from "../../common/problems";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse, stringify } from "yaml";
import { firstHost, overlaps, renderSubnet, SubnetSpecArgs, validateSubnetSpec } from "../../components/render/subnet";
import { expectGolden } from "../support/golden";

/** Seed 000, first manifest, as written there. */
const SEED_000: SubnetSpecArgs = {
    name: "routed",
    protocol: "IPv4",
    cidrBlock: "10.166.0.0/16",
    excludeIps: ["10.166.0.1"],
    gateway: "10.166.0.1",
    gatewayType: "distributed",
    natOutgoing: false,
};

const CASES: Record<string, SubnetSpecArgs> = {
    "seed-000": SEED_000,
    // Seed 002, "Physical environment".
    "seed-002": {
        name: "subnet-gateway",
        protocol: "IPv4",
        namespaces: ["ns1", "ns2"],
        cidrBlock: "100.64.0.0/16",
        gateway: "100.64.0.1",
        excludeIps: ["100.64.0.1"],
        private: false,
        gatewayType: "distributed",
        natOutgoing: false,
    },
    // Seed 000, second manifest (virtualized environments).
    "centralized-node1": { ...SEED_000, gatewayType: "centralized", gatewayNode: "node1" },
    "dual-stack": { name: "routed-dual", cidrBlock: "10.166.0.0/16,fd00:10:166::/112" },
};

function crdSchema(): Record<string, any> {
    const crd = parse(fs.readFileSync(path.resolve(__dirname, "../../../lab/crds/kubeovn-subnets.yaml"), "utf8"));
    return crd.spec.versions.find((v: { name: string }) => v.name === "v1").schema.openAPIV3Schema;
}

/**
 * The upstream schema leaves objects open (no additionalProperties), so a
 * misspelt field would pass; closing the top level and spec catches it.
 */
function closed(schema: Record<string, any>): Record<string, any> {
    const s = structuredClone(schema);
    s.additionalProperties = false;
    s.properties.spec.additionalProperties = false;
    return s;
}

describe("Subnet renderer", () => {
    // x-kubernetes-* keywords and the int32/date-time formats are not JSON Schema: strict off, formats unchecked.
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(closed(crdSchema()));

    for (const [name, args] of Object.entries(CASES)) {
        it(`renders ${name} as its golden file, valid against the upstream CRD schema`, () => {
            assert.deepStrictEqual(validateSubnetSpec(args).map(formatProblem), []);
            const manifest = renderSubnet(args);
            assert.ok(validate(manifest), JSON.stringify(validate.errors));
            const text = stringify(manifest);
            assert.deepStrictEqual(parse(text), manifest, "the YAML reads back as the manifest");
            expectGolden(`subnet/${name}.yaml`, text);
        });
    }

    it("has a schema check that catches a misspelt or mistyped spec field", () => {
        const m = renderSubnet(SEED_000) as { spec: Record<string, unknown> };
        assert.ok(!validate({ ...m, spec: { ...m.spec, natOutgoin: false } }));
        assert.ok(!validate({ ...m, spec: { ...m.spec, gatewayNode: ["node1"] } }));
    });

    it("reproduces seed 000's first manifest exactly", () => {
        assert.deepStrictEqual(renderSubnet(SEED_000), {
            apiVersion: "kubeovn.io/v1",
            kind: "Subnet",
            metadata: { name: "routed" },
            spec: {
                protocol: "IPv4",
                cidrBlock: "10.166.0.0/16",
                default: false,
                excludeIps: ["10.166.0.1"],
                gateway: "10.166.0.1",
                gatewayType: "distributed",
                natOutgoing: false,
            },
        });
    });

    it("reproduces seed 000's centralized manifest and seed 002's manifest field for field", () => {
        const central = renderSubnet(CASES["centralized-node1"]).spec as Record<string, unknown>;
        assert.strictEqual(central.gatewayType, "centralized");
        assert.strictEqual(central.gatewayNode, "node1");
        const s2 = renderSubnet(CASES["seed-002"]).spec as Record<string, unknown>;
        assert.deepStrictEqual(s2, {
            protocol: "IPv4",
            cidrBlock: "100.64.0.0/16",
            default: false,
            excludeIps: ["100.64.0.1"],
            gateway: "100.64.0.1",
            gatewayType: "distributed",
            natOutgoing: false,
            namespaces: ["ns1", "ns2"],
            private: false,
        });
    });

    it("derives the seed's protocol, gateway, excludeIps and gatewayType from the CIDR alone", () => {
        assert.deepStrictEqual(renderSubnet({ name: "routed", cidrBlock: "10.166.0.0/16" }), renderSubnet(SEED_000));
    });

    it("appends the gateway to excludeIps once, after the user's entries, and only deduplicates them", () => {
        const spec = renderSubnet({
            ...SEED_000,
            excludeIps: ["10.166.9.9", "10.166.0.20..10.166.0.30", "10.166.9.9", "10.166.0.5"],
        }).spec as Record<string, unknown>;
        assert.deepStrictEqual(spec.excludeIps, ["10.166.9.9", "10.166.0.20..10.166.0.30", "10.166.0.5", "10.166.0.1"]);
        const dual = renderSubnet(CASES["dual-stack"]).spec as Record<string, unknown>;
        assert.deepStrictEqual(dual.excludeIps, ["10.166.0.1", "fd00:10:166::1"]);
        assert.strictEqual(dual.gateway, "10.166.0.1,fd00:10:166::1");
        assert.strictEqual(dual.protocol, "Dual");
    });

    it("joins a gatewayNode list into Kube-OVN's comma-separated string", () => {
        const spec = renderSubnet({ ...SEED_000, gatewayType: "centralized", gatewayNode: ["node1", "node2:192.168.2.11"], enableEcmp: true })
            .spec as Record<string, unknown>;
        assert.strictEqual(spec.gatewayNode, "node1,node2:192.168.2.11");
        assert.strictEqual(spec.enableEcmp, true);
        const trimmed = renderSubnet({ ...SEED_000, gatewayType: "centralized", gatewayNode: "node1, node2" }).spec as Record<string, unknown>;
        assert.strictEqual(trimmed.gatewayNode, "node1,node2");
    });

    it("lists every problem of invalid arguments (the renderer trusts a valid spec)", () => {
        assert.match(validateSubnetSpec({ ...SEED_000, natOutgoing: true, vpc: "vpc1" }).map(formatProblem).join("\n"), /natOutgoing[\s\S]*vpc/);
    });

    it("prefixes messages with the given argument path", () => {
        assert.match(validateSubnetSpec({ ...SEED_000, gateway: "10.167.0.1" }, "subnets[2]").map(formatProblem)[0], /^subnets\[2\]\.gateway: /);
    });

    it("overlaps() and firstHost() follow Kube-OVN's CIDROverlap and FirstIP", () => {
        assert.strictEqual(overlaps("10.166.0.0/16", "10.166.128.0/17"), true);
        assert.strictEqual(overlaps("10.166.0.0/16", "10.167.0.0/16"), false);
        assert.strictEqual(overlaps("10.166.0.0/16,fd00:1::/112", "10.1.0.0/16,fd00:1::8000/113"), true);
        assert.strictEqual(overlaps("10.166.0.0/16", "fd00:1::/112"), false);
        assert.throws(() => overlaps("10.166.0.1/16", "10.0.0.0/8"), /host bits/);
        assert.strictEqual(firstHost("100.64.0.0/16"), "100.64.0.1");
        assert.strictEqual(firstHost("fd00:10:166::/112"), "fd00:10:166::1");
        assert.throws(() => firstHost("nope"), /not a CIDR/);
    });
});

describe("Subnet validation", () => {
    const bad: { why: string; args: Partial<SubnetSpecArgs> & Record<string, unknown>; msg: RegExp }[] = [
        { why: "a name that is not DNS-1123", args: { name: "Routed_1" }, msg: /^args\.name: not a valid Subnet name .*: "Routed_1"$/ },
        { why: "a cidrBlock that is not a CIDR", args: { cidrBlock: "10.166.0.0" }, msg: /^args\.cidrBlock: not a CIDR .*: "10\.166\.0\.0"$/ },
        {
            why: "host bits, suggesting the network",
            args: { cidrBlock: "10.166.0.1/16", gateway: undefined, excludeIps: undefined },
            msg: /^args\.cidrBlock: host bits set \(use the network address 10\.166\.0\.0\/16\): "10\.166\.0\.1\/16"$/,
        },
        {
            why: "two IPv4 CIDRs",
            args: { cidrBlock: "10.166.0.0/16,10.167.0.0/16" },
            msg: /^args\.cidrBlock: at most one IPv4 and one IPv6 CIDR, IPv4 first: "10\.166\.0\.0\/16,10\.167\.0\.0\/16"$/,
        },
        {
            why: "upper-case IPv6, which Kube-OVN refuses",
            args: { name: "d", cidrBlock: "10.166.0.0/16,FD00:10:166::/112", gateway: undefined, excludeIps: undefined, protocol: undefined },
            msg: /^args\.cidrBlock: not in canonical form \(write fd00:10:166::\/112\): "FD00:10:166::\/112"$/,
        },
        { why: "a /31", args: { cidrBlock: "10.166.0.0/31" }, msg: /^args\.cidrBlock: prefix longer than \/30 .*: "10\.166\.0\.0\/31"$/ },
        { why: "a link-local CIDR", args: { cidrBlock: "169.254.0.0/16" }, msg: /^args\.cidrBlock: overlaps the v4 link-local range 169\.254\.0\.0\/16.*: "169\.254\.0\.0\/16"$/ },
        { why: "protocol against the CIDR family", args: { protocol: "IPv6" }, msg: /^args\.protocol: IPv6 needs a single IPv6 CIDR in cidrBlock 10\.166\.0\.0\/16: "IPv6"$/ },
        { why: "Dual with one family", args: { protocol: "Dual" }, msg: /^args\.protocol: Dual needs an IPv4 and an IPv6 CIDR .*: "Dual"$/ },
        { why: "a gateway outside the CIDR", args: { gateway: "10.167.0.1" }, msg: /^args\.gateway: outside cidrBlock 10\.166\.0\.0\/16: "10\.167\.0\.1"$/ },
        {
            why: "the network address as gateway",
            args: { gateway: "10.166.0.0" },
            msg: /^args\.gateway: the network or broadcast address of 10\.166\.0\.0\/16.*: "10\.166\.0\.0"$/,
        },
        {
            why: "the broadcast address as gateway",
            args: { gateway: "10.166.255.255" },
            msg: /^args\.gateway: the network or broadcast address of 10\.166\.0\.0\/16.*: "10\.166\.255\.255"$/,
        },
        { why: "a gateway with a leading zero", args: { gateway: "10.166.0.01" }, msg: /^args\.gateway: an IPv4 octet with a leading zero, which iproute2 and iptables read as octal .*: "10\.166\.0\.01"$/ },
        {
            why: "a dual-stack gateway in the wrong order",
            args: { cidrBlock: "10.166.0.0/16,fd00:10:166::/112", protocol: undefined, gateway: "fd00:10:166::1,10.166.0.1", excludeIps: undefined },
            msg: /^args\.gateway: needs one address per CIDR .* in the same order: "fd00:10:166::1,10\.166\.0\.1"$/,
        },
        { why: "an excludeIps entry outside", args: { excludeIps: ["10.166.0.1", "10.167.0.5"] }, msg: /^args\.excludeIps\[1\]: outside cidrBlock 10\.166\.0\.0\/16: "10\.167\.0\.5"$/ },
        { why: "a reversed range", args: { excludeIps: ["10.166.0.20..10.166.0.10"] }, msg: /^args\.excludeIps\[0\]: range start after its end: "10\.166\.0\.20\.\.10\.166\.0\.10"$/ },
        { why: "a range end that is not an IP", args: { excludeIps: ["10.166.0.20..10.166.0.x"] }, msg: /^args\.excludeIps\[0\]: not an IP address: "10\.166\.0\.x"$/ },
        { why: "a three-part range", args: { excludeIps: ["10.166.0.1..10.166.0.2..10.166.0.3"] }, msg: /^args\.excludeIps\[0\]: not an address or a range "a\.\.b": "10\.166\.0\.1\.\.10\.166\.0\.2\.\.10\.166\.0\.3"$/ },
        {
            why: "centralized without gatewayNode",
            args: { gatewayType: "centralized" },
            msg: /^args\.gatewayNode: gatewayType centralized requires gatewayNode .*: \(absent\)$/,
        },
        { why: "gatewayNode with a distributed gateway", args: { gatewayNode: "node1" }, msg: /^args\.gatewayNode: only for gatewayType centralized.*: "node1"$/ },
        { why: "an unknown gatewayType", args: { gatewayType: "central" as never }, msg: /^args\.gatewayType: must be distributed or centralized: "central"$/ },
        { why: "a bad node name", args: { gatewayType: "centralized", gatewayNode: ["Node_1"] }, msg: /^args\.gatewayNode\[0\]: not a valid node name .*: "Node_1"$/ },
        {
            why: "a bad ip in node:ip",
            args: { gatewayType: "centralized", gatewayNode: "node1:10.0.0.300" },
            msg: /^args\.gatewayNode: the ip after "node:" is not an IP address: "node1:10\.0\.0\.300"$/,
        },
        {
            why: "an IPv6 ip in node:ip, which Kube-OVN splits apart",
            args: { gatewayType: "centralized", gatewayNode: ["node1:fd00::2"] },
            msg: /^args\.gatewayNode\[0\]: Kube-OVN cannot read an IPv6 address .*: "node1:fd00::2"$/,
        },
        { why: "a node listed twice", args: { gatewayType: "centralized", gatewayNode: "node1,node1:192.168.2.10" }, msg: /^args\.gatewayNode: node listed twice: "node1:192\.168\.2\.10"$/ },
        { why: "enableEcmp on a distributed gateway", args: { enableEcmp: true }, msg: /^args\.enableEcmp: only spreads a centralized gateway .*: true$/ },
        { why: "natOutgoing true", args: { natOutgoing: true }, msg: /^args\.natOutgoing: must be false: routed mode exposes pod IPs .*natOutgoing of the subnet to false.*: true$/ },
        { why: "a VPC other than the default", args: { vpc: "tenant-a" }, msg: /^args\.vpc: routed interconnection works for overlay subnets of the default VPC "ovn-cluster" only \(seed 000\): "tenant-a"$/ },
        { why: "a namespace that is not a DNS label", args: { namespaces: ["ns1", "NS.2"] }, msg: /^args\.namespaces\[1\]: not a namespace name .*: "NS\.2"$/ },
        { why: "a namespace listed twice", args: { namespaces: ["ns1", "ns1"] }, msg: /^args\.namespaces\[1\]: listed twice: "ns1"$/ },
        { why: "allowSubnets on a public subnet", args: { allowSubnets: ["10.16.0.0/16"] }, msg: /^args\.allowSubnets: only takes effect with private: true: \["10\.16\.0\.0\/16"\]$/ },
        { why: "allowSubnets with host bits", args: { private: true, allowSubnets: ["10.16.0.1/16"] }, msg: /^args\.allowSubnets\[0\]: host bits set .*: "10\.16\.0\.1\/16"$/ },
        { why: "a label value with a space", args: { labels: { team: "net ops" } }, msg: /^args\.labels\["team"\]: not a label value .*: "net ops"$/ },
        { why: "a misspelt property", args: { gatewaytype: "centralized" }, msg: /^args\.gatewaytype: unknown property .*: "centralized"$/ },
    ];

    for (const b of bad) {
        it(`rejects ${b.why}`, () => {
            const errs = validateSubnetSpec({ ...SEED_000, ...b.args } as SubnetSpecArgs).map(formatProblem);
            assert.ok(errs.some((e) => b.msg.test(e)), `no message matched ${b.msg}:\n${errs.join("\n")}`);
        });
    }

    it("accepts the seeds, a dual-stack subnet, a centralized ECMP subnet and a private one", () => {
        for (const args of [
            ...Object.values(CASES),
            { ...SEED_000, gatewayType: "centralized" as const, gatewayNode: "node1:192.168.2.10, node2", enableEcmp: true },
            { ...SEED_000, private: true, allowSubnets: ["10.16.0.0/16"], labels: { "app.kubernetes.io/part-of": "routed-overlay" }, vpc: "ovn-cluster" },
            { name: "v6", cidrBlock: "fd00:10:166::/112", excludeIps: ["fd00:10:166::10..fd00:10:166::20"] },
        ]) {
            assert.deepStrictEqual(validateSubnetSpec(args).map(formatProblem), [], JSON.stringify(args));
        }
    });
});
