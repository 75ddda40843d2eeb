import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { Kind } from "./runtime";

/**
 * Where the provider process finds the runtime: the installed package first
 * (a path that stays valid when the project moves), then this file's own
 * directory (a checkout of this repository). Both are plain strings, so the
 * closure serializer captures no module and no code.
 */
const RUNTIME = ["routed-overlay/provider-runtime", path.join(__dirname, "runtime")];

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
    const specs = RUNTIME;
    const impl = () => {
        let lastErr: unknown;
        for (const s of specs) {
            try {
                return require(s).kinds[kind];
            } catch (e) {
                lastErr = e;
            }
        }
        throw lastErr;
    };
    return {
        check: (olds, news) => impl().check(olds, news),
        diff: (id, olds, news) => impl().diff(id, olds, news),
        create: (inputs) => impl().create(inputs),
        read: (id, props) => impl().read(id, props),
        update: (id, olds, news) => impl().update(id, olds, news),
        delete: (id, props) => impl().delete(id, props),
    };
}
