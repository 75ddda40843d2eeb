// One case of the bad-input corpus (test/support/bad-input.ts), given as the
// config value "case": its setup constructions, then the construction that
// must be refused, exactly as a user's program would make them.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");
const ro = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const c = JSON.parse(new pulumi.Config().require("case"));
const cluster = new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8") });
const COMPONENTS = ["RoutedSubnet", "ExternalReturnRoute", "GatewayVip", "TunnelFabric"];

// Top-level arguments the case gives as secret Outputs (a VRRP password from secret config, say),
// and with secretConnections every connection as one, as a program reading them from secret config has them.
const secretConnections = (v) => Array.isArray(v) ? v.map(secretConnections)
    : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === "connection" ? pulumi.secret(x) : secretConnections(x)])) : v;
const given = c.secretConnections ? secretConnections(c.args) : c.args;
const args = c.secretArgs ? { ...given, ...Object.fromEntries(c.secretArgs.map((k) => [k, pulumi.secret(given[k])])) } : given;
for (const s of [...(c.setup || []), { target: c.target, name: c.name || c.id, args }]) {
    new ro[s.target](s.name, s.args, COMPONENTS.includes(s.target) ? { providers: [cluster] } : {});
}
