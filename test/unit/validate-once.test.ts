/**
 * Each component validates its spec once, at the top of its constructor:
 * the renderers and planners trust it. Counted at the one place every spec
 * check starts, the object check of its top-level properties.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as net from "../../common/net";
import { GatewayVip, RoutedSubnet, TunnelFabric } from "../../components";
import { resetRegistry } from "../../components/registry";
import { InvalidArgumentsError } from "../../common/problems";
import { BASELINE } from "../support/bad-input";
import { useMocks } from "../support/mock-program";
import { validateOnce, via } from "../../components/validate";

/** How many times an object with `marker` among its known properties was checked while `f` ran. */
function countChecks(marker: string, f: () => void): number {
    const original = net.object;
    let n = 0;
    (net as { object: typeof net.object }).object = (arg, v, known, errs): v is Record<string, unknown> => {
        if (known.includes(marker)) n++;
        return original(arg, v, known, errs);
    };
    try {
        f();
    } finally {
        (net as { object: typeof net.object }).object = original;
    }
    return n;
}

describe("one validation pass per component", () => {
    before(useMocks);
    beforeEach(() => resetRegistry());
    after(() => resetRegistry());

    it("a TunnelFabric's spec, with its RouteConfigurations, is validated once", () => {
        const args = { ...BASELINE.TunnelFabric, routeConfigurationNamespace: "liqo" };
        assert.strictEqual(countChecks("activeGateway", () => new TunnelFabric("fabric", args as never)), 1);
    });

    it("a GatewayVip's spec is validated once, whether authPass is plain or a secret Output", () => {
        assert.strictEqual(countChecks("virtualRouterId", () => new GatewayVip("plain", { ...BASELINE.GatewayVip, authPass: "s3cr3t" } as never)), 1);
        resetRegistry();
        assert.strictEqual(countChecks("virtualRouterId", () => new GatewayVip("secret", { ...BASELINE.GatewayVip, authPass: pulumi.secret("s3cr3t") } as never)), 1);
    });

    it("a RoutedSubnet's spec is validated once, its return routes too", () => {
        const args = { ...BASELINE.RoutedSubnet, returnRoutes: [{ name: "peer", connection: (BASELINE.ExternalReturnRoute.targets as { connection: unknown }[])[0].connection }] };
        assert.strictEqual(countChecks("gatewayType", () => new RoutedSubnet("routed", args as never)), 1);
        resetRegistry();
        assert.strictEqual(countChecks("kind", () => new RoutedSubnet("routed2", { ...args, cidrBlock: "10.177.0.0/16" } as never)), 1);
    });

    it("refuses a component's args once, listing every problem, as an InvalidArgumentsError against the component", () => {
        assert.throws(() => new TunnelFabric("broken", { ...BASELINE.TunnelFabric, vni: 0, port: 0 } as never), (e: unknown) => {
            assert.ok(e instanceof InvalidArgumentsError && e instanceof pulumi.ResourceError);
            assert.strictEqual((e as InvalidArgumentsError).hideStack, true);
            assert.deepStrictEqual((e as InvalidArgumentsError).problems.map((p) => p.path), ["args.vni", "args.port"]);
            assert.deepStrictEqual((e as InvalidArgumentsError).errors.map((p) => p.propertyPath), ["args.vni", "args.port"]);
            return true;
        });
    });
});

describe("validateOnce: the arguments now, when nothing in them waits", () => {
    before(useMocks);
    const self = new pulumi.ComponentResource("test:index:Now", "now", {});
    const check = (args: Record<string, unknown>) => validateOnce<Record<string, unknown>>(self, "Now", "now", args, () => []);

    it("gives the plain properties asked for, without the connections the component hands on by itself", () => {
        const args = { a: 1, nodes: [{ name: "n1", address: "192.168.2.10", connection: { host: "198.18.0.11" } }] };
        assert.deepStrictEqual(check(args).now(["a", "nodes"]), { a: 1, nodes: [{ name: "n1", address: "192.168.2.10" }] });
    });

    it("gives nothing when one of them holds an Output or a Promise, however deep; the others still", () => {
        const c = check({ a: 1, b: pulumi.output(2), nodes: [{ name: "n1" }, { name: "n2", address: Promise.resolve("192.168.2.11") }] });
        assert.strictEqual(c.now(["a", "b"]), undefined);
        assert.strictEqual(c.now(["nodes"]), undefined);
        assert.deepStrictEqual(c.now(["a"]), { a: 1 });
    });

    it("a connection that is an Output does not hold the rest back", () => {
        assert.deepStrictEqual(check({ nodes: [{ name: "n1", connection: pulumi.output({ host: "198.18.0.11" }) }] }).now(["nodes"]), { nodes: [{ name: "n1" }] });
    });

    it("via maps a plan made now to a plain value, and a plan to come to an Output of the same value", async () => {
        assert.strictEqual(via(3, (x) => x + 1), 4);
        const later = via(pulumi.output(3), (x) => x + 1);
        assert.ok(pulumi.Output.isInstance(later));
        assert.strictEqual(await (later as unknown as { promise(): Promise<number> }).promise(), 4);
    });
});
