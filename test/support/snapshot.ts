import { hostExec, LabInfo } from "../../lab/lab";

/** Everything on the lab's hosts that an example may touch, to compare before up and after destroy. */
export async function labSnapshot(lab: LabInfo): Promise<Record<string, string>> {
    const snap: Record<string, string> = {};
    for (const h of Object.values(lab.hosts)) {
        // Sorted: a link that went down and up lists its routes in another order, which is no change.
        const run = async (...argv: string[]) => (await hostExec(lab, h.name, argv, { allowFailure: true })).stdout.split("\n").sort().join("\n");
        snap[h.name] = [
            await run("ip", "route", "show", "table", "all"),
            await run("ip", "-6", "route", "show", "table", "all"),
            await run("ip", "rule"),
            await run("ip", "-br", "addr"),
            await run("iptables", "-S"),
            await run("sysctl", "-n", "net.ipv4.ip_forward"),
            // The host's records of owners (sysctl owners, route and rule claims): gone with the last owner.
            await run("find", "/run/routed-overlay"),
            h.role === "router" ? await run("vtysh", "-c", "show running-config") : "",
        ].join("\n--\n");
    }
    return snap;
}

