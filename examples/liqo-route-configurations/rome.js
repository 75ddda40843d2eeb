// The Rome cluster's route tables of seed 004 (Liqo "Route Configuration",
// the Rome/Milan example), as input for renderRouteConfiguration: two nodes
// (rome-control-plane, rome-worker), each behind its own Geneve interface
// toward the gateway, and the peering with Milan.
const pod = (name, namespace, uid) => ({ kind: "Pod", name, namespace, uid });
const liqoLabels = (extra) => ({ "liqo.io/managed": "true", "networking.liqo.io/route-category": "gateway", ...extra });

// Traffic from the tunnel to the external CIDR's addresses, per node (gateway side).
const extcidr = (node, dev, gw) => ({
    name: `${node}-extcidr`,
    namespace: "liqo",
    labels: liqoLabels({ "networking.liqo.io/route-subcategory": "fabric-node", "networking.liqo.io/route-unique": node }),
    tableName: `${node}-extcidr`,
    rules: [{ iif: "liqo-tunnel", routes: ["10.60.0.1/32", "10.60.167.119/32"].map((dst) => ({ dev, dst, gw })) }],
});

// NodePort return traffic, selected by the fwmark Liqo's firewall sets per node.
const nodeport = (node, dev, gw, fwmark) => ({
    name: `${node}-service-nodeport-routing`,
    namespace: "liqo",
    labels: liqoLabels({ "networking.liqo.io/route-subcategory": "fabric" }),
    tableName: `${node}-service-nodeport-routing`,
    rules: [{ dst: "10.70.0.0/32", fwmark, routes: [{ dev, dst: "10.70.0.0/32", gw }], targetRef: { kind: "InternalNode", name: node } }],
});

// On the gateway: one /32 per pod of the node, via that node's Geneve address (symmetric routing).
const gwNode = (node, dev, gw, pods) => ({
    name: `${node}-gw-node`,
    namespace: "liqo",
    labels: liqoLabels({ "networking.liqo.io/route-subcategory": "fabric" }),
    tableName: node,
    rules: [
        { dst: `${gw}/32`, routes: [{ dev, dst: `${gw}/32`, scope: "link" }] },
        { iif: "liqo-tunnel", routes: pods.map(([ip, name, ns, uid]) => ({ dst: `${ip}/32`, gw, targetRef: pod(name, ns, uid) })) },
    ],
});

const MILAN_PEER = "169.254.18.1";

/** The eight objects of seed 004, in the seed's order. */
function romeTables() {
    return [
        extcidr("rome-worker", "liqo.zgdhd2x5fc", "10.80.0.2"),
        extcidr("rome-control-plane", "liqo.zqzt5nqktn", "10.80.0.1"),
        nodeport("rome-control-plane", "liqo.zqzt5nqktn", "10.80.0.1", 1),
        nodeport("rome-worker", "liqo.zgdhd2x5fc", "10.80.0.2", 2),
        gwNode("rome-worker", "liqo.zgdhd2x5fc", "10.80.0.2", [
            ["10.200.1.3", "liqo-crd-replicator-6b9444849f-lk4f2", "liqo", "9e0c841c-4947-4b40-9311-2454364861e4"],
            ["10.200.1.6", "liqo-webhook-6d7c5d969d-k5pwb", "liqo", "f5771c91-de43-4918-9b72-b0eafbd0de23"],
            ["10.200.1.4", "liqo-controller-manager-657df86c78-5prm9", "liqo", "4bbcbc1f-052c-4d35-8566-1eb68834b8e8"],
            ["10.200.1.2", "liqo-proxy-656b79b769-p7q7c", "liqo", "8860517f-2d4c-46a3-8dd3-a1ffc32d2bb1"],
            ["10.200.1.5", "liqo-ipam-58c769c95c-w5cmg", "liqo", "7ae1b33b-7351-40c7-be98-1315c22b047c"],
            ["10.200.1.7", "liqo-metric-agent-f48fdb9cd-bmg56", "liqo", "36016ede-27ca-4989-b39a-9b3feff485c1"],
            ["10.200.1.11", "nginx-test-6b689f7cdc-7sjpv", "rome-test", "3cd4a834-2776-416e-990c-3dd7db280c47"],
        ]),
        gwNode("rome-control-plane", "liqo.zqzt5nqktn", "10.80.0.1", [
            ["10.200.0.2", "coredns-7db6d8ff4d-kg2sm", "kube-system", "8a39a45e-c1a6-49e1-bb5f-ff02c871706e"],
            ["10.200.0.4", "coredns-7db6d8ff4d-rgngs", "kube-system", "556ababb-2d19-4ede-80e3-cece144a8050"],
            ["10.200.0.3", "local-path-provisioner-988d74bc-sgl8j", "local-path-storage", "fd26c49d-8072-42a3-8b0a-81aa05d2ea4b"],
        ]),
        // After peering with Milan: the gateway sends Milan's pod and external CIDRs to the peer...
        {
            name: "milan-gw-ext",
            namespace: "liqo-tenant-milan",
            labels: liqoLabels({ "networking.liqo.io/route-unique": "milan" }),
            tableName: "milan",
            rules: ["liqo.zqzt5nqktn", "liqo.zgdhd2x5fc"].flatMap((iif) =>
                ["10.200.0.0/16", "10.70.0.0/16"].map((dst) => ({ dst, iif, routes: [{ dst, gw: MILAN_PEER }] })),
            ),
        },
        // ...and every node sends Milan's remapped CIDRs to the gateway.
        {
            name: "milan-node-gw",
            namespace: "liqo-tenant-milan",
            labels: { "liqo.io/managed": "true", "networking.liqo.io/route-category": "fabric" },
            tableName: "milan-node-gw",
            rules: [
                { dst: "10.80.0.3/32", routes: [{ dev: "liqo.qvqc52kfnb", dst: "10.80.0.3/32", scope: "link" }] },
                ...["10.61.0.0/16", "10.62.0.0/16"].map((dst) => ({ dst, routes: [{ dst, gw: "10.80.0.3" }] })),
            ],
        },
    ];
}

module.exports = { romeTables };
