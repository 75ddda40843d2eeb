/**
 * `verify` of RoutedSubnet and ExternalReturnRoute: a PathCheck from a
 * client host to pod addresses, created after everything the path needs,
 * so that `up` succeeds only when a packet can follow the routes it made.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionInput, PathCheck, PathCheckArgs, PathCheckNode } from "../provider/resources";
import * as net from "../common/net";
import { label } from "../common/names";
import { Problem, problem } from "../common/problems";
import { checkedConnection, requiredConnection } from "./validate";
import type { Destination } from "./external-return-route";

/** A host a path check runs from. */
export interface PathCheckClient {
    /** Its name in messages, and its match against return-route targets. Plain. */
    name: string;
    /** How to reach it over SSH. Kept secret in the state. */
    connection: pulumi.Input<ConnectionInput>;
}

export interface PathVerifyArgs {
    /**
     * The host the check runs from, over SSH: a peer or a host behind a
     * router. When it is one of the return-route targets of kind "linux"
     * (the same name), its route to the targets must go via the next hop;
     * otherwise any route it has will do (a host behind a router routes
     * through the router). `name` is plain: it names the check in messages.
     */
    client: PathCheckClient;
    /** Pod addresses that must answer from the client, each inside one of the routed CIDRs; at least one. */
    targets: pulumi.Input<string>[];
    /** A TCP port every target must also accept (a listening pod). Default: ping only. */
    port?: pulumi.Input<number>;
    /** How long `up` waits for every target to answer, in whole seconds (1..300). Default 10. */
    seconds?: pulumi.Input<number>;
    /**
     * Probe and roll back: every return-route target also checks the path
     * after each change of its routes (not at create), and when the check
     * fails it restores its previous routes (kernel or FRR) and `up` fails
     * with the diagnosis (ChangeRolledBack). For changes to a router that
     * could cut the path off. Plain. Default false.
     */
    rollbackOnFailure?: boolean;
}

const VERIFY_PROPS = ["client", "targets", "port", "seconds", "rollbackOnFailure"] as const;

/** Problems with `verify` at argument path `arg`; `dests` are the CIDRs the component routes, which every target must lie in. */
export function validateVerify(arg: string, v: unknown, dests: Destination[], errs: Problem[], extra: readonly string[] = []): void {
    if (v === undefined) return;
    if (!net.object(arg, v, [...VERIFY_PROPS, ...extra], errs)) return;
    if (net.object(`${arg}.client`, v.client, ["name", "connection"], errs)) {
        label(`${arg}.client.name`, v.client.name, "client name", errs);
        requiredConnection(`${arg}.client.connection`, v.client.connection, errs, "host");
    }
    const seen = new Set<string>();
    net.list(`${arg}.targets`, v.targets, errs, 1, "targets").forEach((t, i) => {
        const at = `${arg}.targets[${i}]`;
        const ip = net.unicastAddress(at, t, errs, "a pod address to check");
        if (ip === undefined) return;
        const addr = net.readIp(ip)!;
        if (seen.has(addr.text)) errs.push(problem(at, "appears twice", t));
        seen.add(addr.text);
        // A target outside the routed CIDRs would test some other path, and pass or fail for reasons not ours.
        if (dests.length && !dests.some((d) => d.cidr.family === addr.family && net.contains(d.cidr, addr))) {
            errs.push(problem(at, `not inside ${dests.map((d) => d.cidr.text).join(" or ")}, the CIDRs these routes serve`, t));
        }
    });
    if (extra.includes("nodes") && v.nodes !== undefined) {
        net.list(`${arg}.nodes`, v.nodes, errs).forEach((n, i) => {
            const at = `${arg}.nodes[${i}]`;
            if (!net.object(at, n, ["name", "address", "connection"], errs)) return;
            label(`${at}.name`, n.name, "node name", errs);
            net.unicastAddress(`${at}.address`, n.address, errs, "it is matched against the client's next hop");
            requiredConnection(`${at}.connection`, n.connection, errs, "node", typeof n.name === "string" ? n.name : undefined);
        });
    }
    if (v.port !== undefined) net.integer(`${arg}.port`, v.port, 1, 65535, errs);
    net.bool(`${arg}.rollbackOnFailure`, v.rollbackOnFailure, errs);
    if (v.seconds !== undefined) net.integer(`${arg}.seconds`, v.seconds, 1, 300, errs, " (whole seconds)");
}

/** What a component's path check is built from. */
export interface PathCheckPlan {
    /** `verify` with every Input resolved and checked (validateOnce's part), for the values the check takes. */
    known: pulumi.Output<PathVerifyArgs | undefined>;
    /** The next hop the client must route through, when the client is one of the component's linux targets. */
    via?: pulumi.Input<string>;
    nodes?: pulumi.Input<PathCheckNode>[];
    arg: string;
}

/** The args of a component's path check: for its PathCheck, and for its targets' probes with rollbackOnFailure. */
export function pathCheckArgs(self: pulumi.Resource, what: string, v: PathVerifyArgs, o: PathCheckPlan): PathCheckArgs {
    const connection = checkedConnection(self, what, `${o.arg}.client.connection`, v.client.connection);
    return {
        client: { name: v.client.name, connection },
        targets: o.known.apply((k) => k!.targets as string[]),
        port: o.known.apply((k) => k!.port) as pulumi.Output<number>,
        seconds: o.known.apply((k) => k!.seconds) as pulumi.Output<number>,
        via: o.via,
        nodes: o.nodes,
    };
}

/** Creates the PathCheck "<name>-verify" of a component, after `after` (the routes and all the path needs). */
export function verifyPath(self: pulumi.Resource, name: string, args: PathCheckArgs, after: pulumi.Input<pulumi.Resource>[]): PathCheck {
    return new PathCheck(`${name}-verify`, args, { parent: self, dependsOn: after });
}
