// A platform team's existing TypeScript Pulumi program that installs
// routed-overlay from its npm tarball: its own kubernetes Provider passed
// through `providers`, and SSH connections typed as @pulumi/command's.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type * as command from "@pulumi/command";
import { RoutedSubnet, RoutedSubnetNode } from "routed-overlay";

interface LabHost { name: string; role: string; interfaces: Record<string, string>; ssh: { host: string; user: string; hostKey: string } }
const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON as string, "utf8")) as {
    ssh: { privateKeyPath: string };
    hosts: Record<string, LabHost>;
    kubernetes: { kubeconfig: string };
};
const privateKey = pulumi.secret(fs.readFileSync(lab.ssh.privateKeyPath, "utf8"));

// The connection objects this team already hands to remote.Command.
const connection = (h: LabHost): command.types.input.remote.ConnectionArgs => ({
    host: h.ssh.host,
    user: h.ssh.user,
    privateKey,
    hostKey: h.ssh.hostKey,
    perDialTimeout: 10,
    dialErrorLimit: 2,
});

const cluster = new k8s.Provider("team-cluster", {
    kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8"),
    enableServerSideApply: true,
});

const nodes: RoutedSubnetNode[] = Object.values(lab.hosts)
    .filter((h) => h.role === "node")
    .map((h) => ({ name: h.name, address: h.interfaces.eth0.split("/")[0], connection: connection(h) }));

const subnet = new RoutedSubnet("team-routed", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    annotations: { "pulumi.com/deletionPropagationPolicy": "background" },
    nodes,
    nextHop: nodes[0].address,
    returnRoutes: [{ name: "peer", connection: connection(lab.hosts.peer), dev: "eth0" }],
}, { providers: { kubernetes: cluster } });

export const subnetName = subnet.subnet.metadata.name;
export const nextHop = subnet.nextHop;
