// A stack's prerequisites on node1, as a RoutedSubnet makes them: ip_forward and the FORWARD
// accepts of one CIDR. Two stacks of this program own the same sysctl and accept the same CIDR.
const fs = require("fs");
const { ConntrackInvalidAccept, ForwardAccept, Sysctl } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const host = lab.hosts.node1;
const connection = { host: host.ssh.host, user: host.ssh.user, privateKey: fs.readFileSync(lab.ssh.privateKeyPath, "utf8"), hostKey: host.ssh.hostKey };

new Sysctl("ip-forward", { connection, key: "net.ipv4.ip_forward", value: "1" });
new ForwardAccept("forward", { connection, cidr: "10.166.0.0/16" });
new ConntrackInvalidAccept("invalid", { connection, cidr: "10.166.0.0/16" });
