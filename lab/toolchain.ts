import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Where toolchain/build.sh puts its binaries (see toolchain/env.sh). */
export function toolchainDir(): string {
    return process.env.RO_TOOLCHAIN_DIR ?? path.join(os.homedir(), ".cache", "routed-overlay", "toolchain");
}

/** A toolchain binary by name: the built one first, then PATH (a user's own install). */
export function toolchainBin(name: string): string {
    const built = path.join(toolchainDir(), "bin", name);
    if (fs.existsSync(built)) return built;
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const p = path.join(dir, name);
        if (dir && fs.existsSync(p)) return p;
    }
    throw new Error(`${name} not found in ${path.join(toolchainDir(), "bin")} nor on PATH: run \`npm run toolchain\``);
}
