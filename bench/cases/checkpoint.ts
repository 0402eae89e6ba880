/**
 * The checkpoint's price. Per task, on the in-process path: the same
 * independent tasks with `checkpoint` on and off, in turns in the same run,
 * beside one raw write + fsync of a record (what a store without group commit
 * would pay per task). And a rerun of a finished 100,000-task checkpoint: the
 * time until the root's result, beside computing the same graph afresh.
 */
import { mkdtempSync, openSync, closeSync, fdatasyncSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowEngine, type TaskFuture } from "../../lib/index.js";
import { alternate, sample, type Row, type Settings } from "../harness.js";
import { n, type Case } from "./common.js";

const dir = (): string => mkdtempSync(join(tmpdir(), "asyncflow-bench-ckpt-"));

/** `size` leaves into one root, as the README teaches (a fan-in of futures). */
function graph(flow: WorkflowEngine, size: number): TaskFuture<number> {
  const leaf = flow.functionTask(function leaf(i: number) {
    return i * 2;
  });
  const total = flow.functionTask(function total(xs: number[]) {
    let t = 0;
    for (const x of xs) t += x;
    return t;
  });
  return total(Array.from({ length: size }, (_, i) => leaf(i)));
}

/** Microseconds per task of one run of the graph, with a fresh checkpoint file or none. */
async function perTask(size: number, checkpoint: boolean): Promise<number> {
  const d = checkpoint ? dir() : null;
  const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, checkpoint: d === null ? false : join(d, "run.ckpt") });
  try {
    const t0 = performance.now();
    await graph(flow, size);
    return ((performance.now() - t0) * 1000) / (size + 1);
  } finally {
    await flow.shutdown();
    if (d !== null) rmSync(d, { recursive: true });
  }
}

/** One record written and made durable on its own: microseconds. */
function oneFsync(): number {
  const d = dir();
  const fd = openSync(join(d, "f"), "w");
  const t0 = performance.now();
  const k = 20;
  for (let i = 0; i < k; i++) {
    writeSync(fd, `{"k":"leaf@x#${i}","v":${i}}\n`);
    fdatasyncSync(fd);
  }
  const us = ((performance.now() - t0) * 1000) / k;
  closeSync(fd);
  rmSync(d, { recursive: true });
  return us;
}

async function onOff(s: Settings): Promise<Row> {
  const size = n(s, 10_000, 500);
  const [on, off] = await alternate(s, () => perTask(size, true), () => perTask(size, false));
  const fsync = await sample(s, async () => oneFsync());
  const extra = on.median - off.median;
  return {
    case: `checkpoint on vs off, ${size.toLocaleString("en-US")} tasks in-process`,
    metric: "us/task",
    ours: on,
    baselineName: "checkpoint off",
    baseline: off,
    ratio: on.median / off.median,
    peers: { "one write+fsync per task": fsync },
    target: "extra cost per task < 1/10 of one fsync (group commit)",
    pass: extra < fsync.median / 10,
    note: `extra ${extra.toFixed(2)} us/task`,
  };
}

async function rerun(s: Settings): Promise<Row> {
  const size = n(s, 100_000, 2_000);
  const d = dir();
  const path = join(d, "run.ckpt");
  try {
    const once = async (checkpoint: string | false): Promise<number> => {
      const t0 = performance.now();
      const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, checkpoint });
      try {
        await graph(flow, size);
        return performance.now() - t0;
      } finally {
        await flow.shutdown();
      }
    };
    await once(path); // the finished checkpoint
    const [resumed, fresh] = await alternate(s, () => once(path), () => once(false));
    return {
      case: `rerun of a finished ${size.toLocaleString("en-US")}-task checkpoint: to the root's result`,
      metric: "ms",
      ours: resumed,
      baselineName: "computing it afresh",
      baseline: fresh,
      ratio: resumed.median / fresh.median,
      peers: {},
      target: "reported (reading the file + hashing every input)",
      pass: null,
    };
  } finally {
    rmSync(d, { recursive: true });
  }
}

export const checkpointCases: Record<string, Case> = {
  async checkpoint(s) {
    return [await onOff(s), await rerun(s)];
  },
};
