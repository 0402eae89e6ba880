/** The in-process cases: seeded DAG shapes against plain promises and the JS peers, and how per-task cost grows with graph size. */
import { interleave, sample, summarize, usPer, usPerOutsideGc, type Contender, type Row, type Sample, type Settings } from "../harness.js";
import { cleanProcess } from "../clean/index.js";
import { buildShape, type ShapeSpec } from "../clean/workloads.js";
import { FUTURE_FIELDS, Held, Tiny, hold, runMinimalEngine } from "../floors.js";
import { runAsyncflow, runPromises } from "../runners.js";
import { independent } from "../shapes.js";
import { engine, fmtUs, n, type Case } from "./common.js";

type Peer = "p-graph" | "p-queue" | "async.auto";

/** Ours in this process against the floor and the peers in the clean process, rounds interleaved. */
async function shapeRow(s: Settings, label: string, spec: ShapeSpec, unit: string, target: { us: number; ratio?: number }, peers: Peer[]): Promise<Row> {
  const flow = await engine();
  const clean = await cleanProcess();
  try {
    const shape = buildShape(spec);
    const contenders: Record<string, Contender> = {
      ours: { run: () => usPer(shape.size, () => runAsyncflow(flow, shape)) },
      promises: { run: () => clean.run({ run: "callback", who: "promises", shape: spec }) },
    };
    for (const p of peers) contenders[p] = { run: () => clean.run({ run: "callback", who: p, shape: spec }), rounds: p === "async.auto" ? 1 : 3 };
    const got = await interleave(s, contenders);
    const sampleOf = (k: string): Sample => {
      const x = got[k]!;
      if (x instanceof Error) throw x;
      return x;
    };
    const ours = sampleOf("ours");
    const floor = sampleOf("promises");
    const peerSamples: Row["peers"] = {};
    for (const p of peers) peerSamples[p] = sampleOf(p);
    const ratio = ours.median / floor.median;
    const pass = ours.median <= target.us && (target.ratio === undefined || ratio <= target.ratio);
    return {
      case: label,
      metric: `us/${unit}`,
      ours,
      baselineName: "promises, clean process",
      baseline: floor,
      ratio,
      peers: peerSamples,
      target: `<= ${target.us} us/${unit}${target.ratio === undefined ? "" : `, ratio <= ${target.ratio}`}`,
      pass,
    };
  } finally {
    await flow.shutdown();
  }
}

export const graphCases: Record<string, Case> = {
  async independent(s) {
    const size = n(s, 100_000, 1_000);
    return [await shapeRow(s, `callbacks: independent ${size}`, { kind: "independent", size }, "task", { us: 2.5, ratio: 6 }, ["p-graph", "p-queue"])];
  },

  async chain(s) {
    const size = n(s, 10_000, 200);
    return [await shapeRow(s, `callbacks: chain ${size} (await last)`, { kind: "chain", size }, "hop", { us: 3 }, ["p-graph"])];
  },

  async fanout(s) {
    const size = n(s, 100_000, 1_000);
    return [await shapeRow(s, `callbacks: fan-out/fan-in ${size}`, { kind: "fanOutIn", size }, "child", { us: 3 }, [])];
  },

  async layered(s) {
    const side = s.quick ? 10 : 100;
    return [await shapeRow(s, `callbacks: layered ${side}x${side}`, { kind: "layered", layers: side, width: side }, "node", { us: 4 }, ["p-graph", "async.auto"])];
  },

  /**
   * Per-task cost must not grow with graph size (no hidden O(n) per task).
   * Beside the wall-clock figures, the row splits off the garbage collector's
   * pauses and measures what merely holding one object per task costs, so
   * the engine's own growth and the collector's can be told apart.
   */
  async growth(s) {
    const flow = await engine();
    try {
      const small = independent(1_000);
      const big = independent(n(s, 1_000_000, 10_000));
      const outside = new Map<number, number[]>([[small.size, []], [big.size, []]]);
      const shapes = new Map([[small.size, small], [big.size, big]]);
      const contenders = {
        ours: (count: number) => usPerOutsideGc(count, () => runAsyncflow(flow, shapes.get(count)!), outside.get(count)!),
        // the floor's own growth, for scale: a million live objects cost the GC whoever allocates them
        promises: (count: number) => usPer(count, () => runPromises(shapes.get(count)!)),
        // and the floor of any design that returns a future: allocating one object per task and holding it
        held: (count: number) => usPer(count, async () => hold(count, (i) => new Held(i))),
        tiny: (count: number) => usPer(count, async () => hold(count, (i) => new Tiny(i))),
        minimal: (count: number) => usPer(count, () => runMinimalEngine(count)),
      };
      // Every figure at 1,000 first, then every one at a million: a small run right after a big one
      // pays for the collector finishing with the big one's garbage, which would flatter its growth.
      const at = async (count: number, warmup: number, repeats: number): Promise<Record<keyof typeof contenders, Sample>> => {
        const out: Partial<Record<keyof typeof contenders, Sample>> = {};
        for (const [name, run] of Object.entries(contenders)) out[name as keyof typeof contenders] = await sample({ ...s, warmup }, () => run(count), repeats);
        return out as Record<keyof typeof contenders, Sample>;
      };
      const { ours: a, promises: pa, held: oa, tiny: ta, minimal: ma } = await at(small.size, 20, 21);
      const { ours: b, promises: pb, held: ob, tiny: tb, minimal: mb } = await at(big.size, 1, 5);
      const ownSmall = summarize(outside.get(small.size)!.slice(-a.runs));
      const ownBig = summarize(outside.get(big.size)!.slice(-b.runs));
      const ratio = b.median / a.median;
      const ownRatio = ownBig.median / ownSmall.median;
      const minimalGrowth = mb.median / ma.median;
      const tinyAdded = tb.median - ta.median;
      const per = big.size.toLocaleString("en");
      // The growth target, two verdicts: the engine's own time (outside the
      // collector's pauses), and wall-clock growth against the least an engine
      // can do per task, measured in the same run.
      const rows: Row[] = [
        {
          case: `growth 1,000 -> ${per}, outside GC pauses`,
          metric: "us/task",
          ours: ownBig,
          baselineName: "at 1,000",
          baseline: ownSmall,
          ratio: ownRatio,
          peers: {},
          target: "ratio <= 1.5",
          pass: ownRatio <= 1.5,
        },
        {
          case: `growth 1,000 -> ${per}, wall clock`,
          metric: "us/task",
          ours: b,
          baselineName: "at 1,000",
          baseline: a,
          ratio,
          peers: {
            "minimal engine growth": { ...mb, median: minimalGrowth },
            "promises growth": { ...pb, median: pb.median / pa.median },
            "held objects growth": { ...ob, median: ob.median / oa.median },
          },
          target: "ratio <= minimal engine's growth",
          pass: ratio <= minimalGrowth,
          note:
            `added per task at ${per}: ours ${fmtUs(b.median - a.median)}, one held ${FUTURE_FIELDS}-field object ${fmtUs(ob.median - oa.median)}, ` +
            `one held 2-field object ${fmtUs(tinyAdded)}, a promise ${fmtUs(pb.median - pa.median)}, ` +
            `a minimal engine (5-field future, ready list, done-callback) ${fmtUs(mb.median - ma.median)} on ${fmtUs(ma.median)} at 1,000; ` +
            `with no growth of our own, the 2-field object's cost alone: ratio ${((a.median + tinyAdded) / a.median).toFixed(2)}`,
        },
      ];
      return rows;
    } finally {
      await flow.shutdown();
    }
  },
};
