/**
 * The stack configuration the examples and the demo read, written for the
 * lab's hosts: the same keys a user sets for their own hosts.
 */
import * as fs from "fs";
import { LabInfo } from "./lab";

export interface ConfigValue {
    value: string;
    secret: boolean;
    /** Set for structured values: stored as YAML objects, which Pulumi YAML programs need (`type: object`). */
    object?: unknown;
}

/**
 * nodes: [{ name, address, interface, host, hostKey, pods }] (JSON);
 * hosts: { <name>: { host, hostKey } } for the peers and routers (JSON);
 * sshUser; sshPrivateKey and kubeconfig as secrets.
 */
export function labStackConfig(lab: LabInfo): Record<string, ConfigValue> {
    const hosts = Object.values(lab.hosts);
    const nodes = hosts.filter((h) => h.role === "node").map((h) => ({
        name: h.name,
        address: h.interfaces.eth0.split("/")[0],
        interface: "eth0",
        host: h.ssh.host,
        hostKey: h.ssh.hostKey,
        pods: (h.node?.pods ?? []).map((p) => p.addresses[0]),
    }));
    const others = Object.fromEntries(hosts.filter((h) => h.role !== "node").map((h) => [h.name, { host: h.ssh.host, hostKey: h.ssh.hostKey }]));
    const out: Record<string, ConfigValue> = {
        nodes: { value: JSON.stringify(nodes), object: nodes, secret: false },
        hosts: { value: JSON.stringify(others), object: others, secret: false },
        sshUser: { value: lab.ssh.user, secret: false },
        sshPrivateKey: { value: fs.readFileSync(lab.ssh.privateKeyPath, "utf8"), secret: true },
    };
    if (lab.kubernetes) out.kubeconfig = { value: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8"), secret: true };
    return out;
}

/**
 * The configuration as `pulumi config set-all --json` takes it (the format
 * `pulumi config --json` prints): the only form of set-all that stores
 * objects as objects. It holds the secrets: never put it in a message.
 */
export function configJson(config: Record<string, ConfigValue>): string {
    return JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) =>
        [k, { value: v.value, secret: v.secret, ...(v.object !== undefined ? { objectValue: v.object } : {}) }])));
}
