/**
 * Input shapes of the kernel objects this package's dynamic providers apply
 * (routes, policy rules, FDB entries, VXLAN links). Render functions return
 * these so that a plan is plain data: testable without a host, diffable, and
 * handed to the providers unchanged. They are the providers' own specs,
 * narrowed to what a plan always states.
 */
import type * as route from "../../provider/kinds/route";
import type * as rule from "../../provider/kinds/rule";
import type * as fdb from "../../provider/kinds/fdb";
import type * as link from "../../provider/kinds/link";

export type RouteSpec = Omit<route.RouteSpec, "table" | "proto"> & { table?: number };
export type RuleSpec = Omit<rule.RuleSpec, "table" | "family"> & { table: number };
export type FdbSpec = fdb.FdbSpec & { mac: string };
export type VxlanLinkSpec = link.VxlanLinkSpec & { dstport: number };
