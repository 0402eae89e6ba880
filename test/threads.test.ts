import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  InvalidTaskError,
  LocalBackend,
  TaskCancelledError,
  TaskTimeoutError,
  ThreadBackend,
  WorkerCrashError,
  type FlowEvent,
  type TaskFuture,
  type WorkflowEngine,
} from "../lib/index.js";
import { threadStatsOf } from "../backends/threads/index.js";
import { backendConformance } from "./conformance.js";
import * as sharedTasks from "./fixtures/tasks.js";
import * as threadTasks from "./fixtures/thread-tasks.js";
import { captureStderr, engine, expectExitsByItself, recorded, until } from "./helpers.js";

const tasksModule = new URL("./fixtures/thread-tasks.ts", import.meta.url);
const sharedModule = new URL("./fixtures/tasks.ts", import.meta.url);

/** Shared cells for the `hold` fixture: [0] is the gate, [1..] the thread id each held run wrote when its body started. */
const gateCells = (): Int32Array => new Int32Array(new SharedArrayBuffer(16 * Int32Array.BYTES_PER_ELEMENT));
/** Opens the gate: every `hold` body waiting on these cells returns. */
function release(cells: Int32Array): void {
  Atomics.store(cells, 0, 1);
  Atomics.notify(cells, 0);
}
/** Cells whose gate is already open. */
function opened(): Int32Array {
  const cells = gateCells();
  release(cells);
  return cells;
}

backendConformance("threads (TypeScript module tasks)", {
  make: () => new ThreadBackend({ maxThreads: 2 }),
  runsBodies: true,
  taskOptions: { module: sharedModule },
});

async function threaded(options: ConstructorParameters<typeof ThreadBackend>[0] = {}): Promise<{ flow: WorkflowEngine; threads: ThreadBackend }> {
  const threads = new ThreadBackend({ maxThreads: 2, ...options });
  const flow = await engine({ backend: [new LocalBackend(), threads] });
  return { flow, threads };
}

/** Like `threaded`, with the log's warnings kept in `warned` (the rest of the log dropped). */
async function warning(options: ConstructorParameters<typeof ThreadBackend>[0]): Promise<{ flow: WorkflowEngine; warned: string[] }> {
  const warned: string[] = [];
  const quiet = (): void => undefined;
  const logger = { debug: quiet, info: quiet, error: quiet, warn: (_where: object, m: string) => void warned.push(m) };
  const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend(options)], logger });
  return { flow, warned };
}

/** A thread task that returns 1 and leaves behind a timer that throws "left behind" 50 ms later. */
function leavesBehind(flow: WorkflowEngine): () => TaskFuture<number> {
  return flow.functionTask(function leaves(): number {
    setTimeout(() => {
      throw new Error("left behind");
    }, 50);
    return 1;
  }, { backend: "threads" });
}

