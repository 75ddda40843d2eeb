// Seed 004 (Liqo "Route Configuration"): the Rome cluster's RouteConfiguration
// objects, rendered and validated at preview by routed-overlay, applied to the
// cluster's API server (which checks them against Liqo's CRD). Liqo's own
// agents turn each into a kernel table; the table each will get is exported.
const k8s = require("@pulumi/kubernetes");
const { renderRouteConfiguration, liqoTableId } = require("routed-overlay");
const { kubernetes } = require("../lib/config");
const { romeTables } = require("./rome");

const opts = { provider: kubernetes() };
exports.kernelTables = {};
for (const input of romeTables()) {
    const rc = renderRouteConfiguration(input);
    new k8s.apiextensions.CustomResource(`${input.namespace}-${input.name}`, rc, opts);
    exports.kernelTables[input.tableName] = liqoTableId(input.tableName);
}
