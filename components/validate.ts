/** What every component does with its arguments before it creates anything. */
import * as net from "../provider/kinds/net";

/** Throws one error listing every problem, prefixed with the component's type and name (preview fails before anything runs). */
export function assertValid(type: string, name: string, errs: string[]): void {
    if (errs.length) throw new Error(`${type} ${JSON.stringify(name)}: invalid arguments:\n  ${errs.join("\n  ")}`);
}

/**
 * The nodes as the renderers take them: without their connections (which
 * may be secret Outputs). Anything that is not a list of objects is passed
 * on unchanged for the renderer's validation to name.
 */
export function withoutConnections<T extends { connection?: unknown }>(nodes: T[]): Omit<T, "connection">[] {
    if (!Array.isArray(nodes)) return nodes;
    return nodes.map((n) => {
        if (!net.isObject(n)) return n;
        const { connection: _c, ...rest } = n;
        return rest;
    });
}
