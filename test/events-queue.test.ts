/**
 * Lifecycle events on QueueBackend: a real redis-server and a real
 * `asyncflow-worker` process. Started comes when the worker takes the job.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyFailureError, LocalBackend, QueueBackend, type FlowEvent, type TaskFuture } from "../lib/index.js";
import { byTask, expectMatchesFutures } from "./events-check.js";
import { captureStderr, engine, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { startAsyncflowWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

let redis: RedisServer;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await startRedis();
  worker = await startAsyncflowWorker(["--redis", redis.url, "--queue", "events", "--concurrency", "4", "--allow-source"]);
  if (!worker.serving) throw new Error(`asyncflow-worker did not start: ${worker.output}`);
}, 30_000);

afterAll(async () => {
  // The worker may still hold the cancelled job's body (it ignores its signal): no graceful stop to wait for.
  if (worker?.child !== undefined && worker.child.exitCode === null) {
    const exited = new Promise((r) => worker.child.once("exit", r));
    worker.child.kill("SIGKILL");
    await exited;
  }
  await redis?.stop();
});

describe("lifecycle events on QueueBackend (real Redis, a worker process)", () => {
  it("exact order per task through the queue, with failures, dependents of failures and cancellations", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new QueueBackend({ connection: redis.url, queue: "events" })] });
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const square = flow.functionTask((x: number) => x * x, { name: "square", backend: "queue" });
    const boom = flow.functionTask((x: number): number => {
      throw new RangeError(`no ${x}`);
    }, { name: "boom", backend: "queue" });
    const sum = flow.functionTask((...xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: "sum", backend: "queue" });
    const slow = flow.functionTask(async (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms)), { name: "slow", backend: "queue" });
    const fs: TaskFuture<number>[] = [];
    const squares = Array.from({ length: 20 }, (_, i) => square(i));
    fs.push(...squares, sum(...squares));
    const bad = boom(1);
    fs.push(bad, sum(bad, squares[0]!));
    const held = slow(60_000);
    const waiting = sum(held);
    fs.push(held, waiting);
    expect(await fs[20]).toBe(2470);
    await expect(fs[22]).rejects.toBeInstanceOf(DependencyFailureError);
    await new Promise<void>((r) => {
      const off = flow.subscribe((e) => {
        if (e.type === "TaskStarted" && e.taskId === held.uid) r();
      });
      if (held.state === "RUNNING") r();
      void off;
    });
    held.cancel("enough");
    await Promise.allSettled(fs);
    expectMatchesFutures(events, fs);
    const tasks = byTask(events);
    expect(tasks.get(bad.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskFailed"]);
    expect(tasks.get(fs[22]!.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskFailed"]);
    expect(tasks.get(held.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskCanceled"]);
    expect(tasks.get(waiting.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskCanceled"]);
    for (const e of events) if (e.type === "TaskStarted") expect(e.backend).toBe("queue");
    // every start names its worker (`worker host:pid`), those that finished before the engine read their start included
    const starts = events.filter((e) => e.type === "TaskStarted");
    expect(starts).toHaveLength(23);
    for (const e of starts) expect(e.where, e.name).toMatch(/^worker \S+:\d+$/);
    expect(tasks.get(held.uid)!.find((e) => e.type === "TaskStarted")).toMatchObject({ where: expect.stringMatching(/^worker \S+:\d+$/) as string });
  });

  it("a job no worker serves is Submitted, not Started, and the queue's warning is a BackendNotice; Started comes when a worker takes it", async () => {
    captureStderr();
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue: "events-idle", noWorkerWarning: 300 }) });
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const square = flow.functionTask((x: number) => x * x, { name: "square" });
    const f = square(7);
    await until(() => events.some((e) => e.type === "BackendNotice"), 10_000);
    const notice = events.find((e) => e.type === "BackendNotice");
    expect(notice).toMatchObject({ sessionId: flow.uid, backend: "queue", level: "warn", message: expect.stringMatching(/waiting, none started .* no worker for queue "events-idle"/) as string });
    expect(byTask(events).get(f.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted"]);
    expect(f.state).toBe("PENDING");
    const late = await startAsyncflowWorker(["--redis", redis.url, "--queue", "events-idle", "--allow-source"]);
    try {
      expect(late.serving, late.output).toBe(true);
      expect(await f).toBe(49);
      const mine = byTask(events).get(f.uid)!;
      expect(mine.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskCompleted"]);
      expect(mine[3]!.time).toBeGreaterThan(notice!.time);
      expectMatchesFutures(events, [f]);
    } finally {
      await stopWorkerProcess(late.child);
    }
  }, 30_000);

  it("kill -9 of the worker running a job: TaskRedelivered { delivery 2, the new worker } after its Started, then one terminal event", async () => {
    const own = await startRedis();
    const workers: WorkerProcess[] = [];
    const start = async (env: Record<string, string> = {}): Promise<WorkerProcess> => {
      const w = await startAsyncflowWorker(["--redis", own.url, "--queue", "redeliver", "--allow-exec"], env);
      if (!w.serving) throw new Error(w.output);
      workers.push(w);
      return w;
    };
    try {
      captureStderr();
      const dir = mkdtempSync(join(tmpdir(), "af-redeliver-"));
      const pids = join(dir, "pids");
      const first = await start();
      const flow = await engine({ backend: new QueueBackend({ connection: own.url, queue: "redeliver" }) });
      const events: FlowEvent[] = [];
      flow.subscribe((e) => events.push(e));
      // on the first worker it runs long; on the second (FAST=1) it ends at once
      const job = flow.executableTask(() => `echo $$ >> ${pids}; [ -n "$FAST" ] && exit 0; sleep 60`, { name: "job" })();
      await until(() => readFileSync(pids, { encoding: "utf8", flag: "a+" }).trim() !== "", 10_000);
      await start({ FAST: "1" });
      first.child.kill("SIGKILL");
      expect(await job).toBe("");
      const mine = byTask(events).get(job.uid)!;
      expect(mine.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskRedelivered", "TaskCompleted"]);
      const started = mine[3] as Extract<FlowEvent, { type: "TaskStarted" }>;
      const again = mine[4] as Extract<FlowEvent, { type: "TaskRedelivered" }>;
      expect(again).toMatchObject({ delivery: 2, name: "job", backend: "queue" });
      expect(again.where).toMatch(/^worker \S+:\d+$/);
      expect(again.where).not.toBe(started.where);
      expectMatchesFutures(events, [job]);
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await own.stop();
    }
  }, 60_000);
});
