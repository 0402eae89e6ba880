/**
 * What lifecycle events cost: the same graph with nobody listening (one
 * branch per transition: this must stay today's per-task figure), with a
 * listener, and with a trace file, all measured in the same run.
 */
import { mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowEngine } from "../../lib/index.js";
import { sample, usPer, type Row, type Sample, type Settings } from "../harness.js";
import { runAsyncflow, runPromises } from "../runners.js";
import { independent, type Shape } from "../shapes.js";
import { n, type Case } from "./common.js";

const make = (trace?: string): Promise<WorkflowEngine> => WorkflowEngine.create({ handleSignals: false, history: 0, ...(trace === undefined ? {} : { trace }) });

async function timed(s: Settings, shape: Shape, flow: WorkflowEngine, before?: () => void): Promise<Sample> {
  return sample(s, () => {
    before?.();
    return usPer(shape.size, () => runAsyncflow(flow, shape));
  });
}

function row(label: string, ours: Sample, baselineName: string, baseline: Sample, target: string, pass: boolean | null, note?: string): Row {
  return { case: label, metric: "us/task", ours, baselineName, baseline, ratio: ours.median / baseline.median, peers: {}, target, pass, ...(note === undefined ? {} : { note }) };
}

export const eventsCase: Case = async (s) => {
  const shape = independent(n(s, 100_000, 1_000));
  const dir = mkdtempSync(join(tmpdir(), "asyncflow-bench-"));
  const path = join(dir, "run.jsonl");
  const plain = await make();
  const listened = await make();
  const traced = await make(path);
  let heard = 0;
  listened.subscribe(() => heard++);
  try {
    const promises = await sample(s, () => usPer(shape.size, () => runPromises(shape)));
    const none = await timed(s, shape, plain);
    const listener = await timed(s, shape, listened);
    // The file starts empty at each run; a run's last unflushed lines are written by the next (or at shutdown).
    const trace = await timed(s, shape, traced, () => truncateSync(path));
    if (heard === 0) throw new Error("the listener heard nothing");
    return [
      row(`events: ${shape.name}, no listener`, none, "promises", promises, "ratio as `independent`", null),
      row(`events: ${shape.name}, a listener`, listener, "no listener", none, "", null, "5 events per task to a counting listener"),
      row(`events: ${shape.name}, trace file`, trace, "no listener", none, "", null, "5 JSON lines per task, appended"),
    ];
  } finally {
    await Promise.all([plain.shutdown(), listened.shutdown(), traced.shutdown()]);
    rmSync(dir, { recursive: true, force: true });
  }
};
