// Return routes on the peer: one Route and one RouteSet of two routes, all via node1.
const fs = require("fs");
const ro = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const peer = lab.hosts.peer;
const connection = { host: peer.ssh.host, user: "root", privateKey: fs.readFileSync(lab.ssh.privateKeyPath, "utf8"), hostKey: peer.ssh.hostKey };

new ro.Route("single", { connection, dst: "10.170.0.0/16", gateway: "192.168.2.10", dev: "eth0" });
new ro.RouteSet("set", { connection, routes: [{ dst: "10.171.0.0/16", gateway: "192.168.2.10", dev: "eth0" }, { dst: "10.172.0.0/16", gateway: "192.168.2.10", dev: "eth0" }] });
