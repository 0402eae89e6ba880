import { describe, expect, it } from "vitest";
import { LocalBackend, ThreadBackend, type FlowEvent, type TaskFuture } from "../lib/index.js";
import { byTask, expectMatchesFutures } from "./events-check.js";
import { engine, running, until } from "./helpers.js";

describe("lifecycle events on ThreadBackend (real threads)", () => {
  it("exact order per task; Started names the thread once the body begins, for single runs and batches", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 2 })] });
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const square = flow.functionTask(function square(x: number): number {
      return x * x;
    }, { backend: "threads" });
    const fail = flow.functionTask(function fail(): number {
      throw new Error("thread failure");
    }, { backend: "threads" });
    const total = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: "total" });
    const fs: TaskFuture<number>[] = [];
    // enough small runs that later ones travel in batches
    for (let round = 0; round < 3; round++) {
      const xs = Array.from({ length: 200 }, (_, i) => square(i));
      fs.push(...xs, total(xs));
      await fs[fs.length - 1];
    }
    const bad = fail();
    fs.push(bad, total([bad]));
    await Promise.allSettled(fs);
    expectMatchesFutures(events, fs);
    const started = events.filter((e) => e.type === "TaskStarted" && e.backend === "threads");
    expect(started).toHaveLength(601);
    // Every Started names its thread, also when the result overtakes the worker's start message (on another port).
    for (const e of started) expect(e.type === "TaskStarted" && e.where, JSON.stringify(e)).toMatch(/^thread \d+$/);
    expect(byTask(events).get(bad.uid)!.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskFailed"]);
  });

  it("a run queued behind busy threads is not Started until a thread takes it", async () => {
    const flow = await engine({ backend: new ThreadBackend({ maxThreads: 1 }) });
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const spin = flow.functionTask(function spin(ms: number): number {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return ms;
    });
    const first = spin(300);
    const second = spin(1);
    await running(first);
    expect(second.state).toBe("PENDING");
    expect(events.filter((e) => e.type === "TaskStarted").map((e) => (e as { taskId: string }).taskId)).toEqual([first.uid]);
    await second;
    const startOf = (uid: string) => events.find((e) => e.type === "TaskStarted" && e.taskId === uid)!.time;
    const endOf = (uid: string) => events.find((e) => e.type === "TaskCompleted" && e.taskId === uid)!.time;
    expect(startOf(second.uid)).toBeGreaterThanOrEqual(endOf(first.uid) - 50);
  });

  it("on a cold thread, Started waits for the thread to boot and take the run, not for the hand-over", async () => {
    const threads = new ThreadBackend({ maxThreads: 1, minThreads: 0, idleTimeout: 10 });
    const flow = await engine({ backend: threads });
    const one = flow.functionTask(function one(): number {
      return 1;
    });
    expect(await one()).toBe(1);
    await until(() => threads.threadCount === 0, 10_000); // the pool stays, its idle thread is gone
    expect(threads.threadCount).toBe(0);
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    expect(await one()).toBe(1);
    const at = (type: string) => events.find((e) => e.type === type)!.time;
    // A new thread (an isolate, then asyncflow's worker module) never boots in under a millisecond;
    // Started at the hand-over would come within microseconds of Submitted.
    expect(at("TaskStarted") - at("TaskSubmitted")).toBeGreaterThan(1);
  });
});

describe("a listener that cancels a task at its TaskStarted", () => {
  it("ends it CANCELLED with a terminal event that says it started, on threads and in process, for tasks with time limits", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 1 })] });
    const events: FlowEvent[] = [];
    const byUid = new Map<string, TaskFuture<number>>();
    flow.subscribe((e) => {
      events.push(e);
      if (e.type === "TaskStarted") byUid.get(e.taskId)?.cancel("seen starting");
    });
    const options = { timeout: 60_000, deadline: 120_000, retries: 1 };
    const onThread = flow.functionTask(function ten(): number {
      return 10;
    }, { backend: "threads", ...options });
    const inProcess = flow.functionTask(() => new Promise<number>(() => undefined), { name: "forever", ...options });
    const fs: TaskFuture<number>[] = [onThread(), inProcess()];
    for (const f of fs) byUid.set(f.uid, f);
    await Promise.allSettled(fs);
    expect(fs.map((f) => f.state)).toEqual(["CANCELLED", "CANCELLED"]);
    // durationMs counts from the start the events announced; waitMs ends there
    expectMatchesFutures(events, fs);
    await flow.shutdown();
  });
});
