/** The named benchmark cases. Each returns rows: our figure, the baseline measured in the same run, the ratio, the target. */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { promisify } from "node:util";
import PQueue from "p-queue";
import { Piscina } from "piscina";
import { LocalBackend, ThreadBackend, WorkflowEngine, type TaskFuture } from "../lib/index.js";
import { alternate, gc, sample, settle, summarize, usPer, usPerOutsideGc, type Row, type Sample, type Settings } from "./harness.js";
import { runAsyncAuto, runAsyncflow, runPGraph, runPQueue, runPromises, tasksPerSecond } from "./runners.js";
import { FUTURE_FIELDS, Held, Tiny, hold, runMinimalEngine } from "./floors.js";
import { queueCase } from "./queue.js";
import { chain, fanOutIn, independent, layered, type Shape } from "./shapes.js";

function gate<T>(): { promise: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((res) => (open = res));
  return { promise, open };
}

/** When the newest engine or backend source was changed: a dist/ older than that is rebuilt before it is timed. */
function newestSource(): number {
  let newest = 0;
  for (const dir of ["lib", "backends"]) {
    const root = new URL(`../${dir}/`, import.meta.url);
    for (const f of readdirSync(root, { recursive: true, encoding: "utf8" })) newest = Math.max(newest, statSync(new URL(f, root)).mtimeMs);
  }
  return newest;
}

const fmtUs = (us: number): string => `${us.toFixed(2)} us`;

const engine = (): Promise<WorkflowEngine> => WorkflowEngine.create({ handleSignals: false, history: 0 });

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

const n = (s: Settings, full: number, quick: number): number => (s.quick ? quick : full);

/** Bytes per waiting task against the same count of plain promises: the <= 600 B target. */
function pendingBytesRow(label: string, ours: Sample, baselineName: string, floor: Sample): Row {
  return { case: label, metric: "B/task", ours, baselineName, baseline: floor, ratio: ours.median / floor.median, peers: {}, target: "<= 600 B/task", pass: ours.median <= 600 };
}

