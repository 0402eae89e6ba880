import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DependencyFailureError,
  LocalBackend,
  TaskCancelledError,
  TaskTimeoutError,
  optional,
  settled,
  type BackendEnvironment,
  type ExecutionBackend,
  type FlowEvent,
  type ReportState,
  type Settled,
  type TaskEvent,
  type TaskFuture,
  type TaskRun,
} from "../lib/index.js";
import { byTask, expectLifecycleOrder, expectMatchesFutures } from "./events-check.js";
import { byHand, captureStderr, engine, expectExitsByItself, gate, tick, until } from "./helpers.js";

const STEPS = ["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted"];

async function observed(options: Parameters<typeof engine>[0] = {}) {
  const flow = await engine(options);
  const events: FlowEvent[] = [];
  const off = flow.subscribe((e) => events.push(e));
  const types = (uid: string): string[] => (byTask(events).get(uid) ?? []).map((e) => e.type);
  const of = <T extends FlowEvent["type"]>(uid: string, type: T) =>
    events.find((e) => e.type === type && "taskId" in e && e.taskId === uid) as Extract<FlowEvent, { type: T }>;
  return { flow, events, off, types, of };
}

describe("lifecycle events on the local backend", () => {
  it("a task that runs: Created, Resolved, Submitted, Started, Completed, with the common fields", async () => {
    const { flow, types, of } = await observed();
    const before = Date.now();
    const one = flow.functionTask(async (x: number) => x + 1, { name: "one" });
    const two = flow.functionTask((x: number) => x * 2, { name: "two" });
    expect(await two(one(1))).toBe(4);
    expect(types("task.000001")).toEqual([...STEPS, "TaskCompleted"]);
    expect(types("task.000002")).toEqual([...STEPS, "TaskCompleted"]);
    const created = of("task.000002", "TaskCreated");
    expect(created).toMatchObject({ sessionId: flow.uid, taskId: "task.000002", name: "two", kind: "function", backend: "local", attempt: 1, dependsOn: ["task.000001"] });
    expect(created.parent).toBeUndefined();
    expect(created.time).toBeGreaterThanOrEqual(before - 1);
    expect(created.time).toBeLessThanOrEqual(Date.now() + 1);
    expect(created.time % 1).not.toBe(0); // sub-millisecond
    expect(of("task.000001", "TaskStarted").where).toBe("local");
    const done = of("task.000001", "TaskCompleted");
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    // times since the epoch keep about a microsecond; the spans are exact
    expect(done.waitMs).toBeCloseTo(of("task.000001", "TaskStarted").time - of("task.000001", "TaskCreated").time, 2);
    expect(done.durationMs).toBeCloseTo(done.time - of("task.000001", "TaskStarted").time, 2);
  });

  it("a failure: TaskFailed with the error; a dependent ends right after Created, naming the root cause", async () => {
    const { flow, types, of } = await observed();
    const bad = flow.functionTask(function parse(): number {
      throw new TypeError("no digits");
    });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    await expect(inc(inc(bad()))).rejects.toBeInstanceOf(DependencyFailureError);
    expect(types("task.000001")).toEqual([...STEPS, "TaskFailed"]);
    expect(of("task.000001", "TaskFailed").error).toMatchObject({ name: "TypeError", message: "no digits" });
    expect(of("task.000001", "TaskFailed").error.stack).toMatch(/TypeError: no digits/);
    expect(of("task.000001", "TaskFailed").rootCause).toBeUndefined();
    for (const uid of ["task.000002", "task.000003"]) {
      expect(types(uid)).toEqual(["TaskCreated", "TaskFailed"]);
      const failed = of(uid, "TaskFailed");
      expect(failed.error.name).toBe("DependencyFailureError");
      expect(failed.rootCause).toEqual({ uid: "task.000001", name: "parse" });
      expect(failed.durationMs).toBe(0);
      expect(failed.waitMs).toBeCloseTo(failed.time - of(uid, "TaskCreated").time, 2);
    }
  });

  it("cancellations: pending (after the last step reached) and running, with the reason", async () => {
    const { flow, types, of } = await observed();
    const hold = gate<number>();
    const wait = flow.functionTask(() => hold.promise, { name: "wait" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const running = wait();
    const pending = inc(running);
    await until(() => running.state === "RUNNING");
    pending.cancel("not needed");
    running.cancel("too slow");
    expect(types("task.000002")).toEqual(["TaskCreated", "TaskCanceled"]);
    expect(of("task.000002", "TaskCanceled").reason).toBe("not needed");
    expect(types("task.000001")).toEqual([...STEPS, "TaskCanceled"]);
    expect(of("task.000001", "TaskCanceled").reason).toBe("too slow");
    expect(of("task.000001", "TaskCanceled").durationMs).toBeGreaterThanOrEqual(0);
    hold.open(1);
  });

  it("an executable reports Started once its process is spawned, where: process <pid>", async () => {
    const { flow, types, of } = await observed();
    const echo = flow.executableTask(() => ["/bin/echo", "hi"], { name: "echo" });
    expect(await echo()).toBe("hi\n");
    expect(types("task.000001")).toEqual([...STEPS, "TaskCompleted"]);
    expect(of("task.000001", "TaskStarted").where).toMatch(/^process \d+$/);
    expect(of("task.000001", "TaskStarted").kind).toBe("executable");
  });

  it("blocks: backend engine, Submitted and Started together, children name their block as parent and its uid as workflow", async () => {
    const { flow, events, types, of } = await observed();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const inner = flow.block(async (x: number) => inc(await inc(x)), { name: "inner" });
    const outer = flow.block(async (x: number) => inner(await inc(x)), { name: "outer" });
    expect(await outer(1)).toBe(4);
    expectLifecycleOrder(events);
    expect(types("block.000001")).toEqual([...STEPS, "TaskCompleted"]);
    const submitted = events.findIndex((e) => e.type === "TaskSubmitted" && e.taskId === "block.000001");
    expect(events[submitted + 1]).toMatchObject({ type: "TaskStarted", taskId: "block.000001", backend: "engine", kind: "block" });
    expect(of("block.000001", "TaskCreated").workflowId).toBe("block.000001");
    expect(of("block.000001", "TaskCreated").parent).toBeUndefined();
    // outer's body made inc (task.000002) and inner (block.000003); inner's body made two incs
    expect(of("task.000002", "TaskCreated")).toMatchObject({ parent: "block.000001", workflowId: "block.000001" });
    expect(of("block.000003", "TaskCreated")).toMatchObject({ parent: "block.000001", workflowId: "block.000001" });
    for (const uid of ["task.000004", "task.000005"]) expect(of(uid, "TaskCreated")).toMatchObject({ parent: "block.000003", workflowId: "block.000001" });
  });

  it("a listener that throws is logged and disturbs neither the flow nor the other listeners; unsubscribe stops", async () => {
    const err = captureStderr();
    const { flow, events, off } = await observed();
    const later: FlowEvent[] = [];
    const offThrower = flow.subscribe(() => {
      throw new Error("listener bug");
    });
    flow.subscribe((e) => later.push(e));
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    expect(await inc(1)).toBe(2);
    expect(events.filter((e) => "taskId" in e)).toHaveLength(5);
    expect(later).toHaveLength(5);
    expect(err.text()).toMatch(/ERROR task\.000001 an event listener threw on TaskCreated: Error: listener bug/);
    off();
    offThrower();
    off(); // twice: nothing
    expect(await inc(2)).toBe(3);
    expect(events.filter((e) => "taskId" in e)).toHaveLength(5);
    expect(later).toHaveLength(10);
  });

  it("events are built only while someone listens: with nobody, no transition reads a task's event fields", async () => {
    // An event names its task's backend: a backend whose name counts its reads shows whether any event was built.
    let reads = 0;
    class Probe implements ExecutionBackend {
      #report: ReportState | null = null;
      get name(): string {
        reads++;
        return "probe";
      }
      attach(report: ReportState): void {
        this.#report = report;
      }
      submit(run: TaskRun): void {
        const report = this.#report!;
        report(run, "RUNNING", undefined, { where: "here" });
        try {
          report(run, "DONE", (run.fn as (...a: unknown[]) => unknown)(...run.args));
        } catch (error) {
          report(run, "FAILED", error);
        }
      }
      cancel(): void {}
      async shutdown(): Promise<void> {}
    }
    const flow = await engine({ backend: new Probe() });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    let calls = 0;
    const flaky = flow.functionTask((x: number) => {
      if (++calls % 2 === 1) throw new Error("first attempt fails");
      return x;
    }, { name: "flaky", retries: 1, retryDelay: 1 });
    const bad = flow.functionTask((): number => {
      throw new Error("bad");
    }, { name: "bad" });
    // every kind of transition: steps, a retry, a failure, a dependent of it, a cancellation
    const round = async (): Promise<number> => {
      const before = reads;
      const fs = [inc(inc(1)), flaky(2), inc(bad()), inc(inc(3))];
      fs[3]!.cancel("not needed");
      await Promise.allSettled(fs);
      expect(fs.map((f) => f.state)).toEqual(["DONE", "DONE", "FAILED", "CANCELLED"]);
      return reads - before;
    };
    expect(await round()).toBe(0);
    const off = flow.subscribe(() => undefined);
    expect(await round()).toBeGreaterThanOrEqual(5 * 4);
    off();
    expect(await round()).toBe(0);
  });

  it("counts over a 1,000-task random DAG with failures and cancellations", async () => {
    const { flow, events } = await observed();
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let bodies = 0;
    const work = flow.functionTask(
      async (fail: boolean, ...inputs: number[]) => {
        bodies++;
        await tick();
        if (fail) throw new Error("planned failure");
        return inputs.reduce((a, b) => a + b, 1);
      },
      { name: "work" },
    );
    const fs: TaskFuture<number>[] = [];
    for (let i = 0; i < 1000; i++) {
      const deps = i === 0 ? [] : Array.from({ length: Math.floor(rand() * 4) }, () => fs[Math.floor(rand() * i)]!);
      const f = work(rand() < 0.03, ...deps);
      fs.push(f);
      if (rand() < 0.03) f.cancel("planned cancel at creation");
    }
    // some are cancelled while they run or wait
    await until(() => fs.some((f) => f.state === "RUNNING"));
    for (const f of fs) if (!f.done() && rand() < 0.05) f.cancel("planned cancel later");
    await Promise.allSettled(fs);
    const tasks = byTask(events);
    expect(tasks.size).toBe(1000);
    expectMatchesFutures(events, fs);
    const count = (type: TaskEvent["type"]): number => events.filter((e) => e.type === type).length;
    const states = (s: string): number => fs.filter((f) => f.state === s).length;
    expect(count("TaskCreated")).toBe(1000);
    expect(count("TaskCompleted")).toBe(states("DONE"));
    expect(count("TaskFailed")).toBe(states("FAILED"));
    expect(count("TaskCanceled")).toBe(states("CANCELLED"));
    expect(count("TaskStarted")).toBe(bodies);
    // the run really mixed every outcome
    expect(states("DONE")).toBeGreaterThan(100);
    expect(states("FAILED")).toBeGreaterThan(10);
    expect(states("CANCELLED")).toBeGreaterThan(10);
    expect(fs.filter((f) => f.state === "CANCELLED" && tasks.get(f.uid)!.some((e) => e.type === "TaskStarted")).length).toBeGreaterThan(0);
    expect(fs.filter((f) => f.state === "FAILED" && f.exception() instanceof DependencyFailureError).length).toBeGreaterThan(0);
    expect(fs.filter((f) => f.exception() instanceof TaskCancelledError).length).toBe(states("CANCELLED"));
  });

  it("retries: TaskRetry for each failed attempt, then the next attempt's Submitted and Started; Resolved once", async () => {
    const { flow, events, types, of } = await observed();
    captureStderr();
    let calls = 0;
    const flaky = flow.functionTask(
      (): number => {
        if (++calls < 3) throw new RangeError(`attempt ${calls} failed`);
        return calls;
      },
      { name: "flaky", retries: 3, retryDelay: 1 },
    );
    const f = flaky();
    expect(await f).toBe(3);
    const attempt = ["TaskSubmitted", "TaskStarted"];
    expect(types(f.uid)).toEqual(["TaskCreated", "TaskResolved", ...attempt, "TaskRetry", ...attempt, "TaskRetry", ...attempt, "TaskCompleted"]);
    const retries = events.filter((e) => e.type === "TaskRetry");
    expect(retries.map((e) => [e.attempt, e.error.message, e.delayMs >= 0])).toEqual([
      [1, "attempt 1 failed", true],
      [2, "attempt 2 failed", true],
    ]);
    expect(of(f.uid, "TaskCompleted").attempt).toBe(3);
    const mine = byTask(events).get(f.uid)!;
    for (const type of ["TaskSubmitted", "TaskStarted"]) expect(mine.filter((e) => e.type === type).map((e) => e.attempt), type).toEqual([1, 2, 3]);
    // its duration runs from the first attempt's start, through both failures and delays
    const done = of(f.uid, "TaskCompleted");
    expect(done.durationMs).toBeCloseTo(done.time - of(f.uid, "TaskStarted").time, 2);
    expectLifecycleOrder(events);
  });

  it("the end names the last attempt that ran: a final timeout, a cancel or a deadline while backing off; a label is on every event", async () => {
    const { flow, events, of } = await observed();
    captureStderr();
    const never = gate<number>();
    const slowest = flow.functionTask(() => never.promise, { name: "slowest", timeout: 5, retries: 2, retryDelay: 1, retryJitter: 0, label: "the slow one" });
    const failing = flow.functionTask((): number => {
      throw new Error("no");
    }, { name: "failing", retries: 5, retryDelay: 60_000 });
    const late = flow.functionTask((): number => {
      throw new Error("no");
    }, { name: "late", retries: 5, retryDelay: 60_000, deadline: 50 });
    const [a, b, c] = [slowest(), failing(), late()];
    await expect(a).rejects.toThrow(/attempt 3 timed out/);
    await until(() => events.some((e) => e.type === "TaskRetry" && e.taskId === b.uid));
    b.cancel("stop");
    await expect(c).rejects.toThrow(/passed its deadline of 50 ms \(at attempt 1\)/);
    expect([of(a.uid, "TaskFailed").attempt, of(b.uid, "TaskCanceled").attempt, of(c.uid, "TaskFailed").attempt]).toEqual([3, 1, 1]);
    expect(new Set(events.filter((e) => "taskId" in e && e.taskId === a.uid).map((e) => "label" in e && e.label))).toEqual(new Set(["the slow one"]));
    never.open(0);
  });

  it("cache hits and shared executions end with TaskCompleted { cached } and never start", async () => {
    const { flow, types, of } = await observed();
    let runs = 0;
    const slow = flow.functionTask(
      async (x: number) => {
        runs++;
        await tick();
        return x * 10;
      },
      { name: "slow", cache: true },
    );
    const leader = slow(1);
    const follower = slow(1); // joins the running call
    await leader;
    const hit = slow(1); // answered from the cache
    expect([await follower, await hit, runs]).toEqual([10, 10, 1]);
    expect(of(leader.uid, "TaskCompleted").cached).toBeUndefined();
    for (const f of [follower, hit]) {
      expect(types(f.uid)).toEqual(["TaskCreated", "TaskResolved", "TaskCompleted"]);
      expect(of(f.uid, "TaskCompleted").cached).toBe(true);
    }
  });

  it("a result taken from the checkpoint of an earlier run ends with TaskCompleted { resumed } and never starts", async () => {
    const ckpt = join(mkdtempSync(join(tmpdir(), "asyncflow-events-")), "run.ckpt");
    const once = async (): Promise<FlowEvent[]> => {
      const { flow, events } = await observed({ checkpoint: ckpt });
      try {
        const double = flow.functionTask((x: number) => x * 2, { name: "double" });
        expect(await double(21)).toBe(42);
        return events;
      } finally {
        await flow.shutdown();
      }
    };
    const first = (await once()).filter((e) => "taskId" in e).map((e) => e.type);
    expect(first).toEqual([...STEPS, "TaskCompleted"]);
    const second = (await once()).filter((e) => "taskId" in e);
    expect(second.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskCompleted"]);
    expect(second[2]).toMatchObject({ type: "TaskCompleted", resumed: true, durationMs: 0 });
  });

  it("a checkpointed task ends when its body does: the write's wait is its persistMs, and a one-slot backend shows no overlap", async () => {
    const ckpt = join(mkdtempSync(join(tmpdir(), "asyncflow-events-")), "run.ckpt");
    const { flow, events, of } = await observed({ checkpoint: ckpt, backend: new LocalBackend({ concurrency: 1 }) });
    const double = flow.functionTask((x: number) => x * 2, { name: "double" });
    const fs = Array.from({ length: 20 }, (_, i) => double(i));
    await Promise.all(fs);
    expectMatchesFutures(events, fs);
    for (const [i, f] of fs.entries()) {
      const done = of(f.uid, "TaskCompleted");
      expect(done.persistMs).toBeGreaterThanOrEqual(0);
      // one slot: the next body started once this one had returned, whatever the write was doing
      if (i + 1 < fs.length) expect(done.time).toBeLessThanOrEqual(of(fs[i + 1]!.uid, "TaskStarted").time);
    }
  });

  it("a backend's warnings and errors through env.log become BackendNotice events", async () => {
    captureStderr();
    class Chatty implements ExecutionBackend {
      readonly name = "chatty";
      #env: BackendEnvironment | null = null;
      attach(_report: unknown, env: BackendEnvironment): void {
        this.#env = env;
      }
      submit(run: TaskRun): void {
        this.#env!.log.warn(this.#env!.sessionUid, `no worker for ${run.uid}`);
        this.#env!.log.debug(this.#env!.sessionUid, "chatter");
      }
      cancel(): void {}
      async shutdown(): Promise<void> {}
    }
    const { flow, events } = await observed({ backend: [new LocalBackend(), new Chatty()] });
    flow.functionTask(() => 1, { backend: "chatty", name: "x" })();
    await until(() => events.some((e) => e.type === "BackendNotice"));
    const notices = events.filter((e) => e.type === "BackendNotice");
    expect(notices).toEqual([{ type: "BackendNotice", sessionId: flow.uid, time: expect.any(Number) as number, backend: "chatty", level: "warn", message: "no worker for task.000001" }]);
  });
});

describe("a queue-like backend's RUNNING reports, driven by hand", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it("a first start at delivery 2 is Started and Redelivered; a delivery reported again is no new redelivery", async () => {
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "info");
    const log = captureStderr();
    const hand = byHand();
    const { flow, events } = await observed({ backend: hand.backend });
    const f = flow.functionTask(function job() {
      return 1;
    })();
    await tick();
    // the engine first hears of the job once its first worker is gone; a backend may tell the same start twice (two reads)
    hand.report("RUNNING", undefined, { where: "worker b:2", delivery: 2 });
    hand.report("RUNNING", undefined, { where: "worker b:2", delivery: 2 });
    hand.report("RUNNING", undefined, { where: "worker c:3", delivery: 3 });
    hand.report("RUNNING", undefined, { where: "worker c:3", delivery: 3 });
    hand.report("DONE", 1);
    expect(await f).toBe(1);
    const mine = byTask(events).get(f.uid)!;
    expect(mine.map((e) => e.type)).toEqual([...STEPS, "TaskRedelivered", "TaskRedelivered", "TaskCompleted"]);
    expect(mine.slice(3, 6)).toMatchObject([{ where: "worker b:2" }, { where: "worker b:2", delivery: 2 }, { where: "worker c:3", delivery: 3 }]);
    // the log says so of the redelivery it saw happen, once
    expect(log.text().match(/redelivered/g)).toEqual(["redelivered"]);
    expect(log.text()).toMatch(/INFO task\.000001 job: redelivered to worker c:3 \(delivery 3\): its worker was lost/);
  });

  it("a redelivery restarts the attempt's timeout: the body starts again from its beginning", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const hand = byHand();
    const flow = await engine({ backend: hand.backend });
    const f = flow.functionTask(function job() {
      return 1;
    }, { timeout: 1000 })();
    f.catch(() => undefined);
    await tick();
    hand.report("RUNNING", undefined, { where: "worker a:1", delivery: 1 });
    await vi.advanceTimersByTimeAsync(800);
    hand.report("RUNNING", undefined, { where: "worker b:2", delivery: 2 });
    await vi.advanceTimersByTimeAsync(999); // 1,799 ms after the first start, 999 after the second
    expect(f.state).toBe("RUNNING");
    await vi.advanceTimersByTimeAsync(1);
    expect(f.state).toBe("FAILED");
    await expect(f).rejects.toBeInstanceOf(TaskTimeoutError);
  });
});

