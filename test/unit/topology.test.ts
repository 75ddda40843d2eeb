import * as assert from "assert";
import { allNetns, buildTopology, DEFAULT_OPTIONS } from "../../lab/topology";

describe("lab topology", () => {
    const t = buildTopology();

    it("places node1 at 192.168.2.10 as in the seed, with peer and router on the same L2", () => {
        const byName = Object.fromEntries(t.hosts.map((h) => [h.name, h]));
        assert.strictEqual(byName.node1.interfaces.eth0, "192.168.2.10/24");
        assert.strictEqual(byName.peer.interfaces.eth0, "192.168.2.100/24");
        assert.strictEqual(byName.router.interfaces.eth0, "192.168.2.1/24");
        assert.strictEqual(byName.remote.interfaces.eth0, "192.168.3.100/24");
    });

    it("keeps management addresses inside 198.18.0.0/15 and unique", () => {
        const mgmt = t.hosts.map((h) => h.mgmt);
        assert.strictEqual(new Set(mgmt).size, mgmt.length);
        for (const a of [...mgmt, t.mgmtLink.address]) assert.match(a, /^198\.1[89]\./);
    });

    it("gives every pod one address per pod CIDR, unique across the lab", () => {
        const addrs = t.hosts.flatMap((h) => h.node?.pods.flatMap((p) => p.addresses) ?? []);
        assert.strictEqual(addrs.length, 3 * 2 * DEFAULT_OPTIONS.podCidrs.length);
        assert.strictEqual(new Set(addrs).size, addrs.length);
        assert.ok(addrs.every((a) => a.startsWith("10.166.") || a.startsWith("100.64.")));
    });

    it("names only namespaces with the lab prefix, and fits interface names in 15 characters at 80 nodes", () => {
        const big = buildTopology({ ...DEFAULT_OPTIONS, nodes: 80 });
        assert.ok(allNetns(big).every((n) => n.startsWith("ro-")));
        for (const h of big.hosts) assert.ok(`h-${h.name}`.length <= 15 && `s-${h.name}`.length <= 15);
    });

    it("rejects sizes it cannot address", () => {
        assert.throws(() => buildTopology({ ...DEFAULT_OPTIONS, nodes: 0 }), /nodes must be an integer from 1 to 80, got 0/);
        assert.throws(() => buildTopology({ ...DEFAULT_OPTIONS, nodes: 81 }), /got 81/);
    });
});
