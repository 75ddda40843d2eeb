import * as assert from "assert";
import { aggregate, cellKey, median, pairedOverFloor, renderMarkdown, Sample, summarizeStats } from "../../bench/stats";

describe("bench: the arithmetic behind the tables", () => {
    it("reads round trips per host and the provider's peak memory from the stats lines, skipping a torn line", () => {
        const text = [
            JSON.stringify({ pid: 1, ev: "call", host: "root@198.18.0.200:22", cmd: "ip", ms: 3 }),
            JSON.stringify({ pid: 1, ev: "call", host: "root@198.18.0.200:22", cmd: "ip", ms: 4 }),
            JSON.stringify({ pid: 1, ev: "call", host: "root@198.18.0.11:22", cmd: "bridge", ms: 4 }),
            JSON.stringify({ pid: 1, t: 10_000, ev: "op", kind: "RouteSet", op: "create", ms: 40, ok: true, peakKiB: 81920 }),
            JSON.stringify({ pid: 1, t: 12_500, ev: "op", kind: "RouteSet", op: "create", ms: 40, ok: true, peakKiB: 102400 }),
            '{"pid":1,"ev":"ca',
        ].join("\n");
        const s = summarizeStats(text);
        assert.deepStrictEqual(s.callsByHost, { "root@198.18.0.200:22": 2, "root@198.18.0.11:22": 1 });
        assert.strictEqual(s.peakMiB, 100);
        assert.deepStrictEqual(s.ops, { "RouteSet.create": 2 });
        assert.strictEqual(s.spanSeconds, 2.54, "from the first op's start (t - ms) to the last op's end");
        assert.strictEqual(s.callSeconds, 0.011);
        assert.deepStrictEqual(summarizeStats(""), { callsByHost: {}, peakMiB: 0, ops: {}, spanSeconds: 0, callSeconds: 0 });
    });

    it("takes the median of odd and even run counts", () => {
        assert.strictEqual(median([3, 1, 2]), 2);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
        assert.ok(Number.isNaN(median([])));
    });

    const sample = (variant: string, op: string, run: number, seconds: number, calls = 0): Sample =>
        ({ workload: "W1", size: 1000, variant, op, run, seconds, resources: 3, stats: { callsByHost: calls ? { h: calls } : {}, peakMiB: 60 + run, ops: {}, spanSeconds: 0, callSeconds: 0 } });

    it("aggregates runs into medians with the worst round trips and memory", () => {
        const cells = aggregate([sample("package", "up", 1, 5, 2), sample("package", "up", 2, 9, 2), sample("package", "up", 3, 6, 3)]);
        assert.deepStrictEqual(cells.get(cellKey("W1", 1000, "package", "up")), { seconds: 6, runs: 3, maxCallsPerHost: 3, peakMiB: 63, resources: 3 });
    });

    it("renders the W1 table and the ratios against the baselines", () => {
        const md = renderMarkdown([
            sample("package", "up", 1, 6, 2), sample("package", "noop-up", 1, 4), sample("package", "preview", 1, 3.5), sample("package", "refresh", 1, 5, 1), sample("package", "destroy", 1, 5, 1),
            sample("engine-floor", "up", 1, 4), sample("engine-floor", "noop-up", 1, 3.75),
            sample("per-route", "up", 1, 300, 1000),
            { workload: "W1", size: 1000, variant: "ip-batch", op: "add", run: 1, seconds: 0.012 },
            { workload: "W1", size: 1000, variant: "ansible", op: "up", run: 1, seconds: 90 },
            { workload: "W1", size: 1000, variant: "ansible", op: "destroy", run: 1, seconds: 80 },
        ], { machine: "test" });
        assert.match(md, /\| 1000 \| package \| 6\.00 \| 4\.00 \| 3\.50 \| 5\.00 \| 5\.00 \| 3 \| 2 \/ 0 \/ 0 \/ 1 \/ 1 \| 61 \|/);
        assert.match(md, /\| 1000 \| ansible \| 90\.0 \| – \| – \| – \| 80\.0 \| – \| – \| – \|/);
        assert.match(md, /\| 1000 \| 2\.00 s \| 0\.25 s \| – \| 50\.0× \| 15\.0× \| 500\.0× \|/);
        assert.match(md, /- machine: test/);
        assert.doesNotMatch(md, /kept from earlier runs/);
    });

    it("names the cells a --merge kept from an earlier run, with that run's date", () => {
        const md = renderMarkdown([
            { ...sample("package", "up", 1, 6), date: "2026-12-02T10:00:00Z" },
            { ...sample("per-route", "up", 1, 300, 1000), date: "2026-11-23T17:51:25Z" },
        ], { date: "2026-12-02T10:00:00Z" });
        assert.match(md, /- kept from earlier runs \(--merge\): W1 1000 per-route \(2026-11-23T17:51:25Z\)\n/);
    });
    it("renders W2 with the package over the floor and the cost per node", () => {
        const w2 = (variant: string, op: string, seconds: number): Sample => ({ workload: "W2", size: 64, variant, op, run: 1, seconds, resources: 258 });
        const md = renderMarkdown([
            w2("package", "up", 32), w2("package", "noop-up", 8), w2("package", "move-gateway", 10.5),
            w2("engine-floor", "up", 25.6), w2("engine-floor", "noop-up", 7.5), w2("engine-floor", "move-gateway", 9.75),
            w2("engine-floor-rules", "up", 27), w2("engine-floor-rules", "move-gateway", 11),
        ], { machine: "test" });
        assert.match(md, /\| 64 \| 6\.40 s \| 0\.50 s \| 0\.75 s \| – \| -0\.50 s \| – \| 0\.500 s \| 0\.400 s \|/);
        assert.match(md, /\| 64 \| engine-floor-rules \| 258 \|/);
    });

    it("pairs each move with the floor's of the same run and round, so a drift over the run cancels", () => {
        const move = (variant: string, run: number, round: number, seconds: number): Sample => ({ workload: "W2", size: 64, variant, op: "move-gateway", run, round, seconds });
        // Both variants slow down 2 s a round; the package is always 0.5 to 0.9 s over the floor.
        const samples = [
            move("engine-floor", 1, 1, 9), move("package", 1, 1, 9.5),
            move("engine-floor", 1, 2, 11), move("package", 1, 2, 11.9),
            move("engine-floor", 1, 3, 13), move("package", 1, 3, 13.7),
            // A second run's round 1, and a package move with no floor beside it (not paired).
            move("engine-floor", 2, 1, 8), move("package", 2, 1, 8.6), move("package", 2, 2, 30),
        ];
        const p = pairedOverFloor(samples, 64, "engine-floor")!;
        assert.deepStrictEqual([p.median, p.min, p.max].map((x) => x.toFixed(6)), ["0.650000", "0.500000", "0.900000"]);
        assert.strictEqual(p.pairs, 4);
        assert.strictEqual(pairedOverFloor(samples, 64, "engine-floor-rules"), undefined);
        // The medians of each variant keep the drift and the unpaired sample: 11.9 − 10 = 1.9 s.
        const md = renderMarkdown(samples, { machine: "test" });
        assert.match(md, /\| 64 \| – \| – \| 1\.90 s \| 0\.65 s \(0\.50 to 0\.90, 4 pairs\) \| – \| – \|/);
    });
});

describe("provider stats (RO_PROVIDER_STATS)", () => {
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    const { timedOp } = require("../../provider/stats") as typeof import("../../provider/stats");

    it("writes nothing unless asked, and one op line with the peak memory when asked", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ro-stats-")), "s.jsonl");
        delete process.env.RO_PROVIDER_STATS;
        assert.strictEqual(await timedOp("RouteSet", "read", async () => 7), 7);
        assert.ok(!fs.existsSync(file));
        process.env.RO_PROVIDER_STATS = file;
        try {
            await assert.rejects(timedOp("RouteSet", "create", async () => { throw new Error("boom"); }), /boom/);
            const s = summarizeStats(fs.readFileSync(file, "utf8"));
            assert.deepStrictEqual(s.ops, { "RouteSet.create": 1 });
            assert.ok(s.peakMiB > 10, `peak ${s.peakMiB} MiB`);
            assert.match(fs.readFileSync(file, "utf8"), /"ok":false/);
        } finally {
            delete process.env.RO_PROVIDER_STATS;
            fs.rmSync(path.dirname(file), { recursive: true, force: true });
        }
    });
});
