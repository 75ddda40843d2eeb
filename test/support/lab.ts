import { labIsUp, labUp, LabInfo, readLabInfo } from "../../lab/lab";

let cached: LabInfo | undefined;

/**
 * The lab for lab and end-to-end tests: the one that is up, or a new one.
 * Under CI=true a missing prerequisite fails the suite instead of skipping it.
 */
export async function ensureLab(opts: { kube?: boolean } = {}): Promise<LabInfo> {
    const kube = opts.kube ?? true;
    if (cached && (cached.kubernetes || !kube)) return cached;
    const log = (m: string) => process.stderr.write(`      ${m}\n`);
    if (!(await labIsUp())) {
        await labUp({ kube }, log);
    }
    cached = readLabInfo();
    if (kube && !cached.kubernetes) cached = await labUp({ kube }, log);
    return cached;
}

export function requireRoot(ctx: Mocha.Context) {
    if (process.getuid && process.getuid() !== 0) {
        if (process.env.CI === "true") throw new Error("lab tests need root, and CI=true forbids skipping them");
        ctx.skip();
    }
}