describe("ThreadBackend", () => {
  it("a fan-in of spread futures completes on a thread whose stack holds the arguments once, not twice", async () => {
    // Threads get a 4 MB stack, where 100,000 arguments spread twice still fit (the conformance suite's
    // fan-in passes there either way). With 1 MB, 80,000 arguments fit once (90,000 do) but not twice (60,000 do not).
    const { flow } = await threaded({ resourceLimits: { stackSizeMb: 1 } });
    const source = flow.block((i: number) => i, { name: "source" });
    const sum = flow.functionTask(sharedTasks.sum, { backend: "threads", module: sharedModule });
    const n = 80_000;
    expect(await sum(...Array.from({ length: n }, (_, i) => source(i)))).toBe((n * (n - 1)) / 2);
  }, 120_000);

  it("runs self-contained functions on threads and the rest on the loop (the README example)", async () => {
    const { flow, threads } = await threaded();
    const fib = flow.functionTask(function fib(n: number): number {
      return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }, { backend: "threads" });
    const total = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: "total" });
    expect(threads.threadCount).toBe(0);
    expect(await total([fib(20), fib(21), fib(22)])).toBe(6765 + 10946 + 17711);
    expect(threads.threadCount).toBeGreaterThan(0);
  });

  it("the pool starts on the first thread task, not before", async () => {
    const { flow, threads } = await threaded();
    const local = flow.functionTask((x: number) => x, { name: "local" });
    expect(await local(1)).toBe(1);
    expect(threads.threadCount).toBe(0);
  });

  it("starting the pool does not delay local tasks", async () => {
    const { flow } = await threaded();
    const order: string[] = [];
    const onThread = flow.functionTask(function onThread(): number {
      return 1;
    }, { backend: "threads" });
    const local = flow.functionTask(async () => 2, { name: "local" });
    const t = onThread();
    const l = local();
    t.addDoneCallback(() => order.push("thread"));
    l.addDoneCallback(() => order.push("local"));
    await Promise.all([t, l]);
    expect(order).toEqual(["local", "thread"]);
  });

  it("runs a module export (a .ts module) with the task context", async () => {
    const { flow } = await threaded();
    const norm = flow.functionTask((p: { x: number; y: number }) => p.x, { name: "norm", backend: "threads", module: tasksModule });
    const whoAmI = flow.functionTask(() => "", { name: "whoAmI", backend: "threads", module: tasksModule.pathname });
    expect(await norm({ x: 3, y: 4 })).toBe(5);
    expect(await whoAmI()).toBe("task.000002 whoAmI 1");
  });

  it("shipped functions see taskContext() as a worker global", async () => {
    const { flow } = await threaded();
    const ctx = flow.functionTask(function ctx(): string {
      const c = taskContext();
      return `${c.uid} ${c.name} ${c.attempt} ${c.signal.aborted}`;
    }, { backend: "threads" });
    expect(await ctx()).toBe("task.000001 ctx 1 false");
    // logged or serialized, it is its plain fields, as on the other backends
    const shown = flow.functionTask(sharedTasks.viewContext, { backend: "threads", module: sharedModule });
    const plain = '{"uid":"task.000002","name":"viewContext","attempt":1}';
    expect(await shown()).toEqual([plain, `TaskContext ${plain}`]);
    // reached without naming it: `this` is the global object in a sloppy-mode function
    const viaThis = flow.functionTask(function viaThis(this: { taskContext: typeof taskContext }): string {
      return this.taskContext().name;
    }, { backend: "threads" });
    expect(await viaThis()).toBe("viaThis");
  });

  it("errors keep name, message, stack and cause", async () => {
    const { flow } = await threaded();
    const bad = flow.functionTask(function bad(x: number): number {
      const err = new RangeError(`bad ${x}`, { cause: new TypeError("inner") });
      (err as RangeError & { code: string }).code = "E_BAD";
      throw err;
    }, { backend: "threads" });
    const err = (await bad(7).catch((e: unknown) => e)) as RangeError & { code: string };
    expect(err).toBeInstanceOf(RangeError);
    expect(err.name).toBe("RangeError");
    expect(err.message).toBe("bad 7");
    expect(err.stack).toMatch(/at bad/);
    expect((err.cause as Error).name).toBe("TypeError");
    expect((err.cause as Error).message).toBe("inner");
    expect(err.code).toBe("E_BAD");
    class MyError extends Error {
      override name = "MyError";
    }
    const custom = flow.functionTask(async function custom(): Promise<number> {
      class MyError extends Error {
        override name = "MyError";
      }
      throw new MyError("mine");
    }, { backend: "threads" });
    const e2 = (await custom().catch((e: unknown) => e)) as Error;
    expect(e2.name).toBe(new MyError("x").name);
    expect(e2.message).toBe("mine");
  });

  it("a non-cloneable argument fails the task naming it and its index, before the worker runs", async () => {
    const { flow } = await threaded();
    const take = flow.functionTask(function take(_a: number, _b: unknown): number {
      return 1;
    }, { backend: "threads" });
    const err = await take(1, () => 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTaskError);
    expect((err as Error).message).toMatch(/Task "take": task\.000001: argument args\[1\] cannot be sent to a worker thread: it is or holds a function/);
    class Point {
      constructor(readonly x: number) {}
      len(): number {
        return this.x;
      }
    }
    await expect(take(1, { nested: [new Point(1)] })).rejects.toThrow(/args\[1\] .* an instance of class Point at \.nested\[0\]/);
    // a subclass of a built-in loses its methods as any class; a Proxy does not clone at all (it is no worker's death)
    class Registry extends Map<string, number> {
      total(): number {
        return [...this.values()].reduce((a, b) => a + b, 0);
      }
    }
    await expect(take(1, new Registry())).rejects.toThrow(/args\[1\] .* an instance of class Registry/);
    await expect(take(1, { p: new Proxy({ a: 1 }, {}) })).rejects.toThrow(/Task "take": task\.\d+: argument args\[1\] cannot be sent to a worker thread: it is or holds a Proxy at \.p/);
    // built-ins that clone are fine
    expect(await take(1, { d: new Date(), m: new Map([[1, 2]]), b: new Uint8Array(3) })).toBe(1);
  });

  it("a non-cloneable result fails naming the task", async () => {
    const { flow } = await threaded();
    const giveFn = flow.functionTask(function giveFn(): unknown {
      return { f: () => 1 };
    }, { backend: "threads" });
    await expect(giveFn()).rejects.toThrow(/Task "giveFn": task\.000001 returned a function at \.f, which cannot be sent back/);
    const giveProxy = flow.functionTask(function giveProxy(): unknown {
      return new Proxy({}, {});
    }, { backend: "threads" });
    await expect(giveProxy()).rejects.toThrow(/Task "giveProxy": task\.000002 returned a Proxy, which cannot be sent back/);
  });

  it("refuses a function with a free variable when it is defined, naming the identifier", async () => {
    const { flow } = await threaded();
    const factor = 3;
    expect(() =>
      flow.functionTask(function scale(x: number): number {
        return x * factor;
      }, { backend: "threads" }),
    ).toThrow(InvalidTaskError);
    expect(() =>
      flow.functionTask(function scale(x: number): number {
        return x * factor;
      }, { backend: "threads" }),
    ).toThrow(/Task "scale": the function must be self-contained or given a `module` .* it uses `factor`/);
    // the same function is fine on the local backend
    expect(await flow.functionTask((x: number) => x * factor, { name: "ok" })(2)).toBe(6);
  });

  it("turns a ReferenceError that analysis could not foresee into the same error", async () => {
    const { flow } = await threaded();
    const sneaky = flow.functionTask(function sneaky(): number {
      return (0, eval)("hiddenName") as number;
    }, { backend: "threads" });
    await expect(sneaky()).rejects.toThrow(/Task "sneaky": the function must be self-contained .* it uses `hiddenName`/);
  });

  it("a missing module or export fails with an error naming both", async () => {
    const { flow } = await threaded();
    expect(() => flow.functionTask(() => 1, { name: "ghost", backend: "threads", module: "/no/such/module.js" })).toThrow(
      /Task "ghost": module file:\/\/\/no\/such\/module\.js \(for export `ghost`\) does not exist \(nor does file:\/\/\/no\/such\/module\.ts\)$/,
    );
    const missing = flow.functionTask(() => 1, { name: "nope", backend: "threads", module: tasksModule });
    await expect(missing()).rejects.toThrow(/Task "nope": module .*thread-tasks\.ts has no exported function `nope` \(it exports `batchMember`, `endsThreadWhenAborted`, `hold`, `norm`, `spin`, `startsAborted`, `whoAmI`\)/);
    const notFn = flow.functionTask(() => 1, { name: "notAFunction", backend: "threads", module: tasksModule });
    await expect(notFn()).rejects.toThrow(/has no exported function `notAFunction`/);
    expect(() => flow.functionTask(() => 1, { name: "pkg", backend: "threads", module: "no-such-package-af" })).toThrow(
      /Task "pkg": module "no-such-package-af" \(for export `pkg`\) cannot be resolved: .*no-such-package-af/,
    );
  });

  it("a module named as the .js (.mjs) it compiles to loads its .ts (.mts) source, as the README writes it", async () => {
    const { flow } = await threaded();
    const asJs = new URL("./fixtures/thread-tasks.js", import.meta.url);
    const norm = flow.functionTask((p: { x: number; y: number }) => p.x, { name: "norm", backend: "threads", module: asJs });
    const whoAmI = flow.functionTask(() => "", { name: "whoAmI", backend: "threads", module: asJs.pathname });
    const shout = flow.functionTask((s: string) => s, { name: "shout", backend: "threads", module: new URL("./fixtures/esm-tasks.mjs", import.meta.url) });
    expect(await norm({ x: 3, y: 4 })).toBe(5);
    expect(await whoAmI()).toBe("task.000002 whoAmI 1");
    expect(await shout("hi")).toBe("HI!");
    expect(() => flow.functionTask(() => 1, { name: "gone", backend: "threads", module: new URL("./fixtures/gone.cjs", import.meta.url) })).toThrow(
      /module file:.*\/fixtures\/gone\.cjs \(for export `gone`\) does not exist \(nor does file:.*\/fixtures\/gone\.cts\)$/,
    );
  });

  it("a module may be a package name or a node: builtin, resolved by the worker", async () => {
    const { flow } = await threaded();
    const base = flow.functionTask(basename, { backend: "threads", module: "node:path" });
    expect(await base("/a/b.txt", ".txt")).toBe("b");
  });

  it("cancelling a running thread task aborts it; the pool replaces the worker and later tasks run", async () => {
    const { flow } = await threaded({ maxThreads: 1 });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", backend: "threads", module: tasksModule });
    const cells = gateCells();
    try {
      const long = hold(cells, 1, 0); // blocks its only thread until cells[0] is set, which this test never does before the end
      const queued = hold(opened(), 1, 0);
      await until(() => long.state === "RUNNING" && Atomics.load(cells, 1) !== 0);
      expect(queued.state).toBe("PENDING");
      long.cancel("too slow");
      expect(long.state).toBe("CANCELLED");
      await expect(long).rejects.toBeInstanceOf(TaskCancelledError);
      // the one thread is still blocked unless the cancel terminated it
      await until(() => queued.done(), 10_000);
      expect(queued.state).toBe("DONE");
      expect(await queued).not.toBe(Atomics.load(cells, 1));
    } finally {
      release(cells);
    }
  });

  it("a cancelled body that heeds its signal ends by itself: its thread is kept and serves the next task", async () => {
    const { flow } = await threaded({ maxThreads: 1 });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", backend: "threads", module: tasksModule });
    const wait = flow.functionTask(sharedTasks.untilAbortedWrites, { name: "untilAbortedWrites", backend: "threads", module: sharedModule });
    const first = await hold(opened(), 1, 0);
    const file = join(mkdtempSync(join(tmpdir(), "asyncflow-abort-")), "reason");
    const f = wait(file);
    await until(() => f.state === "RUNNING");
    f.cancel("enough");
    await until(() => existsSync(file), 10_000);
    expect(readFileSync(file, "utf8")).toMatch(/^TaskCancelledError: .*enough/);
    // terminated, the thread would have been replaced by one with another id
    expect(await hold(opened(), 1, 0)).toBe(first);
  });

  it("a batch's members cancelled after the batch was handed over never run their bodies", async () => {
    const { flow } = await threaded({ maxThreads: 1 });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", backend: "threads", module: tasksModule });
    const starts = flow.functionTask((_file: string, _ms: number) => 0, { name: "startsAborted", backend: "threads", module: tasksModule });
    // measured small (returning at once), so that runs of it queued together travel as a batch
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 300 }, () => starts("", 0)));
    const cells = gateCells();
    const dir = mkdtempSync(join(tmpdir(), "asyncflow-batch-"));
    const files = Array.from({ length: 6 }, (_, i) => join(dir, String(i)));
    try {
      const blocker = hold(cells, 1, 0);
      await until(() => blocker.state === "RUNNING");
      // six queued behind the blocker on the one thread: the first three go as one batch when it frees
      const runs = files.map((file) => starts(file, 60_000));
      for (const f of runs) void f.catch(() => undefined);
      release(cells);
      await until(() => existsSync(files[0]!), 10_000);
      for (const f of runs) f.cancel("stop");
      // the one thread is free once the batch has ended: its running member aborted, the later ones skipped
      expect(await starts("", 0)).toBe(0);
      expect(files.map((file) => existsSync(file) && readFileSync(file, "utf8"))).toEqual(["abortedAtStart=false", false, false, false, false, false]);
    } finally {
      release(cells);
    }
  });

  it("a run cancelled while its new thread is still starting gets the abort once its body runs", async () => {
    const { flow, threads } = await threaded({ maxThreads: 1 });
    const wait = flow.functionTask(sharedTasks.untilAbortedWrites, { name: "untilAbortedWrites", backend: "threads", module: sharedModule });
    const file = join(mkdtempSync(join(tmpdir(), "asyncflow-abort-")), "reason");
    const f = wait(file);
    // handed to the pool, whose first thread is still loading (its channel not yet open): a broadcast now would be lost
    await until(() => threadStatsOf(threads).poolTasks === 1);
    expect(f.state).toBe("PENDING");
    f.cancel("before it began");
    await until(() => existsSync(file), 10_000);
    expect(readFileSync(file, "utf8")).toMatch(/^TaskCancelledError: .*before it began/);
  });

  it("a retry handed over while its last attempt's thread still ends is Started by its own thread, not by the last attempt's end", async () => {
    const { flow, threads } = await threaded({ maxThreads: 2, minThreads: 1 });
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const task = flow.functionTask(threadTasks.endsThreadWhenAborted, { name: "endsThreadWhenAborted", backend: "threads", module: tasksModule, timeout: 2_000, retries: 1, retryDelay: 0 });
    const cells = gateCells();
    const f = task(cells);
    // attempt 1 times out, its body ignoring the abort until the gate opens; attempt 2 is with the pool (which boots a
    // second thread for it) before attempt 1's thread dies, and that end must not pass for attempt 2's start
    await until(() => threadStatsOf(threads).poolTasks === 2);
    release(cells);
    const thread = await f;
    const started = events.filter((e) => e.type === "TaskStarted" && e.taskId === f.uid);
    expect(started.map((e) => e.type === "TaskStarted" && [e.attempt, e.where])).toEqual([
      [1, expect.stringMatching(/^thread \d+$/)],
      [2, `thread ${thread}`],
    ]);
  });

  it("a cancel does not keep the process alive: a script that cancels a thread task exits by itself, without shutdown()", () => {
    expectExitsByItself(new URL("./fixtures/thread-cancel-exit.ts", import.meta.url), "cancelled\n");
    // shutdown() cancels the body running: its abort, due after the backend has closed, is dropped, not thrown
    expectExitsByItself(new URL("./fixtures/thread-cancel-exit.ts", import.meta.url), "cancelled\ncancelled\nshut down\n", 60_000, ["shutdown"]);
  });

  it("a timed-out body sees its signal abort with the TaskTimeoutError", async () => {
    const { flow } = await threaded({ maxThreads: 1 });
    const wait = flow.functionTask(sharedTasks.untilAbortedWrites, { name: "untilAbortedWrites", backend: "threads", module: sharedModule, timeout: 200 });
    const file = join(mkdtempSync(join(tmpdir(), "asyncflow-abort-")), "reason");
    await expect(wait(file)).rejects.toBeInstanceOf(TaskTimeoutError);
    await until(() => existsSync(file), 10_000);
    expect(readFileSync(file, "utf8")).toMatch(/^TaskTimeoutError: /);
  });

  it("a crashing worker (process.exit) fails only its task; later tasks run", async () => {
    const { flow } = await threaded({ maxThreads: 1 });
    const exit = flow.functionTask(function exit(): number {
      process.exit(3);
    }, { backend: "threads" });
    const ok = flow.functionTask(function ok(x: number): number {
      return x + 1;
    }, { backend: "threads" });
    const err = await exit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashError);
    expect((err as Error).message).toMatch(/task\.000001 \(exit\): its worker died: .*code: 3/);
    expect(await ok(1)).toBe(2);
  });

  it("a thread that fails with no task on it (too little heap to start) fails its pool's runs with that failure; later runs get a new pool; the process lives", async () => {
    // Piscina says such a failure as an 'error' on the pool, which ended the process, and stops replacing threads that
    // fail as they start: runs queued in the pool then waited forever.
    // 6 MB started a thread now and then under load; 2 ended Node 24 (fatal OOM starting the isolate)
    const { flow, warned } = await warning({ maxThreads: 2, minThreads: 2, resourceLimits: { maxOldGenerationSizeMb: 4 } });
    const ok = flow.functionTask(function ok(x: number): number {
      return x + 1;
    }, { backend: "threads" });
    for (const x of [1, 2]) {
      const err = await ok(x).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerCrashError);
      expect((err as Error).message).toMatch(/its worker died: .*memory/);
    }
    await until(() => warned.some((m) => /a worker thread failed with no task on it, and its pool has no thread left: .*memory.*; the pool is replaced/.test(m)), 10_000);
  }, 60_000);

  it("an error a body left behind after it returned (a timer it did not await) is said when it happens, not blamed on the thread's next task", async () => {
    // Idle threads used to be frozen in Atomics.wait: the timer fired inside the next task run there, which failed with it.
    const { flow, warned } = await warning({ maxThreads: 1 });
    const leaves = leavesBehind(flow);
    const innocent = flow.functionTask(async function innocent(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return "fine";
    }, { backend: "threads" });
    expect(await leaves()).toBe(1);
    await until(() => warned.some((m) => /a worker thread failed with no task on it: Error: left behind \(an error a body left behind/.test(m)), 10_000);
    expect(await innocent()).toBe("fine");
  }, 30_000);

  it("a thread that fails with no task on it in a pool with threads left: a warning, and the task running on another thread ends as its body does", async () => {
    const { flow, warned } = await warning({ maxThreads: 2, minThreads: 2 });
    // Holds its thread until the gate opens, so that the other thread is the one the timer breaks.
    const hold = flow.functionTask(threadTasks.hold, { backend: "threads", module: tasksModule });
    const leaves = leavesBehind(flow);
    const cells = gateCells();
    const held = hold(cells, 1, 0);
    await until(() => Atomics.load(cells, 1) !== 0, 10_000);
    const thread = Atomics.load(cells, 1);
    expect(await leaves()).toBe(1);
    await until(() => warned.some((m) => /a worker thread failed with no task on it: Error: left behind/.test(m)), 10_000);
    expect(warned.join("\n")).not.toMatch(/the pool is replaced/);
    release(cells);
    expect(await held).toBe(thread);
    expect(await leaves()).toBe(1);
  }, 30_000);

  it("a shutdown with failing thread tasks in flight warns of no failed thread (their answers, arriving after the pool's end, belong to runs the shutdown settled)", async () => {
    const { flow, warned } = await warning({ maxThreads: 2 });
    const boom = flow.functionTask((_i: number) => 0, { name: "boom", backend: "threads", module: tasksModule }); // no such export
    const futures = Array.from({ length: 600 }, (_, i) => boom(i));
    const settled = Promise.allSettled(futures); // looked at: their failures are the test's
    await Promise.race(futures).catch(() => undefined);
    await flow.shutdown(); // the pool busy with the rest as the shutdown ends it
    await settled;
    expect(warned).toEqual([]);
  });

  describe("a batch whose member breaks its thread", () => {
    type Member = TaskFuture<[number, number]>;
    /** A thread backend whose member task is measured small (so runs go in batches), and 600 runs of it in which run 300 does `mode`. */
    async function batchWith(mode: threadTasks.BatchBreak, maxThreads = 2): Promise<{ futures: Member[]; events: FlowEvent[] }> {
      const { flow, threads } = await threaded({ maxThreads });
      const f = flow.functionTask(threadTasks.batchMember, { backend: "threads", module: tasksModule });
      for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 50 }, (_, i) => f(i, -1, mode)));
      // measured small, so batched: what the tests are about (else a slow machine fails them for another reason)
      const { runs, poolTasks } = threadStatsOf(threads);
      expect(poolTasks).toBeLessThan(runs);
      const events: FlowEvent[] = [];
      flow.subscribe((e) => events.push(e));
      return { futures: Array.from({ length: 600 }, (_, i) => f(i, 300, mode)), events };
    }
    /** Every run but 300 ends with its own result; those that ran in the broken batch before 300 ran again, as delivery 2. */
    function othersRan(futures: Member[], events: FlowEvent[]): Member[] {
      const others = futures.filter((_, i) => i !== 300);
      expect(others.map((f) => f.state === "DONE" && f.result()[0])).toEqual(others.map((_, i) => (i < 300 ? i : i + 1) * 2));
      const again = others.filter((f) => f.result()[1] === 2);
      expect(others.every((f) => f.result()[1] === 1 || again.includes(f))).toBe(true);
      expect(again.length).toBeLessThan(64);
      const redelivered = events.filter((e) => e.type === "TaskRedelivered");
      expect(redelivered.map((e) => e.type === "TaskRedelivered" && `${e.taskId} ${e.delivery}`).sort()).toEqual(again.map((f) => `${f.uid} 2`).sort());
      return again;
    }

    it("one that exits: it fails; the members before it, whose results went with the thread, run again (delivery 2); the members after it run", async () => {
      // One thread: runs go in batches of 64 after the first, so run 300 is not first in its batch and some ran before it.
      const { futures, events } = await batchWith("exit", 1);
      const log = captureStderr();
      await Promise.allSettled(futures);
      expect(futures[300]!.exception()).toBeInstanceOf(WorkerCrashError);
      expect((futures[300]!.exception() as Error).message).toMatch(/its worker died: .*code: 7/);
      const again = othersRan(futures, events);
      expect(again.length).toBeGreaterThan(0);
      expect(log.text()).toContain(`a thread died in ${futures[300]!.uid} (batchMember); the ${again.length} run(s) its batch ran before it run again (delivery 2)`);
    }, 60_000);

    it.each([
      ["spin", "blocked in synchronous code"],
      ["hang", "stuck on a promise that never settles"],
    ] as const)("one that %s (%s): a cancel terminates its thread after the grace; the members before it run again, those after it run", async (mode: "spin" | "hang", _what: string) => {
      const { futures, events } = await batchWith(mode);
      await until(() => futures.filter((f, i) => i !== 300 && !f.done()).length <= 63, 30_000);
      futures[300]!.cancel("unstick");
      await Promise.allSettled(futures);
      expect(futures[300]!.state).toBe("CANCELLED");
      othersRan(futures, events); // none ran again when run 300 came first in its batch (two threads: either may be)
    }, 60_000);

    it("one that leaves behind an error that breaks its thread after it ended runs again alone, once, not in batch after batch", async () => {
      // The error is blamed on the member running when it fires; run 300 looks innocent and runs again. In a batch, it
      // would break that one too, each time blaming another member.
      const { futures } = await batchWith("poison", 1);
      await Promise.allSettled(futures);
      expect(futures[300]!.state === "DONE" && futures[300]!.result()).toEqual([600, 2]);
      const failed = futures.filter((f) => f.state === "FAILED");
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.length).toBeLessThanOrEqual(2); // one in its batch, one after it ran alone (none if its thread was idle then)
      for (const f of failed) expect((f.exception() as Error).message).toContain("poison left by 300");
    }, 60_000);

    it("one cancelled before its thread reaches it, which then blocks: its thread is terminated all the same", async () => {
      // Its thread, blocked in the member before it, reads no abort: the member starts, and the grace looks again.
      const { futures, events } = await batchWith("late", 1);
      await until(() => futures[300]!.state === "RUNNING", 30_000);
      futures[300]!.cancel("not needed");
      await until(() => futures.every((f) => f.done()), 20_000);
      expect(futures[300]!.state).toBe("CANCELLED");
      expect(othersRan(futures, events).length).toBeGreaterThan(0);
    }, 60_000);
  });

  it("a thread that runs out of memory fails only its task", async () => {
    const { flow } = await threaded({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    const hog = flow.functionTask(function hog(): number {
      const keep: number[][] = [];
      for (;;) keep.push(new Array<number>(100_000).fill(1));
    }, { backend: "threads" });
    const ok = flow.functionTask(function ok(): string {
      return "fine";
    }, { backend: "threads" });
    const err = await hog().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashError);
    expect((err as Error).message).toMatch(/memory/i);
    expect(await ok()).toBe("fine");
  });

  it("transfer: true moves ArrayBuffers instead of copying them", async () => {
    const { flow } = await threaded();
    const fill = flow.functionTask(function fill(a: Float64Array): Float64Array {
      a.fill(7);
      return a;
    }, { backend: "threads", transfer: true });
    const input = new Float64Array(1_000);
    const out = await fill(input);
    expect(input.byteLength).toBe(0); // moved away
    expect(out).toBeInstanceOf(Float64Array);
    expect(out.length).toBe(1_000);
    expect(out[999]).toBe(7);
    const copy = flow.functionTask(function copy(a: Float64Array): number {
      return a.length;
    }, { backend: "threads" });
    const kept = new Float64Array(10);
    expect(await copy(kept)).toBe(10);
    expect(kept.byteLength).toBe(80); // copied, still ours
  });

  it("transfer: a detached buffer (moved away by another transfer task) fails its task naming args[i], not retried; transfer with retries is refused", async () => {
    const { flow } = await threaded();
    expect(() => flow.functionTask((a: Uint8Array) => a.length, { backend: "threads", transfer: true, retries: 1 })).toThrow(/option `transfer` moves the arguments' buffers to the first attempt's thread/);
    // elsewhere it has no effect, and is no reason to refuse retries
    expect(() => flow.functionTask((a: Uint8Array) => a.length, { transfer: true, retries: 1 })).not.toThrow();
    const make = flow.functionTask(function make(): Uint8Array {
      return new Uint8Array(16).fill(1);
    });
    const sum = flow.functionTask(function sum(a: Uint8Array): number {
      return a.reduce((x, y) => x + y, 0);
    }, { backend: "threads", transfer: true });
    const count = flow.functionTask(function count(a: Uint8Array): number {
      return a.length;
    }, { backend: "threads", retries: 2, retryDelay: 1 });
    const retries: FlowEvent[] = [];
    flow.subscribe((e) => void (e.type === "TaskRetry" && retries.push(e)));
    const m = make();
    expect(await sum(m)).toBe(16);
    // the first consumer moved the shared result's buffer to its thread: the next one is told so, once, by name
    const err = await count(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTaskError);
    expect((err as Error).message).toMatch(/argument args\[0\] cannot be sent to a worker thread: it is or holds a view of a detached ArrayBuffer/);
    expect(retries).toEqual([]);
  });

  it("executable tasks routed to threads run as child processes; blocks run in the engine", async () => {
    const threads = new ThreadBackend({ maxThreads: 1 });
    const flow = await engine({ backend: threads });
    const echo = flow.executableTask((s: string) => ["echo", s], { name: "echo" });
    const upper = flow.functionTask(function upper(s: string): string {
      return s.trim().toUpperCase();
    });
    const blk = flow.block(async (s: string) => await upper(echo(s)), { name: "blk" });
    expect(await blk("hi")).toBe("HI");
  });

  it("shipped source survives esbuild's __name wrappers, and .ts modules load, under tsx", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", new URL("./fixtures/threads-tsx.ts", import.meta.url).pathname], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("Acc:named:17 5\n");
  });

  it("batches floods of small tasks; each keeps its own result or error, in order", async () => {
    const { flow, threads } = await threaded();
    const check = flow.functionTask(function check(i: number): number {
      if (i % 250 === 7) throw new RangeError(`bad ${i}`);
      return i * 2;
    }, { backend: "threads" });
    const futures = Array.from({ length: 3_000 }, (_, i) => check(i));
    const settled = await Promise.allSettled(futures);
    settled.forEach((s, i) => {
      if (i % 250 === 7) expect(s.status === "rejected" && (s.reason as Error).message).toBe(`bad ${i}`);
      else expect(s.status === "fulfilled" && s.value).toBe(i * 2);
    });
    const { runs, poolTasks } = threadStatsOf(threads);
    expect(runs).toBe(3_000);
    expect(poolTasks).toBeLessThan(runs / 4);
  });

  it("does not batch runs with a timeout: each is timed from its own start, not from its batch's", async () => {
    const { flow, threads } = await threaded({ maxThreads: 1 });
    const work = flow.functionTask(threadTasks.spin, { name: "spin", backend: "threads", module: tasksModule, timeout: 1_000 });
    // measured small first (so that, but for its timeout, what is queued behind one would travel with it)
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 20 }, () => work(0)));
    const before = threadStatsOf(threads).poolTasks;
    const outcomes = await Promise.allSettled([work(0), ...Array.from({ length: 8 }, () => work(150))]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(9).fill("fulfilled"));
    expect(threadStatsOf(threads).poolTasks - before).toBe(9);
  });

  // Speed (2 threads against serial) is bench's `threads-cpu` case; here, what makes it possible.
  it("does not batch long tasks: they spread over the threads and cancel one by one", async () => {
    const { flow } = await threaded({ maxThreads: 2 });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", backend: "threads", module: tasksModule });
    const warm = opened();
    await Promise.all([hold(warm, 1, 5), hold(warm, 2, 5), hold(warm, 3, 5)]); // measured: >= 5 ms each, so long
    const cells = gateCells();
    try {
      // ten runs, two threads: enough waiting behind the first two that batching, were it on, would group them
      const runs = Array.from({ length: 10 }, (_, i) => hold(cells, i + 1, 0));
      const states = (): string[] => runs.map((f) => f.state);
      await until(() => Atomics.load(cells, 1) !== 0 && Atomics.load(cells, 2) !== 0);
      // two bodies at once, on two threads; the others wait in the backend
      expect(Atomics.load(cells, 1)).not.toBe(0);
      expect(Atomics.load(cells, 1)).not.toBe(Atomics.load(cells, 2));
      expect(states()).toEqual(["RUNNING", "RUNNING", ...Array<string>(8).fill("PENDING")]);
      // cancelling one frees its thread alone: the next run, and only it, starts there while the second still holds the other
      runs[0]!.cancel();
      await until(() => Atomics.load(cells, 3) !== 0, 10_000);
      expect(Atomics.load(cells, 3)).not.toBe(0);
      expect(states()).toEqual(["CANCELLED", "RUNNING", "RUNNING", ...Array<string>(7).fill("PENDING")]);
      release(cells);
      const threadIds = await Promise.all(runs.slice(1));
      expect(threadIds).toEqual(runs.slice(1).map((_, i) => Atomics.load(cells, i + 2)));
    } finally {
      release(cells);
    }
  });

  it("a queued thread run that is cancelled never starts, and the runs behind it do", async () => {
    const threads = new ThreadBackend({ maxThreads: 1 });
    const { seen: reports } = recorded(threads);
    const flow = await engine({ backend: threads });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", module: tasksModule });
    const cells = gateCells();
    try {
      const first = hold(cells, 1, 0);
      const queued = hold(cells, 2, 0);
      const behind = hold(cells, 3, 0);
      await until(() => Atomics.load(cells, 1) !== 0);
      expect([first.state, queued.state, behind.state]).toEqual(["RUNNING", "PENDING", "PENDING"]);
      expect(queued.cancel()).toBe(true);
      release(cells);
      await Promise.all([first, behind]);
      // one thread, FIFO: had the cancelled run been started, it would have run before `behind`
      expect(Atomics.load(cells, 3)).not.toBe(0);
      expect(Atomics.load(cells, 2)).toBe(0);
      expect(queued.state).toBe("CANCELLED");
      // nor was it handed to the pool: the backend never said it started
      expect(reports).toEqual(["task.000001:RUNNING", "task.000001:DONE", "task.000003:RUNNING", "task.000003:DONE"]);
    } finally {
      release(cells);
    }
  });

  it("ships methods written in shorthand; refuses bound and native functions", async () => {
    const { flow } = await threaded();
    const obj = {
      double(x: number): number {
        return 2 * x;
      },
    };
    expect(await flow.functionTask(obj.double, { backend: "threads" })(21)).toBe(42);
    const bound = function add(this: { k: number }, x: number): number {
      return x + this.k;
    }.bind({ k: 1 });
    expect(() => flow.functionTask(bound, { backend: "threads" })).toThrow(/a native or bound function cannot be shipped .* give the task a `module`/);
    expect(() => flow.functionTask(Math.max, { backend: "threads" })).toThrow(/a native or bound function/);
  });

  it("a module that fails to load fails the task naming the module and the export", async () => {
    const { flow } = await threaded();
    const never = flow.functionTask(() => 0, { name: "never", backend: "threads", module: new URL("./fixtures/broken-module.ts", import.meta.url) });
    await expect(never()).rejects.toThrow(/Task "never": module .*broken-module\.ts \(for export `never`\) could not be loaded: this module is broken/);
  });

  it("a thrown non-error that cannot cross arrives as an Error that says what was thrown", async () => {
    const { flow } = await threaded();
    const odd = flow.functionTask(function odd(): number {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test
      throw { handler: () => 1 };
    }, { backend: "threads" });
    const err = (await odd().catch((e: unknown) => e)) as Error & { thrown: unknown };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe("non-error thrown: [object Object]");
    expect(err.thrown).toBe("[object Object]");
  });

  it("rejects bad options naming them", async () => {
    await expect(engine({ backend: new ThreadBackend({ maxThreads: 0 }) })).rejects.toThrow(/ThreadBackend: option `maxThreads`/);
    // Piscina refuses these only as the pool starts (every task then failed with its RangeError), or a timer fires at once.
    await expect(engine({ backend: new ThreadBackend({ maxThreads: 2, minThreads: 4 }) })).rejects.toThrow(/ThreadBackend: option `minThreads`: 4 is more than maxThreads \(2; /);
    await expect(engine({ backend: new ThreadBackend({ idleTimeout: 1e12 }) })).rejects.toThrow(/ThreadBackend: option `idleTimeout`: at most 2147483647 ms/);
    // null is no options at all, as for every backend (it was a TypeError reading its name)
    const flow = await engine({ backend: [new LocalBackend(null as never), new ThreadBackend(null as never)] });
    expect(flow.backends).toEqual(["local", "threads"]);
  });
});
