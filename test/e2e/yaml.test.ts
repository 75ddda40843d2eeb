/**
 * Other languages: the components as a component package
 * (bin/pulumi-resource-routed-overlay), its schema, and a Pulumi YAML
 * program on the lab through it (examples/yaml-vip-return-route).
 */
import * as assert from "assert";
import * as path from "path";
import { ensureLab, requireRoot } from "../support/lab";
import { changes, TestStack, toolchainEnv } from "../support/pulumi";
import { useStack } from "../support/stacks";
import { labSnapshot } from "../support/snapshot";
import { sourceSeenBy, whoAmIServer } from "../../lab/packets";
import { LabInfo, REPO_ROOT } from "../../lab/lab";
import { toolchainBin } from "../../lab/toolchain";
import { execArgv } from "../../provider/transport/exec";

const PLUGIN = path.join(REPO_ROOT, "bin", "pulumi-resource-routed-overlay");

interface Schema {
    resources: Record<string, { isComponent?: boolean; inputProperties: Record<string, { description?: string }>; properties: Record<string, { description?: string }>; requiredInputs?: string[] }>;
    types: Record<string, { enum?: { value: string }[]; properties?: Record<string, { description?: string }> }>;
}

describe("e2e: the component package (pulumi package get-schema)", function () {
    this.timeout(120_000);
    let schema: Schema;
    before(async () => {
        const r = await execArgv([toolchainBin("pulumi"), "package", "get-schema", PLUGIN], { env: { ...process.env, ...toolchainEnv() } });
        schema = JSON.parse(r.stdout) as Schema;
        const list = Object.entries(schema.resources).map(([t, r]) => `${t}: ${Object.keys(r.inputProperties).sort().join(", ")} -> ${Object.keys(r.properties).sort().join(", ")}`);
        process.stderr.write(`      measured: get-schema lists\n${list.map((l) => `        ${l}`).join("\n")}\n`);
    });

    it("lists the four components as components, each input and output documented from the JSDoc", () => {
        assert.deepStrictEqual(Object.keys(schema.resources).sort(), [
            "routed-overlay:index:ExternalReturnRoute", "routed-overlay:index:GatewayVip", "routed-overlay:index:RoutedSubnet", "routed-overlay:index:TunnelFabric",
        ]);
        const undocumented: string[] = [];
        for (const [t, r] of Object.entries(schema.resources)) {
            assert.strictEqual(r.isComponent, true, t);
            for (const [k, p] of Object.entries({ ...r.inputProperties, ...r.properties })) if (!p.description?.trim()) undocumented.push(`${t}.${k}`);
        }
        for (const [t, ty] of Object.entries(schema.types)) for (const [k, p] of Object.entries(ty.properties ?? {})) if (!p.description?.trim()) undocumented.push(`${t}.${k}`);
        assert.deepStrictEqual(undocumented, []);
        assert.deepStrictEqual(schema.resources["routed-overlay:index:RoutedSubnet"].requiredInputs?.sort(), ["cidrBlock", "nodes"]);
        assert.match(schema.resources["routed-overlay:index:GatewayVip"].inputProperties.virtualRouterId.description!, /VRRP virtual router id, 1\.\.255/);
    });

    it("string-literal choices are enums", () => {
        const values = (t: string) => schema.types[`routed-overlay:index:${t}`].enum!.map((e) => e.value).sort();
        assert.deepStrictEqual(values("GatewayType"), ["centralized", "distributed"]);
        assert.deepStrictEqual(values("ReturnRouteKind"), ["frr", "linux"]);
        assert.deepStrictEqual(values("FirewallBackend"), ["auto", "iptables", "nft"]);
        assert.deepStrictEqual(values("SubnetProtocol"), ["Dual", "IPv4", "IPv6"]);
    });
});

describe("e2e: a Pulumi YAML program through the component package (examples/yaml-vip-return-route)", function () {
    this.timeout(600_000);
    let lab: LabInfo;
    before(async function () {
        requireRoot(this);
        lab = await ensureLab({ kube: true });
    });
    const stack = useStack("yaml-vip-return-route", () => lab, { example: true });
    let t: TestStack;
    let before0: Record<string, string>;
    const stops: (() => void)[] = [];
    after(() => stops.forEach((s) => s()));
    const seen = async () => [await sourceSeenBy(lab, "peer", "10.166.2.10"), await sourceSeenBy(lab, "remote", "10.166.3.10")];

    it("up builds the VIP, the Subnet and both return routes; the peer and the host behind the router reach pods with their own addresses", async () => {
        t = stack();
        before0 = await labSnapshot(lab);
        stops.push(await whoAmIServer("ro-node2-p0"), await whoAmIServer("ro-node3-p0"));
        assert.deepStrictEqual(await seen(), [undefined, undefined]);
        const up = await t.stack.up();
        // Stack, kubernetes Provider, 3 components, 3 Keepalived, the election, the Subnet, 9 prerequisites, a RouteSet, an FRR route.
        assert.deepStrictEqual(changes(up.summary.resourceChanges), { create: 21 });
        assert.strictEqual(up.outputs.nextHop.value, "192.168.2.250");
        assert.match(up.outputs.holder.value, /^node[123]$/);
        assert.deepStrictEqual(await seen(), ["192.168.2.100", "192.168.3.100"]);
        const state = JSON.stringify(await t.stack.exportStack());
        assert.match(state, /routed-overlay:index:RoutedSubnet/);
    });

    it("a second preview and a refresh show no changes", async () => {
        assert.deepStrictEqual(changes((await t.stack.preview()).changeSummary), {});
        assert.deepStrictEqual(changes((await t.stack.refresh()).summary.resourceChanges), {});
    });

    it("destroy leaves the lab as it was", async () => {
        await t.stack.destroy();
        assert.deepStrictEqual(await labSnapshot(lab), before0);
        assert.deepStrictEqual(await seen(), [undefined, undefined]);
    });
});
