/**
 * The components as a Pulumi component package, for programs in any Pulumi
 * language (YAML, Python, Go, ...): a resource plugin that serves their
 * schema and constructs them (Construct). bin/pulumi-resource-routed-overlay
 * starts it.
 *
 * The schema is inferred from the TypeScript sources of a checkout
 * (index.ts and the args' JSDoc) by @pulumi/pulumi's component provider,
 * which needs the `typescript` package: the plugin runs from a checkout with
 * its development dependencies installed, not from the npm tarball (which
 * ships no sources).
 *
 * A plain executable rather than `PulumiPlugin.yaml` with `runtime: nodejs`:
 * that form asks the Node.js language host to start the plugin (RunPlugin),
 * and the language host this toolchain can build (sdk 3.68.0, the last one
 * whose module is served) answers "not supported".
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as provider from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { ExternalReturnRoute, GatewayVip, RoutedSubnet, TunnelFabric } from "./index";

interface OutputInternals {
    isKnown: Promise<boolean>;
    promise(): Promise<unknown>;
}

/**
 * Construct hands a component every input as an Output, but the components
 * take some arguments plain, because they decide the resource graph (the
 * node list and names, cidrBlock, gatewayType, ...): the schema marks them
 * `plain`, and those are resolved here before the constructor runs, as a
 * TypeScript program would have given them. An Output's value is read
 * through the SDK's own (internal) promise: the public `apply` would never
 * run for a value unknown at preview, and the constructor could not start.
 */
class RoutedOverlayProvider extends ComponentProvider {
    async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
        const schema = JSON.parse(await this.getSchema()) as { resources?: Record<string, { inputProperties?: Record<string, { plain?: boolean }> }> };
        const props = schema.resources?.[type]?.inputProperties ?? {};
        const given: pulumi.Inputs = { ...inputs };
        for (const [k, v] of Object.entries(inputs)) {
            if (!props[k]?.plain || !pulumi.Output.isInstance(v)) continue;
            const o = v as unknown as OutputInternals;
            if (!(await o.isKnown)) throw new Error(`${type.split(":")[2]} ${name}: ${k} decides the resources it makes, so it must be known at preview (not the output of another resource)`);
            given[k] = await o.promise();
        }
        return super.construct(name, type, given, options);
    }
}

provider.main(new RoutedOverlayProvider({
    dirname: path.resolve(__dirname, "..", ".."),
    name: "routed-overlay",
    components: [RoutedSubnet, ExternalReturnRoute, GatewayVip, TunnelFabric],
}), process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`routed-overlay component provider: ${e.message}\n`);
    process.exit(1);
});
