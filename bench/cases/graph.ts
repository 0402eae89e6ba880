/** The in-process cases: seeded DAG shapes against plain promises and the JS peers, and how per-task cost grows with graph size. */
import { sample, summarize, usPer, usPerOutsideGc, type Row, type Sample, type Settings } from "../harness.js";
import { FUTURE_FIELDS, Held, Tiny, hold, runMinimalEngine } from "../floors.js";
import { runAsyncAuto, runAsyncflow, runPGraph, runPQueue, runPromises } from "../runners.js";
import { chain, fanOutIn, independent, layered, type Shape } from "../shapes.js";
import { engine, fmtUs, n, type Case } from "./common.js";

async function shapeRow(
  s: Settings,
  label: string,
  shape: Shape,
  unit: string,
  target: { us: number; ratio?: number },
  peers: Record<string, (shape: Shape) => Promise<void>>,
  peerRepeats: Record<string, number> = {},
): Promise<Row> {
  const flow = await engine();
  try {
    const ours = await sample(s, () => usPer(shape.size, () => runAsyncflow(flow, shape)));
    const floor = await sample(s, () => usPer(shape.size, () => runPromises(shape)));
    const peerSamples: Row["peers"] = {};
    for (const [name, run] of Object.entries(peers)) {
      peerSamples[name] = await sample({ ...s, warmup: Math.min(s.warmup, peerRepeats[name] ?? s.warmup) }, () => usPer(shape.size, () => run(shape)), peerRepeats[name] ?? s.repeats);
    }
    const ratio = ours.median / floor.median;
    const pass = ours.median <= target.us && (target.ratio === undefined || ratio <= target.ratio);
    return {
      case: label,
      metric: `us/${unit}`,
      ours,
      baselineName: "promises",
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
    const shape = independent(n(s, 100_000, 1_000));
    return [await shapeRow(s, shape.name, shape, "task", { us: 2.5, ratio: 6 }, { "p-graph": runPGraph, "p-queue": (sh) => runPQueue(sh.size) })];
  },

  async chain(s) {
    const shape = chain(n(s, 10_000, 200));
    return [await shapeRow(s, `${shape.name} (await last)`, shape, "hop", { us: 3 }, { "p-graph": runPGraph })];
  },

  async fanout(s) {
    const shape = fanOutIn(n(s, 100_000, 1_000));
    return [await shapeRow(s, shape.name, shape, "child", { us: 3 }, {})];
  },

  async layered(s) {
    const shape = s.quick ? layered(10, 10) : layered(100, 100);
    return [await shapeRow(s, shape.name, shape, "node", { us: 4 }, { "p-graph": runPGraph, "async.auto": runAsyncAuto }, { "async.auto": 1 })];
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
      const tinyAdded = tb.median - ta.median;
      const per = big.size.toLocaleString("en");
      return [
        {
          case: `growth 1,000 -> ${per}`,
          metric: "us/task",
          ours: b,
          baselineName: "at 1,000",
          baseline: a,
          ratio,
          peers: {
            "promises growth": { ...pb, median: pb.median / pa.median },
            "held objects growth": { ...ob, median: ob.median / oa.median },
            "minimal engine growth": { ...mb, median: mb.median / ma.median },
          },
          target: "ratio <= 1.5",
          pass: ratio <= 1.5,
          note:
            `outside GC pauses: ${fmtUs(ownBig.median)} at ${per} against ${fmtUs(ownSmall.median)} (ratio ${(ownBig.median / ownSmall.median).toFixed(2)}); ` +
            `added per task at ${per}: ours ${fmtUs(b.median - a.median)}, one held ${FUTURE_FIELDS}-field object ${fmtUs(ob.median - oa.median)}, ` +
            `one held 2-field object ${fmtUs(tinyAdded)}, a promise ${fmtUs(pb.median - pa.median)}, ` +
            `a minimal engine (5-field future, ready list, done-callback) ${fmtUs(mb.median - ma.median)} on ${fmtUs(ma.median)} at 1,000; ` +
            `with no growth of our own, the 2-field object's cost alone: ratio ${((a.median + tinyAdded) / a.median).toFixed(2)}`,
        },
      ];
    } finally {
      await flow.shutdown();
    }
  },
};
