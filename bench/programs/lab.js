// What the benchmark programs need from the lab the benchmark brings up: SSH
// connections to its hosts (shaped like @pulumi/command's, host keys pinned)
// and its nodes. The lab is a fixture of the benchmark, as of the tests: the
// examples read their hosts from stack config instead.
const fs = require("fs");

const file = process.env.RO_LAB_JSON;
if (!file || !fs.existsSync(file)) throw new Error(`RO_LAB_JSON must name the lab's description (.lab/lab.json), got ${JSON.stringify(file)}`);
const lab = JSON.parse(fs.readFileSync(file, "utf8"));
const privateKey = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");

/** The SSH connection of a lab host. */
const connection = (host) => ({ host: lab.hosts[host].ssh.host, user: lab.hosts[host].ssh.user, privateKey, hostKey: lab.hosts[host].ssh.hostKey });

/** The lab's nodes: name, address on the 192.168.2.0/24 segment, connection. */
const nodes = () => Object.values(lab.hosts).filter((h) => h.role === "node")
    .map((h) => ({ name: h.name, address: h.interfaces.eth0.split("/")[0], connection: connection(h.name) }));

module.exports = { connection, nodes };
