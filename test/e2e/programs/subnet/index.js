// A kubeovn.io/v1 Subnet through @pulumi/kubernetes on the lab's API server.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const provider = new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8") });
const subnet = new k8s.apiextensions.CustomResource("routed", {
    apiVersion: "kubeovn.io/v1",
    kind: "Subnet",
    metadata: {
        name: cfg.get("name") || "routed",
    },
    spec: {
        protocol: "IPv4",
        cidrBlock: "10.166.0.0/16",
        default: false,
        excludeIps: ["10.166.0.1"],
        gateway: "10.166.0.1",
        gatewayType: "distributed",
        // "typo" puts a string where the upstream schema wants a boolean.
        natOutgoing: cfg.get("natOutgoing") === "typo" ? "false" : false,
    },
}, { provider });
exports.name = subnet.metadata.name;
