export { Sysctl, SysctlArgs, ConnectionInput } from "./resources";
export { Connection, validateConnection } from "./transport/connection";
