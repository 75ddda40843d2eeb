// Every kernel object kind of the package on lab hosts over real SSH: a
// return route on the peer; on node1 a rule, a VXLAN link, FDB entries (one
// and a set), a route set, the FORWARD and INVALID accepts and ip_forward.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const ro = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const key = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
const conn = (h) => ({ host: lab.hosts[h].ssh.host, user: "root", privateKey: key, hostKey: lab.hosts[h].ssh.hostKey });
const node1 = conn("node1");

new ro.Route("peer-return", {
    connection: conn("peer"),
    dst: cfg.get("peerDst") || "10.166.0.0/16",
    gateway: cfg.get("peerVia") || "192.168.2.10",
    dev: cfg.get("peerDev") || "eth0",
    adopt: cfg.getBoolean("adoptPeer") || false,
});
new ro.Rule("to-remote", { connection: node1, priority: 1000, to: "10.200.0.0/16", table: 18952 });
const link = new ro.VxlanLink("rovx0", {
    connection: node1, name: "rovx0", vni: 4242, dstport: 4790, local: "192.168.2.10", dev: "eth0", mtu: 1450,
    addresses: ["172.32.0.1/24"],
});
new ro.FdbEntry("on-foreign-link", { connection: node1, dev: "vxf", dst: "192.168.2.11" });
new ro.FdbSet("vteps", { connection: node1, dev: "rovx0", entries: [{ dst: "192.168.2.11" }, { dst: "192.168.2.12" }] }, { dependsOn: link });
const routes = [
    { dst: "10.200.0.0/16", gateway: "172.32.0.2", dev: "rovx0" },
    { dst: "10.201.0.0/16", gateway: "172.32.0.2", dev: "rovx0" },
    { dst: "10.202.0.0/16", type: "blackhole" },
];
if (cfg.getBoolean("extraRoute")) routes.push({ dst: "10.203.0.0/16", gateway: "172.32.0.3", dev: "rovx0" });
new ro.RouteSet("remote-cidrs", { connection: node1, table: 18952, routes }, { dependsOn: link });
new ro.ForwardAccept("pods-forward", { connection: node1, cidr: "10.166.0.0/16" });
new ro.ConntrackInvalidAccept("pods-invalid", { connection: node1, cidr: "10.166.0.0/16" });
new ro.Sysctl("ip-forward", { connection: node1, key: "net.ipv4.ip_forward", value: "1" });
