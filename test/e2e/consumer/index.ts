// A platform team's own TypeScript Pulumi program, with routed-overlay
// installed from git. Its hosts come from the team's "infra" stack through a
// StackReference: addresses as Outputs, host keys and the private key as
// secret Outputs. One node list serves both components; connections are
// typed as the team already types them for @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type * as command from "@pulumi/command";
import { GatewayVip, NodeArgs, RoutedSubnet } from "routed-overlay";

interface Host { host: string; address?: string; interface?: string }

const infra = new pulumi.StackReference(new pulumi.Config().require("infraStack"));
const hosts = infra.requireOutput("hosts") as pulumi.Output<Record<string, Host>>;
const hostKeys = infra.requireOutput("hostKeys") as pulumi.Output<Record<string, string>>;
const privateKey = infra.requireOutput("sshPrivateKey") as pulumi.Output<string>;

const connection = (name: string): command.types.input.remote.ConnectionArgs => ({
    host: hosts.apply((h) => h[name].host),
    user: "root",
    privateKey,
    hostKey: hostKeys.apply((k) => k[name]),
    perDialTimeout: 10,
    dialErrorLimit: 2,
});

// The names are the program's own (they name resources); everything else is the infra stack's.
const nodes: NodeArgs[] = ["node1", "node2", "node3"].map((name) => ({
    name,
    address: hosts.apply((h) => h[name].address!),
    interface: hosts.apply((h) => h[name].interface!),
    connection: connection(name),
}));

const cluster = new k8s.Provider("team-cluster", { kubeconfig: infra.requireOutput("kubeconfig"), enableServerSideApply: true });

const vip = new GatewayVip("team-vip", {
    vip: "192.168.2.250/24",
    segment: "192.168.2.0/24",
    virtualRouterId: 61,
    nodes,
});

const subnet = new RoutedSubnet("team-routed", {
    cidrBlock: "10.166.0.0/16",
    gateway: "10.166.0.1",
    excludeIps: ["10.166.0.1"],
    nodes,
    nextHop: vip.address,
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: { kubernetes: cluster } });

export const subnetName = subnet.subnet.metadata.name;
export const nextHop = subnet.nextHop;
export const returnRoute = subnet.returnRoute?.urn;
