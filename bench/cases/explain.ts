/**
 * explain() and inspect() over a large pending graph must be linear in it:
 * their per-task cost from 10,000 to 100,000 pending tasks grows no more
 * than that of `graph()` over the same tasks (a linear pass that builds a
 * graph of them), measured in turns in the same run. Per-task figures of any
 * walk grow as the graph outgrows the CPU's caches, so the pass over the same
 * two graphs is the yardstick; and no call costs more per task than it.
 */
import type { TaskFuture, WorkflowEngine } from "../../lib/index.js";
import { interleave, usPer, type Row, type Sample, type Settings } from "../harness.js";
import { engine, n, type Case } from "./common.js";

const RATIO = 1;

type Build = (flow: WorkflowEngine, size: number, held: Promise<number>) => TaskFuture<number>;

const fanIn: Build = (flow, size, held) => {
  const api = flow.functionTask(async function callExternalApi() {
    return held;
  });
  const step = flow.functionTask((x: number) => x + 1, { name: "step" });
  const sum = flow.functionTask((xs: number[]) => xs.length, { name: "sum" });
  const a = api();
  return sum(Array.from({ length: size }, () => step(a)));
};

const chain: Build = (flow, size, held) => {
  const api = flow.functionTask(async function callExternalApi() {
    return held;
  });
  const step = flow.functionTask((x: number) => x + 1, { name: "step" });
  let f = api();
  for (let i = 0; i < size; i++) f = step(f);
  return f;
};

type Measure = (flow: WorkflowEngine, root: TaskFuture<number>) => unknown;

/** A graph of `size` pending tasks made by `build`, held until `close()`. */
async function pendingGraph(build: Build, size: number): Promise<{ flow: WorkflowEngine; root: TaskFuture<number>; close(): Promise<void> }> {
  const flow = await engine();
  let open!: (v: number) => void;
  const root = build(flow, size, new Promise<number>((r) => (open = r)));
  await new Promise((r) => setImmediate(r));
  return {
    flow,
    root,
    async close() {
      open(0);
      await flow.shutdown();
    },
  };
}

/** How much more per task ours may grow from 10,000 to 100,000 pending than graph() grows: a quadratic walk grows 10x (a quadratic fan-in, tried: 7.7x). */
const GROWTH = 2.5;

const once = (x: number): Sample => ({ median: x, min: x, max: x, runs: 1 });

/**
 * Linearity: per-task cost at 100,000 pending over that at 10,000 (the
 * growth), beside the growth of `graph()` over the same two graphs (a linear
 * pass that builds a graph of them), all four measured in turns in the same
 * run. Memory makes any walk dearer per task on a bigger graph; a walk that
 * is not linear grows 10x more per task from 10,000 to 100,000.
 */
async function row(s: Settings, label: string, build: Build, measure: Measure): Promise<Row> {
  const [size, small] = [n(s, 100_000, 5_000), n(s, 10_000, 500)];
  const big = await pendingGraph(build, size);
  const little = await pendingGraph(build, small);
  try {
    const r = await interleave(s, {
      ours: { run: () => usPer(size, async () => measure(big.flow, big.root)) },
      oursSmall: { run: () => usPer(small, async () => measure(little.flow, little.root)) },
      walk: { run: () => usPer(size, async () => big.flow.graph()) },
      walkSmall: { run: () => usPer(small, async () => little.flow.graph()) },
    });
    const [ours, oursSmall, walk, walkSmall] = [r.ours, r.oursSmall, r.walk, r.walkSmall].map((x) => {
      if (x instanceof Error) throw x;
      return x;
    }) as [Sample, Sample, Sample, Sample];
    const growth = ours.median / oursSmall.median;
    const walkGrowth = walk.median / walkSmall.median;
    const cost = ours.median / walk.median;
    const [bigN, smallN] = [size, small].map((x) => x.toLocaleString("en-US"));
    return {
      case: `${label}, ${smallN} -> ${bigN} pending`,
      metric: "us/task",
      ours,
      baselineName: `ours at ${smallN}`,
      baseline: oursSmall,
      ratio: growth,
      peers: { "graph() growth": once(walkGrowth), [`graph() at ${bigN}`]: walk, [`graph() at ${smallN}`]: walkSmall },
      target: `growth <= ${GROWTH}x graph()'s, per task <= ${RATIO}x graph()`,
      pass: growth <= GROWTH * Math.max(1, walkGrowth) && cost <= RATIO,
      note: `per task ${cost.toFixed(2)}x graph() at ${bigN}`,
    };
  } finally {
    await big.close();
    await little.close();
  }
}

export const explainCases: Record<string, Case> = {
  async explain(s) {
    return [
      await row(s, "explain(), fan-in", fanIn, (flow, root) => flow.explain(root)),
      await row(s, "explain(), chain", chain, (flow, root) => flow.explain(root)),
      await row(s, "inspect(), fan-in", fanIn, (flow) => flow.inspect()),
    ];
  },
};
