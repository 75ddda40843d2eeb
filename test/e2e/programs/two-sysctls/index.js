// A sysctl on each of two lab hosts, with the commandTimeout given in config.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const { Sysctl } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const privateKey = fs.readFileSync(lab.ssh.privateKeyPath, "utf8");
for (const name of ["node1", "node2"]) {
    const h = lab.hosts[name];
    new Sysctl(`rp-filter-${name}`, {
        connection: { host: h.ssh.host, user: h.ssh.user, privateKey, hostKey: h.ssh.hostKey, commandTimeout: cfg.getNumber("commandTimeout") },
        key: "net.ipv4.conf.eth0.rp_filter",
        value: "2",
    });
}
