import type * as pulumi from "@pulumi/pulumi";
import type { Kind } from "./runtime";

/**
 * Where the provider process finds the runtime: the installed package, by
 * name. A plain string, so the closure serializer captures no module and no
 * code, and the state records no path of the machine that ran `up` (the
 * state outlives checkouts and moves between machines: CI, a colleague's
 * laptop). A checkout of this repository resolves the name through
 * node_modules/routed-overlay, which scripts/setup.sh links to the checkout.
 */
const RUNTIME = "routed-overlay/provider-runtime";

// One provider object per kind: the SDK caches a provider's serialized closure by object identity,
// so a fresh object per resource would be serialized again for every resource.
const providers = new Map<Kind, pulumi.dynamic.ResourceProvider>();

/** A dynamic ResourceProvider for one kind whose every method defers to provider/runtime.ts. */
export function providerFor(kind: Kind): pulumi.dynamic.ResourceProvider {
    let p = providers.get(kind);
    if (!p) providers.set(kind, (p = makeProvider(kind)));
    return p;
}

function makeProvider(kind: Kind): pulumi.dynamic.ResourceProvider {
    const runtime = RUNTIME;
    const impl = () => require(runtime).kinds[kind];
    return {
        check: (olds, news) => impl().check(olds, news),
        diff: (id, olds, news) => impl().diff(id, olds, news),
        create: (inputs) => impl().create(inputs),
        read: (id, props) => impl().read(id, props),
        update: (id, olds, news) => impl().update(id, olds, news),
        delete: (id, props) => impl().delete(id, props),
    };
}