describe("a TaskRetry listener that ends the task", () => {
  // A child process each: what is checked is that nothing (the retry's ten-minute delay) holds the process.
  it("shutting the engine down, or cancelling the task, leaves no retry timer: the process exits by itself", () => {
    expectExitsByItself(new URL("./fixtures/retry-listener-exit.ts", import.meta.url), "TaskCancelledError\nshut down\n", 30_000);
    expectExitsByItself(new URL("./fixtures/retry-listener-exit.ts", import.meta.url), "TaskCancelledError\n", 30_000, ["cancel"]);
  }, 90_000);
});

describe("the shutdown summary of failures nobody looked at", () => {
  it("names an unobserved failure and leaves out awaited ones, ones with callbacks, and ones looked at later", async () => {
    const err = captureStderr();
    const flow = await engine();
    const fail = flow.functionTask((why: string): number => {
      throw new Error(why);
    }, { name: "fail" });
    const awaited = fail("awaited");
    await expect(awaited).rejects.toThrow("awaited");
    fail("with a callback").addDoneCallback(() => undefined);
    const lookedLater = fail("looked at later");
    fail("nobody looks");
    // A bare `await` (while pending, and once failed) and Promise.all never call `then` on a native promise: they still count.
    await Promise.allSettled([(async () => await fail("bare await"))()]);
    const awaitedLate = fail("awaited once failed");
    const inAll = fail("in Promise.all");
    // `then` and `catch` while pending, or once failed
    const thenPending = fail("then while pending");
    void thenPending.then(undefined, () => undefined);
    const caughtLate = fail("caught once failed");
    const returned = fail("returned from an async function");
    const returnedBy = (async () => returned)().catch(() => undefined);
    const resultLate = fail("result() once failed");
    // a dependent made before the failure, and one made after it (awaited, so that its own failure is seen)
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const before = inc(fail("a dependent waits"));
    const depLate = fail("a dependent comes later");
    const callbackLate = fail("a callback once failed");
    // handed to a dependent once failed under a per-edge policy, and as the second of two failed plain dependencies
    const [settledLate, optionalLate, firstPlain, secondPlain] = [fail("settled() once failed"), fail("optional() once failed"), fail("first plain"), fail("second plain")];
    const late = [lookedLater, awaitedLate, inAll, caughtLate, resultLate, depLate, callbackLate, settledLate, optionalLate, firstPlain, secondPlain];
    await until(() => late.every((f) => f.done()));
    await tick();
    expect(lookedLater.exception()).toBeInstanceOf(Error);
    expect(() => resultLate.result()).toThrow("result() once failed");
    callbackLate.addDoneCallback(() => undefined);
    const take = flow.functionTask((s: Settled<number>, o: number) => [s.status, o], { name: "take" });
    const pair = flow.functionTask((a: number, b: number) => a + b, { name: "pair" });
    await Promise.allSettled([(async () => await awaitedLate)(), Promise.all([inAll]), caughtLate.catch(() => undefined), returnedBy, before, inc(depLate)]);
    expect(await take(settled(settledLate), optional(optionalLate, 0))).toEqual(["rejected", 0]);
    await expect(pair(firstPlain, secondPlain)).rejects.toBeInstanceOf(DependencyFailureError);
    await flow.shutdown();
    const lines = err.lines.filter((l) => l.includes("nobody looked"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN asyncflow\.session\.\w+ 1 task failed and nobody looked at it: fail \(task\.000004\): Error: nobody looks\n$/);
  });

  it("names the dependents of a failure nobody looked at in a line of their own, with the root cause", async () => {
    const err = captureStderr();
    const flow = await engine();
    const fail = flow.functionTask((): number => {
      throw new TypeError("no digits");
    }, { name: "parse" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const tail = inc(inc(fail()));
    await until(() => tail.done());
    await flow.shutdown();
    const lines = err.lines.filter((l) => l.includes("nobody looked"));
    // parse has dependents, and the first inc the second: only the end of the chain went unseen
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN \S+ 1 task did not run because a dependency failed and nobody looked at it: inc \(task\.000003\): parse \(task\.000001\) failed: TypeError: no digits\n$/);
  });

  it("a failure nobody awaits is never an unhandled rejection", async () => {
    captureStderr();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const flow = await engine();
      const fail = flow.functionTask(async (): Promise<number> => {
        throw new Error("nobody awaits this");
      }, { name: "fail" });
      const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
      const fs = [fail(), inc(fail()), fail()];
      fs[2]!.cancel("cancelled, and nobody awaits it either");
      await until(() => fs.every((f) => f.done()));
      // Node reports an unhandled rejection after the microtasks of the turn that made it: give it turns.
      for (let i = 0; i < 5; i++) await tick();
      await flow.shutdown();
      await tick();
      expect(fs.map((f) => f.state)).toEqual(["FAILED", "FAILED", "CANCELLED"]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("counts past the first three", async () => {
    const err = captureStderr();
    const flow = await engine();
    const fail = flow.functionTask((): number => {
      throw new RangeError("bad");
    }, { name: "fail" });
    const fs = Array.from({ length: 5 }, () => fail());
    await until(() => fs.every((f) => f.done()));
    await flow.shutdown();
    expect(err.text()).toMatch(/5 tasks failed and nobody looked at them: fail \(task\.000001\): RangeError: bad; fail \(task\.000002\): RangeError: bad; fail \(task\.000003\): RangeError: bad; and 2 more/);
  });
});

describe("FlowStalled and TaskSlow", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("FlowStalled once per stall, with the inspect() rows of the oldest running tasks; TaskSlow once per task", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    captureStderr();
    const { flow, events } = await observed({ stallTimeout: 1000 });
    const never = gate<number>();
    const callExternalApi = flow.functionTask(async function callExternalApi() {
      return never.promise;
    }, { warnAfter: 500 });
    const merge = flow.functionTask(function merge(a: number) {
      return a;
    });
    const api = callExternalApi();
    merge(api);
    await tick();
    await vi.advanceTimersByTimeAsync(499);
    expect(events.filter((e) => e.type === "TaskSlow")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const slow = events.filter((e) => e.type === "TaskSlow");
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ taskId: api.uid, name: "callExternalApi", attempt: 1 });
    expect(slow[0]!.runningMs).toBeGreaterThanOrEqual(500);
    await vi.advanceTimersByTimeAsync(499);
    expect(events.filter((e) => e.type === "FlowStalled")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(10_000);
    const stalled = events.filter((e) => e.type === "FlowStalled");
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ sessionId: flow.uid, tasks: [{ uid: api.uid, name: "callExternalApi", state: "RUNNING", reason: "RUNNING", backend: "local" }] });
    expect(stalled[0]!.stalledMs).toBeGreaterThanOrEqual(1000);
    expect(events.filter((e) => e.type === "TaskSlow")).toHaveLength(1);
    never.open(1);
    await api;
  });

  it("TaskSlow once per task: a retry that runs long again is not warned about again", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    captureStderr();
    const { flow, events } = await observed();
    const never = gate<number>();
    const hangs = flow.functionTask(() => never.promise, { name: "hangs", warnAfter: 30, timeout: 80, retries: 2, retryDelay: 1, retryJitter: 0 });
    const f = hangs();
    f.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(f.state).toBe("FAILED");
    expect(events.filter((e) => e.type === "TaskStarted").map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === "TaskSlow").map((e) => e.attempt)).toEqual([1]);
    never.open(1);
  });
});
