export * from "./resources";
export { Connection, validateConnection } from "./transport/connection";
export { OWN_PROTO } from "./kinds/iproute";
export { OWN_ALIAS } from "./kinds/link";
export type { RouteSpec, RouteType, RouteScope } from "./kinds/route";
export type { RuleSpec } from "./kinds/rule";
export type { FdbSpec } from "./kinds/fdb";
export type { VxlanLinkSpec } from "./kinds/link";
export type { FrrStaticRouteSpec } from "./kinds/frr";