export const cases: Record<string, (s: Settings) => Promise<Row[]>> = {
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
      const outsideSmall: number[] = [];
      const outsideBig: number[] = [];
      const a = await sample({ ...s, warmup: 20 }, () => usPerOutsideGc(small.size, () => runAsyncflow(flow, small), outsideSmall), 21);
      const b = await sample({ ...s, warmup: 1 }, () => usPerOutsideGc(big.size, () => runAsyncflow(flow, big), outsideBig), 5);
      const ownSmall = summarize(outsideSmall.slice(-a.runs));
      const ownBig = summarize(outsideBig.slice(-b.runs));
      // the floor's own growth, for scale: a million live objects cost the GC whoever allocates them
      const pa = await sample({ ...s, warmup: 20 }, () => usPer(small.size, () => runPromises(small)), 21);
      const pb = await sample({ ...s, warmup: 1 }, () => usPer(big.size, () => runPromises(big)), 5);
      // and the floor of any design that returns a future: allocating one object per task and holding it
      const held = async (count: number, make: (i: number) => unknown): Promise<[Sample, Sample]> => [
        await sample({ ...s, warmup: 20 }, () => usPer(small.size, async () => hold(small.size, make)), 21),
        await sample({ ...s, warmup: 1 }, () => usPer(count, async () => hold(count, make)), 5),
      ];
      const [oa, ob] = await held(big.size, (i) => new Held(i));
      const [ta, tb] = await held(big.size, (i) => new Tiny(i));
      const ma = await sample({ ...s, warmup: 20 }, () => usPer(small.size, () => runMinimalEngine(small.size)), 21);
      const mb = await sample({ ...s, warmup: 1 }, () => usPer(big.size, () => runMinimalEngine(big.size)), 5);
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

  async threads(s) {
    const count = n(s, 100_000, 2_000);
    const file = new URL("./fixtures/work.mjs", import.meta.url);
    const threads = availableParallelism();
    const pool = new Piscina({ filename: file.href, maxThreads: threads, minThreads: threads, idleTimeout: 30_000 });
    const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: [new LocalBackend(), new ThreadBackend({ maxThreads: threads, minThreads: threads })] });
    try {
      const noop = flow.functionTask((x: number) => x, { name: "noop", backend: "threads", module: file });
      const raw = await sample(s, async () => {
        const t0 = performance.now();
        const ps = new Array<Promise<unknown>>(count);
        for (let i = 0; i < count; i++) ps[i] = pool.run({ op: "noop", x: i });
        await Promise.all(ps);
        return count / ((performance.now() - t0) / 1000);
      });
      const ours = await sample(s, () => tasksPerSecond(noop, count));
      const ratio = ours.median / raw.median;
      return [{ case: `threads: ${count.toLocaleString("en")} no-op tasks`, metric: "tasks/s", ours, baselineName: "raw Piscina", baseline: raw, ratio, peers: {}, target: ">= 0.8 of raw Piscina", pass: ratio >= 0.8 }];
    } finally {
      await Promise.all([flow.shutdown(), pool.destroy()]);
    }
  },

  async "threads-cpu"(s) {
    const count = n(s, 400, 20);
    const file = new URL("./fixtures/work.mjs", import.meta.url);
    const { spin1ms } = (await import(file.href)) as { spin1ms: (x: number) => number };
    const pool = new Piscina({ filename: file.href, maxThreads: 2, minThreads: 2 });
    const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: new ThreadBackend({ maxThreads: 2, minThreads: 2 }) });
    try {
      const spin = flow.functionTask((x: number) => x, { name: "spin1ms", module: file });
      const serial = await sample(s, async () => {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) spin1ms(i);
        return performance.now() - t0;
      });
      const raw = await sample(s, async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: count }, (_, i) => pool.run({ op: "spin", x: i })));
        return performance.now() - t0;
      });
      const ours = await sample(s, async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: count }, (_, i) => spin(i)));
        return performance.now() - t0;
      });
      const speedup = serial.median / ours.median;
      return [
        {
          case: `threads: ${count} x 1 ms CPU on 2 threads`,
          metric: "ms total",
          ours,
          baselineName: "serial",
          baseline: serial,
          ratio: speedup,
          peers: { "raw Piscina speedup": { ...raw, median: serial.median / raw.median } },
          target: "speedup >= 1.6x",
          pass: speedup >= 1.6,
          note: "ratio = speedup over serial",
        },
      ];
    } finally {
      await Promise.all([flow.shutdown(), pool.destroy()]);
    }
  },

  async exec(s) {
    const count = n(s, 200, 20);
    const cores = availableParallelism();
    const run = promisify(execFile);
    const flow = await engine();
    try {
      const tru = flow.executableTask(() => ["/bin/true"], { name: "true" });
      const [raw, ours] = await alternate(
        s,
        async () => {
          const q = new PQueue({ concurrency: cores });
          const t0 = performance.now();
          await Promise.all(Array.from({ length: count }, () => q.add(() => run("/bin/true"))));
          return count / ((performance.now() - t0) / 1000);
        },
        async () => {
          const t0 = performance.now();
          await Promise.all(Array.from({ length: count }, () => tru()));
          return count / ((performance.now() - t0) / 1000);
        },
      );
      const ratio = ours.median / raw.median;
      return [{ case: `exec: ${count} x /bin/true`, metric: "spawns/s", ours, baselineName: `raw execFile (${cores} at a time)`, baseline: raw, ratio, peers: {}, target: ">= 0.8 of raw execFile", pass: ratio >= 0.8 }];
    } finally {
      await flow.shutdown();
    }
  },

  /** `import "asyncflow"` in a fresh process, from the built package: time, and which packages it loads. */
  async import(s) {
    const entry = new URL("../dist/lib/index.js", import.meta.url).pathname;
    if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource()) execFileSync("npm", ["run", "build"], { stdio: "ignore" });
    // Timed without NODE_DEBUG (its log line per module costs ~10 ms here); a separate run with it lists the packages loaded.
    const once = (what: string, debug = false): { ms: number; stderr: string } => {
      const r = spawnSync(
        process.execPath,
        ["--input-type=module", "-e", `const t = performance.now(); await import(${JSON.stringify(what)}); console.log(performance.now() - t);`],
        { encoding: "utf8", env: debug ? { ...process.env, NODE_DEBUG: "esm" } : process.env },
      );
      if (r.status !== 0) throw new Error(`import failed (run npm run build first): ${r.stderr}`);
      return { ms: Number(r.stdout.trim().split("\n").pop()), stderr: r.stderr };
    };
    const runs = Array.from({ length: s.quick ? 2 : 7 }, () => once(entry));
    const baseRuns = Array.from({ length: s.quick ? 2 : 7 }, () => once("node:path"));
    const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ms = med(runs.map((r) => r.ms));
    const base = med(baseRuns.map((r) => r.ms));
    const loaded = [...new Set([...once(entry, true).stderr.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1]!))].sort().join(", ");
    const heavy = /piscina|bullmq/.test(loaded);
    return [{ case: 'import "asyncflow"', metric: "ms", ours: summarize(runs.map((r) => r.ms)), baselineName: "import node:path", baseline: summarize(baseRuns.map((r) => r.ms)), ratio: ms / base, peers: {}, target: "<= 50 ms, no piscina/bullmq", pass: ms <= 50 && !heavy, note: `packages loaded: ${loaded || "none"}` }];
  },

  queue: queueCase,
};
