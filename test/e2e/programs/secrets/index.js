// examples/vip-return-route with every credential in secret config, as a
// user keeps them: the SSH private key and the VRRP password. excludeIps is a
// plain setting, to change something that is not secret alongside.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");
const { GatewayVip, RoutedSubnet } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const privateKey = cfg.requireSecret("privateKey");
const connection = (h) => ({ host: lab.hosts[h].ssh.host, user: lab.hosts[h].ssh.user, privateKey, hostKey: lab.hosts[h].ssh.hostKey });
const nodes = Object.values(lab.hosts).filter((h) => h.role === "node")
    .map((h) => ({ name: h.name, address: h.interfaces.eth0.split("/")[0], connection: connection(h.name) }));
const cluster = new k8s.Provider("lab", { kubeconfig: fs.readFileSync(lab.kubernetes.kubeconfig, "utf8"), enableServerSideApply: true });

const vip = new GatewayVip("gw", {
    vip: "192.168.2.250/24",
    segment: "192.168.2.0/24",
    virtualRouterId: 51,
    authPass: cfg.requireSecret("vrrpPass"),
    nodes: nodes.map((n) => ({ ...n, interface: "eth0" })),
});

new RoutedSubnet("routed", {
    cidrBlock: "10.166.0.0/16",
    excludeIps: cfg.getObject("excludeIps") || [],
    nodes,
    nextHop: vip.address,
    returnRoutes: [{ name: "peer", connection: connection("peer"), dev: "eth0" }],
}, { providers: [cluster] });
