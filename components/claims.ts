/**
 * Checks across the components of one program (see registry.ts). Each
 * function checks a component's claim against the earlier ones and records
 * it when there is no conflict; messages name the argument, the value and
 * the other component.
 */
import { Problem, problem } from "../common/problems";
import * as net from "../common/net";
import { claim, claims, owner } from "./registry";
import { overlaps } from "./render/subnet";

interface SubnetClaim {
    subnetName: string;
    cidrBlock: string;
}

/**
 * A RoutedSubnet's Subnet name and CIDRs belong to it alone: two Subnet
 * objects of one name are one Kubernetes object, and Kube-OVN refuses a
 * subnet whose CIDR overlaps another's (its CIDROverlap check), which would
 * only show after the first one is applied.
 */
export function claimSubnet(name: string, a: { subnetName?: string; cidrBlock: string }, arg = "args"): Problem[] {
    const mine: SubnetClaim = { subnetName: a.subnetName ?? name, cidrBlock: a.cidrBlock };
    const errs: Problem[] = [];
    for (const c of claims<SubnetClaim>("subnet")) {
        if (c.value.subnetName === mine.subnetName) {
            const how = a.subnetName === undefined ? " (the default, the component's name)" : "";
            errs.push(problem(`${arg}.subnetName`, `already the Subnet name of ${owner(c)}${how}`, mine.subnetName));
        }
        if (overlaps(mine.cidrBlock, c.value.cidrBlock)) {
            errs.push(problem(`${arg}.cidrBlock`, `overlaps cidrBlock ${JSON.stringify(c.value.cidrBlock)} of ${owner(c)}; Kube-OVN refuses overlapping subnets`, mine.cidrBlock));
        }
    }
    if (!errs.length) claim("subnet", { type: "RoutedSubnet", name, value: mine });
    return errs;
}

interface VrrpClaim {
    virtualRouterId: number;
    segment?: string;
    nodes: { name: string; interface: string }[];
}

/**
 * A VRRP group is known by its virtual router id on its segment: two groups
 * with one id on one segment (or on one node's interface) take each other's
 * advertisements as their own, and fight over the virtual MAC
 * 00:00:5e:00:01:<id>. Segments count as one when their CIDRs overlap.
 *
 * A node also takes one GatewayVip only: GatewayVip runs keepalived with the
 * default pid file, so a second one on the node would signal the first's
 * daemon instead of starting its own (and overwrite its keepalived.conf
 * unless configPath differs).
 */
export function claimVrrp(name: string, s: VrrpClaim, arg = "args"): Problem[] {
    const errs: Problem[] = [];
    const seg = s.segment === undefined ? undefined : net.parseCidr(s.segment);
    for (const c of claims<VrrpClaim>("vrrp")) {
        s.nodes.forEach((n, i) => {
            if (c.value.nodes.some((o) => o.name === n.name)) {
                errs.push(problem(`${arg}.nodes[${i}].name`, `${owner(c)} already runs keepalived on this node; a second GatewayVip would take over its pid file`, n.name));
            }
        });
        if (c.value.virtualRouterId !== s.virtualRouterId) continue;
        const other = c.value.segment === undefined ? undefined : net.parseCidr(c.value.segment);
        const shared = typeof seg === "object" && typeof other === "object" && net.overlap(seg, other)
            ? `segment ${c.value.segment}`
            : s.nodes.flatMap((n) => c.value.nodes.filter((o) => o.name === n.name && o.interface === n.interface).map((o) => `interface ${o.interface} of node ${o.name}`))[0];
        if (shared) {
            errs.push(problem(`${arg}.virtualRouterId`, `already used on ${shared} by ${owner(c)}; VRRP groups of one segment need distinct ids`, s.virtualRouterId));
        }
    }
    if (!errs.length) {
        const value: VrrpClaim = { virtualRouterId: s.virtualRouterId, nodes: s.nodes.map((n) => ({ name: n.name, interface: n.interface })) };
        if (s.segment !== undefined) value.segment = s.segment;
        claim("vrrp", { type: "GatewayVip", name, value });
    }
    return errs;
}
