// One dynamic resource over real SSH: a sysctl on lab host node1.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const { Sysctl } = require("routed-overlay");

const lab = JSON.parse(fs.readFileSync(process.env.RO_LAB_JSON, "utf8"));
const cfg = new pulumi.Config();
const host = lab.hosts[cfg.get("host") || "node1"];
const s = new Sysctl("rp-filter", {
    connection: {
        host: host.ssh.host,
        user: host.ssh.user,
        privateKey: fs.readFileSync(lab.ssh.privateKeyPath, "utf8"),
        // noHostKey: a connection as a user might write it, without the host's key.
        ...(cfg.getBoolean("noHostKey") ? {} : { hostKey: cfg.get("hostKey") || host.ssh.hostKey }),
    },
    key: "net.ipv4.conf.eth0.rp_filter",
    value: cfg.get("value") || "2",
});
exports.value = s.value;
exports.previous = s.previous;
