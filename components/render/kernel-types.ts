/**
 * Input shapes of the kernel objects this package's dynamic providers apply
 * (routes, policy rules, FDB entries, VXLAN links). Render functions return
 * these so that a plan is plain data: testable without a host, diffable, and
 * handed to the providers unchanged. They are the providers' own specs,
 * narrowed to what a plan always states.
 */
import type * as provider from "../../provider";

export type RouteSpec = Omit<provider.RouteSpec, "table" | "proto"> & { table?: number };
export type RuleSpec = Omit<provider.RuleSpec, "table" | "family"> & { table: number };
export type FdbSpec = provider.FdbSpec & { mac: string };
export type VxlanLinkSpec = provider.VxlanLinkSpec & { dstport: number };
export type InterfaceAddressSpec = Required<provider.InterfaceAddressSpec>;
