/**
 * What a task contract costs per task on the in-process path, beside the same
 * tasks without it, in turns in the same run: `inputs` + `output` (zod parses
 * every call's arguments and result), and `timeout` (every task gets a time
 * limit: one heap entry each under one shared timer, not a setTimeout each;
 * the row counts the setTimeout calls made).
 */
import { z } from "zod";
import type { FunctionTaskOptions, WorkflowEngine } from "../../lib/index.js";
import { alternate, usPer, type Row, type Settings } from "../harness.js";
import { engine, n, type Case } from "./common.js";

type Shape = (flow: WorkflowEngine, size: number, opts: FunctionTaskOptions) => Promise<void>;

/** `size` independent async tasks with `opts`, the way the README teaches (`await Promise.all`). */
const independent: Shape = async (flow, size, opts) => {
  const inc = flow.functionTask(async (x: number) => x + 1, opts);
  const all = new Array<PromiseLike<number>>(size);
  for (let i = 0; i < size; i++) all[i] = inc(i);
  await Promise.all(all);
};

/** A chain of `size` tasks, the last awaited: each runs alone, so each is alone in the timer heap in turn. */
const chain: Shape = async (flow, size, opts) => {
  const inc = flow.functionTask(async (x: number) => x + 1, opts);
  let f = inc(0);
  for (let i = 1; i < size; i++) f = inc(f);
  await f;
};

async function row(s: Settings, label: string, run: Shape, opts: FunctionTaskOptions, target: { ratio: number }, count?: () => number): Promise<Row> {
  const size = n(s, 100_000, 1_000);
  const flow = await engine();
  try {
    const before = count?.() ?? 0;
    const [ours, plain] = await alternate(
      s,
      () => usPer(size, () => run(flow, size, opts)),
      () => usPer(size, () => run(flow, size, {})),
    );
    const ratio = ours.median / plain.median;
    const timers = count === undefined ? undefined : count() - before;
    return {
      case: `${label}, ${size.toLocaleString("en-US")} ${run === chain ? "chained" : "tasks"}`,
      metric: "us/task",
      ours,
      baselineName: "no contract",
      baseline: plain,
      ratio,
      peers: {},
      target: `ratio <= ${target.ratio}`,
      pass: ratio <= target.ratio,
      ...(timers === undefined ? {} : { note: `${timers} setTimeout calls over every run of both (${ours.runs + plain.runs} runs)` }),
    };
  } finally {
    await flow.shutdown();
  }
}

/** Counts setTimeout calls from now on (the engine's own, since nothing else runs). */
function countTimers(): () => number {
  let calls = 0;
  const real = globalThis.setTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (calls++, real(...args))) as typeof setTimeout;
  return () => calls;
}

export const contractCases: Record<string, Case> = {
  async contracts(s) {
    const validated = await row(s, "inputs + output (zod)", independent, { inputs: z.tuple([z.number().int()]), output: z.number() }, { ratio: 3 });
    const real = globalThis.setTimeout;
    try {
      const timed = await row(s, "timeout set", independent, { timeout: 60_000 }, { ratio: 1.5 }, countTimers());
      const timedChain = await row(s, "timeout set", chain, { timeout: 60_000 }, { ratio: 1.5 }, countTimers());
      return [validated, timed, timedChain];
    } finally {
      globalThis.setTimeout = real;
    }
  },
};
