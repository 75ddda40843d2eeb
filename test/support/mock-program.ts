/**
 * Constructing components and resources the way a program does, under
 * pulumi.runtime.setMocks: components through their constructors, resources
 * through their classes and then the dynamic provider's check, which is what
 * `pulumi preview` calls. Nothing leaves the process.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ExternalReturnRoute, GatewayVip, RoutedSubnet, TunnelFabric } from "../../components";
import * as resources from "../../provider/resources";
import { Kind, kinds } from "../../provider/runtime";
import { ComponentTarget, COMPONENTS, ResourceTarget, Target } from "./bad-input";

type Ctor = new (name: string, args: any, opts?: any) => pulumi.Resource;

export const COMPONENT_CLASSES: Record<ComponentTarget, Ctor> = { RoutedSubnet, ExternalReturnRoute, GatewayVip, TunnelFabric };
export const RESOURCE_CLASSES: Record<ResourceTarget, Ctor> = {
    Route: resources.Route,
    RouteSet: resources.RouteSet,
    Rule: resources.Rule,
    FdbEntry: resources.FdbEntry,
    FdbSet: resources.FdbSet,
    VxlanLink: resources.VxlanLink,
    ForwardAccept: resources.ForwardAccept,
    ConntrackInvalidAccept: resources.ConntrackInvalidAccept,
    Sysctl: resources.Sysctl,
    FrrStaticRoute: resources.FrrStaticRoute,
    Keepalived: resources.Keepalived,
    InterfaceAddress: resources.InterfaceAddress,
};
export const isComponent = (t: Target): t is ComponentTarget => (COMPONENTS as readonly string[]).includes(t);

/** What the mock engine was asked to register, by resource name. */
const registered = new Map<string, pulumi.runtime.MockResourceArgs>();

/** Installs the mocks (once per process is enough; later calls are harmless). */
export function useMocks(): void {
    pulumi.runtime.setMocks(
        {
            newResource(a) {
                registered.set(a.name, a);
                // A VRRP election's provider reads the holder back from the hosts; here the first node is it.
                const computed = a.type.endsWith(":VrrpElection") ? { holder: "node1", holders: ["node1"] } : {};
                return { id: `${a.name}-id`, state: { ...a.inputs, ...computed } };
            },
            call: (a) => a.inputs,
        },
        "bad-input",
        "corpus",
        true,
    );
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The engine hands dynamic providers plain values (they do not accept secrets): unwrap the mocks' secret envelopes. */
function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (SECRET_SIG in o) return unwrapSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

const settled = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

/** A resource's inputs as its dynamic provider receives them, and the provider's check of them. */
export async function check(target: ResourceTarget, name: string, args: unknown): Promise<{ kind: Kind; reasons: string[]; properties: string[] }> {
    const r = new RESOURCE_CLASSES[target](name, args) as pulumi.CustomResource;
    await settled(r.urn);
    const reg = registered.get(name);
    assert.ok(reg, `the mock engine never saw ${name}`);
    const kind = reg.type.split(":").pop() as Kind;
    const res = await kinds[kind].check({}, unwrapSecrets(reg.inputs) as Record<string, unknown>);
    return { kind, reasons: (res.failures ?? []).map((f) => f.reason), properties: (res.failures ?? []).map((f) => f.property) };
}

/** `new <component>(name, args)`; throws what the constructor throws. */
export function construct(target: ComponentTarget, name: string, args: unknown): void {
    new COMPONENT_CLASSES[target](name, args);
}

/** The inputs the mock engine was given for a resource, by name (secret envelopes unwrapped). */
export function registeredInputs(name: string): Record<string, any> | undefined {
    const reg = registered.get(name);
    return reg && (unwrapSecrets(reg.inputs) as Record<string, any>);
}

/** Waits until the engine has seen every resource constructed so far (a settled urn each). */
export const registeredAll = (rs: pulumi.Resource[]) => Promise.all(rs.map((r) => settled(r.urn)));
