/**
 * explain() and inspect() over a large pending graph must be linear in it.
 * Beside ours: `graph()` over the same tasks, a linear pass that builds a
 * graph of them, in turns in the same run. Per-task figures of any walk grow
 * from 10,000 to 100,000 tasks as the graph outgrows the CPU's caches (our
 * figure at 10,000 is shown), so the pass over the same graph is the yardstick.
 */
import type { TaskFuture, WorkflowEngine } from "../../lib/index.js";
import { alternate, sample, usPer, type Row, type Settings } from "../harness.js";
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

/**
 * Per-task cost at 100,000 pending beside `graph()` over the same tasks (a
 * linear pass that builds a graph of them), measured in turns; and ours at
 * 10,000, to show the cost per task does not grow with the graph beyond what
 * memory costs any walk over it.
 */
async function row(s: Settings, label: string, build: Build, measure: Measure): Promise<Row> {
  const [size, small] = [n(s, 100_000, 5_000), n(s, 10_000, 500)];
  const big = await pendingGraph(build, size);
  const little = await pendingGraph(build, small);
  try {
    const [ours, walk] = await alternate(
      s,
      () => usPer(size, async () => measure(big.flow, big.root)),
      () => usPer(size, async () => big.flow.graph()),
    );
    const atSmall = await sample(s, () => usPer(small, async () => measure(little.flow, little.root)));
    const ratio = ours.median / walk.median;
    return {
      case: `${label}, ${size.toLocaleString("en-US")} pending`,
      metric: "us/task",
      ours,
      baselineName: "graph()",
      baseline: walk,
      ratio,
      peers: { [`ours at ${small.toLocaleString("en-US")}`]: atSmall },
      target: `ratio <= ${RATIO} (no dearer than a linear pass)`,
      pass: ratio <= RATIO,
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
