/** The memory cases: bytes per pending task, what a finished task leaves behind, and a heap that stays flat while workflows stream through. */
import { WorkflowEngine, type TaskFuture } from "../../lib/index.js";
import { gc, settle, summarize, type Row, type Sample } from "../harness.js";
import { runAsyncflow } from "../runners.js";
import { layered } from "../shapes.js";
import { engine, n, type Case } from "./common.js";

function gate<T>(): { promise: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((res) => (open = res));
  return { promise, open };
}

/** Bytes per waiting task against the same count of plain promises: the <= 600 B target. */
function pendingBytesRow(label: string, ours: Sample, baselineName: string, floor: Sample): Row {
  return { case: label, metric: "B/task", ours, baselineName, baseline: floor, ratio: ours.median / floor.median, peers: {}, target: "<= 600 B/task", pass: ours.median <= 600 };
}

export const memoryCases: Record<string, Case> = {
  /** 1,000,000 independent tasks: bytes per pending task, and the heap once their futures are dropped. */
  async memory(s) {
    const count = n(s, 1_000_000, 10_000);
    const flow = await engine();
    try {
      const task = flow.functionTask((_i: number) => 0, { name: "node" });
      const floorBytes: number[] = [];
      const pendingBytes: number[] = [];
      const leftOver: number[] = [];
      let base = 0;
      for (let r = 0; r < (s.quick ? 1 : 5); r++) {
        // the floor: the same number of pending plain promises
        gc();
        const p0 = process.memoryUsage().heapUsed;
        let promises: Promise<number>[] | null = new Array<Promise<number>>(count);
        for (let i = 0; i < count; i++) promises[i] = Promise.resolve(i).then(() => 0);
        floorBytes.push((process.memoryUsage().heapUsed - p0) / count);
        await Promise.all(promises);
        promises = null;
        await settle();
        gc();
        await settle();
        gc();
        base = process.memoryUsage().heapUsed;
        let futures: TaskFuture<number>[] | null = new Array<TaskFuture<number>>(count);
        for (let i = 0; i < count; i++) futures[i] = task(i); // all pending until the next microtask
        pendingBytes.push((process.memoryUsage().heapUsed - base) / count);
        let left = count;
        await new Promise<void>((done) => {
          const cb = (): void => void (--left === 0 && done());
          for (const f of futures!) f.addDoneCallback(cb);
        });
        futures = null;
        await settle();
        gc();
        leftOver.push((process.memoryUsage().heapUsed - base) / 1e6);
      }
      const pending = summarize(pendingBytes);
      const floor = summarize(floorBytes);
      const back = summarize(leftOver);
      return [
        pendingBytesRow(`${count.toLocaleString("en")} tasks pending`, pending, "promises", floor),
        {
          case: "heap after dropping the futures",
          metric: "MB over baseline",
          ours: back,
          baselineName: "baseline heap MB",
          baseline: summarize([base / 1e6]),
          ratio: null,
          peers: {},
          target: "back to baseline (< 5 MB over)",
          pass: back.max < 5,
        },
      ];
    } finally {
      await flow.shutdown();
    }
  },

  /**
   * What a task costs while it waits with one edge (a chain), and what the
   * engine keeps of it after it finished: the history record `graph()` reads.
   */
  async retained(s) {
    const count = n(s, 200_000, 5_000);
    const heap = (): number => process.memoryUsage().heapUsed;
    const perTask: number[] = [];
    const floor: number[] = [];
    const history: number[] = [];
    for (let r = 0; r < (s.quick ? 1 : 5); r++) {
      const open = await WorkflowEngine.create({ handleSignals: false, history: 0 });
      const t = open.functionTask((..._inputs: unknown[]) => 0, { name: "node" });
      const g = gate<number>();
      const hold = open.functionTask(() => g.promise, { name: "hold" });
      gc();
      let base = heap();
      let last: TaskFuture<number> = hold();
      for (let i = 0; i < count; i++) last = t(last);
      perTask.push((heap() - base) / count);
      g.open(0);
      await last;
      await open.shutdown();

      gc();
      base = heap();
      let release!: (v: number) => void;
      let p: Promise<number> = new Promise<number>((res) => (release = res));
      for (let i = 0; i < count; i++) p = p.then((x) => x);
      floor.push((heap() - base) / count);
      release(0);
      await p;

      const kept = await WorkflowEngine.create({ handleSignals: false, history: count });
      const k = kept.functionTask((..._inputs: unknown[]) => 0, { name: "node" });
      const root = k();
      await root;
      await settle();
      gc();
      base = heap();
      let left = count;
      await new Promise<void>((done) => {
        for (let i = 0; i < count; i++) k(root).addDoneCallback(() => void (--left === 0 && done()));
      });
      await settle();
      gc();
      history.push((heap() - base) / count);
      await kept.shutdown();
    }
    const pending = summarize(perTask);
    const promises = summarize(floor);
    return [
      pendingBytesRow(`chain of ${count.toLocaleString("en")} pending (one edge each)`, pending, "pending .then chain", promises),
      {
        case: "kept per finished task (history)",
        metric: "B/task",
        ours: summarize(history),
        baselineName: "-",
        baseline: null,
        ratio: null,
        peers: {},
        target: "bounded by `history`; 0 with history: 0",
        pass: null,
        note: "one dependency each",
      },
    ];
  },

  /** 100 workflows of 10,000 tasks through one engine, each dropped after it finishes: the heap stays flat. */
  async stream(s) {
    const workflows = n(s, 100, 5);
    const size = n(s, 10_000, 1_000);
    const flow = await WorkflowEngine.create({ handleSignals: false }); // default history: 10,000 records retained
    try {
      const heaps: number[] = [];
      for (let w = 0; w < workflows; w++) {
        await runAsyncflow(flow, layered(size / 100, 100, 2, w));
        await settle();
        gc();
        heaps.push(process.memoryUsage().heapUsed / 1e6);
      }
      const settled = heaps.slice(Math.min(10, heaps.length - 1));
      const first = settled[0]!;
      const last = settled[settled.length - 1]!;
      const max = Math.max(...settled);
      if (!s.quick) console.log(`  heap MB after each workflow: ${heaps.map((h) => h.toFixed(1)).join(" ")}`);
      return [
        {
          case: `stream ${workflows} x ${size.toLocaleString("en")} tasks`,
          metric: "MB heap (last)",
          ours: { median: last, min: Math.min(...settled), max, runs: heaps.length },
          baselineName: "after warm-up",
          baseline: { median: first, min: first, max: first, runs: 1 },
          ratio: last / first,
          peers: {},
          target: "flat: last <= 1.1x after warm-up",
          pass: last <= first * 1.1,
        },
      ];
    } finally {
      await flow.shutdown();
    }
  },
};
