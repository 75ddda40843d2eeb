import * as assert from "assert";
import { activateGatewayStatus, planEgress, SubnetObject } from "../../lab/datapath";
import { buildTopology } from "../../lab/topology";

const subnet = (name: string, spec: SubnetObject["spec"]): SubnetObject => ({ metadata: { name }, spec });

describe("lab datapath: Kube-OVN's centralized-gateway egress", () => {
    const t = buildTopology();

    it("steers the subnet's egress on every other node to the first gateway node's datapath", () => {
        const plan = planEgress([subnet("c", { cidrBlock: "10.166.0.0/16", gatewayType: "centralized", gatewayNode: "node1" })], t);
        assert.deepStrictEqual(plan, [
            { netns: "ro-node2-ovs", subnet: "c", cidr: "10.166.0.0/16", table: 1001, via: ["172.31.0.1"] },
            { netns: "ro-node3-ovs", subnet: "c", cidr: "10.166.0.0/16", table: 1001, via: ["172.31.0.1"] },
        ]);
    });

    it("reads node:ip entries, skips unknown nodes, and spreads over all gateways with enableEcmp", () => {
        const active = planEgress([subnet("c", { cidrBlock: "10.166.0.0/16", gatewayType: "centralized", gatewayNode: "ghost, node2:192.168.2.11,node3" })], t);
        assert.deepStrictEqual(active.map((p) => [p.netns, p.via]), [["ro-node1-ovs", ["172.31.0.2"]], ["ro-node3-ovs", ["172.31.0.2"]]]);
        const ecmp = planEgress([subnet("c", { cidrBlock: "10.166.0.0/16", gatewayType: "centralized", gatewayNode: "node2,node3", enableEcmp: true })], t);
        assert.deepStrictEqual(ecmp.map((p) => [p.netns, p.via]), [["ro-node1-ovs", ["172.31.0.2", "172.31.0.3"]]]);
    });

    it("leaves distributed subnets, subnets without gateway nodes, and IPv6 CIDRs alone; one table per subnet", () => {
        const plan = planEgress([
            subnet("d", { cidrBlock: "10.166.0.0/16", gatewayType: "distributed" }),
            subnet("z", { cidrBlock: "100.64.0.0/16,fd00:64::/64", gatewayType: "centralized", gatewayNode: "node3" }),
            subnet("a", { cidrBlock: "10.167.0.0/16", gatewayType: "centralized" }),
            subnet("b", { cidrBlock: "10.168.0.0/16", gatewayType: "centralized", gatewayNode: "nobody" }),
        ], t);
        assert.deepStrictEqual(plan.map((p) => [p.netns, p.cidr, p.table]), [["ro-node1-ovs", "100.64.0.0/16", 1002], ["ro-node2-ovs", "100.64.0.0/16", 1002]]);
    });

    it("a gateway node whose datapath fails hands the egress and status.activateGateway to the next one, and gets them back", () => {
        const subnets = [subnet("c", { cidrBlock: "10.166.0.0/16", gatewayType: "centralized", gatewayNode: "node1,node2" })];
        const all = new Set(["node1", "node2", "node3"]);
        assert.deepStrictEqual([...activateGatewayStatus(subnets, t, all)], [["c", "node1"]]);
        const failed = new Set(["node2", "node3"]);
        assert.deepStrictEqual([...activateGatewayStatus(subnets, t, failed)], [["c", "node2"]]);
        // node1's own datapath steers nothing while it is down.
        assert.deepStrictEqual(planEgress(subnets, t, failed).map((p) => [p.netns, p.via]), [["ro-node3-ovs", ["172.31.0.2"]]]);
        assert.deepStrictEqual([...activateGatewayStatus(subnets, t, new Set(["node3"]))], [["c", ""]]);
        assert.deepStrictEqual(planEgress(subnets, t, new Set(["node3"])), []);
        assert.deepStrictEqual([...activateGatewayStatus([subnet("e", { ...subnets[0].spec, enableEcmp: true })], t, all)], [["e", "node1,node2"]]);
    });
});
