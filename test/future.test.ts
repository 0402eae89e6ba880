import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { InvalidStateError, TaskCancelledError, TaskFuture, type TaskState } from "../lib/index.js";
import { captureStderr, engine, gate, tick } from "./helpers.js";

describe("TaskFuture", () => {
  it("moves PENDING -> RUNNING -> DONE, and is PENDING when the wrapper returns", async () => {
    const flow = await engine();
    const g = gate<number>();
    const slow = flow.functionTask(async function slow() {
      return g.promise;
    });
    const f = slow();
    expect(f).toBeInstanceOf(TaskFuture);
    expect(f.state).toBe("PENDING");
    expect(f.done()).toBe(false);
    await tick();
    expect(f.state).toBe("RUNNING");
    g.open(7);
    expect(await f).toBe(7);
    expect(f.state).toBe("DONE");
    expect(f.done()).toBe(true);
    expect(f.result()).toBe(7);
    expect(f.exception()).toBeUndefined();
  });

  it("a synchronous task is still PENDING when the wrapper returns", async () => {
    const flow = await engine();
    const id = flow.functionTask((x: number) => x);
    const f = id(3);
    expect(f.state).toBe("PENDING");
    expect(await f).toBe(3);
  });

  it("has uids task.NNNNNN / block.NNNNNN and names from the function or opts.name", async () => {
    const flow = await engine();
    const t = flow.functionTask(function double(x: number) {
      return 2 * x;
    });
    const b = flow.block(async function wrap() {
      return 1;
    });
    const n = flow.functionTask(() => 1, { name: "named" });
    const anon = flow.functionTask(() => 1);
    const f1 = t(1);
    const f2 = b();
    const f3 = n();
    expect(f1.uid).toBe("task.000001");
    expect(f1.name).toBe("double");
    expect(f2.uid).toBe("block.000002");
    expect(f2.name).toBe("wrap");
    expect(f3.name).toBe("named");
    expect(anon().name).toBe("anonymous");
    expect(t.name).toBe("double");
    await Promise.all([f1, f2, f3]);
  });

  it("result() before completion throws InvalidStateError naming the task", async () => {
    const flow = await engine();
    const f = flow.functionTask(function later() {
      return 1;
    })();
    expect(() => f.result()).toThrow(InvalidStateError);
    expect(() => f.result()).toThrow(/task\.000001 \(later\) has no result yet: it is PENDING/);
    await f;
  });

  it("failure: the future rejects with that very error, result() throws it, exception() returns it", async () => {
    const flow = await engine();
    const boom = new RangeError("boom");
    const f = flow.functionTask(function bad(): number {
      throw boom;
    })();
    await expect(f).rejects.toBe(boom);
    expect(f.state).toBe("FAILED");
    expect(() => f.result()).toThrow(boom);
    expect(f.exception()).toBe(boom);
    const g = flow.functionTask(async function badAsync(): Promise<number> {
      throw boom;
    })();
    await expect(g).rejects.toBe(boom);
  });

  it("done-callbacks run once, synchronously on settle, in order, with the future in its final state", async () => {
    const flow = await engine();
    const g = gate<number>();
    const f = flow.functionTask(() => g.promise, { name: "cb" })();
    const seen: [string, TaskState][] = [];
    f.addDoneCallback((x) => seen.push(["a", x.state]));
    f.addDoneCallback((x) => seen.push(["b", x.state]));
    const removed = (x: TaskFuture<number>): void => void seen.push(["removed", x.state]);
    f.addDoneCallback(removed);
    expect(f.removeDoneCallback(removed)).toBe(1);
    g.open(1);
    await g.promise;
    await tick();
    expect(seen).toEqual([
      ["a", "DONE"],
      ["b", "DONE"],
    ]);
  });

  it("a callback added after completion is called soon after, asynchronously", async () => {
    const flow = await engine();
    const f = flow.functionTask(() => 1, { name: "x" })();
    await f;
    // Only record here: an expect() inside a callback would be caught by the engine's callback guard.
    const got: TaskFuture<number>[] = [];
    f.addDoneCallback((x) => got.push(x));
    expect(got).toEqual([]);
    await Promise.resolve();
    await tick();
    expect(got).toHaveLength(1);
    expect(got[0]).toBe(f);
  });

  it("removeDoneCallback removes every registration of a callback added twice, and only that one", async () => {
    const flow = await engine();
    const g = gate<number>();
    const f = flow.functionTask(() => g.promise, { name: "twice" })();
    const seen: string[] = [];
    const twice = (): void => void seen.push("twice");
    f.addDoneCallback(twice);
    f.addDoneCallback(() => seen.push("other"));
    f.addDoneCallback(twice);
    expect(f.removeDoneCallback(twice)).toBe(2);
    expect(f.removeDoneCallback(twice)).toBe(0);
    g.open(1);
    await f;
    expect(seen).toEqual(["other"]);
  });

  it("a throwing callback does not stop the others or the engine, and is logged naming the task", async () => {
    const flow = await engine();
    const stderr = captureStderr();
    const f = flow.functionTask(() => 1, { name: "x" })();
    const order: number[] = [];
    f.addDoneCallback(() => {
      order.push(1);
      throw new Error("callback bug");
    });
    f.addDoneCallback(() => order.push(2));
    expect(await f).toBe(1);
    expect(order).toEqual([1, 2]);
    expect(stderr.text()).toMatch(/ERROR task\.000001 a done-callback of x threw: Error: callback bug/);
  });

  it("printed (console.log, util.inspect) or JSON-stringified by mistake, shows the task and its outcome, never the engine", async () => {
    const flow = await engine();
    const g = gate<number>();
    const double = flow.functionTask(async (x: number) => 2 * (await g.promise) * x, { name: "double" });
    const f = double(3);
    expect(inspect(f)).toBe("[TaskFuture task.000001 (double) PENDING]");
    expect(JSON.stringify({ r: f })).toBe('{"r":{"task":"task.000001","name":"double","state":"PENDING"}}');
    g.open(7);
    await f;
    expect(inspect({ f })).toBe("{ f: [TaskFuture task.000001 (double) DONE: 42] }");
    // a value is never written in its place: await the future for it
    expect(JSON.stringify(f)).toBe('{"task":"task.000001","name":"double","state":"DONE"}');
    // the outcome is one level below the future: shown as deep as the caller asks
    const nested = flow.functionTask(() => ({ a: { b: { c: 1 } } }), { name: "nested" })();
    await nested;
    expect(inspect(nested, { depth: 1 })).toBe("[TaskFuture task.000002 (nested) DONE: { a: [Object] }]");
    expect(inspect(nested, { depth: null })).toBe("[TaskFuture task.000002 (nested) DONE: { a: { b: { c: 1 } } }]");
    const failing = flow.functionTask(() => {
      throw new TypeError("bad input");
    }, { name: "parse" })();
    await failing.catch(() => undefined);
    expect(inspect(failing)).toMatch(/^\[TaskFuture task\.000003 \(parse\) FAILED: TypeError: bad input\n {4}at /);
  });

  it("supports then/catch/finally", async () => {
    const flow = await engine();
    const ok = flow.functionTask(() => 2, { name: "ok" });
    const bad = flow.functionTask((): number => {
      throw new Error("x");
    }, { name: "bad" });
    expect(await ok().then((v) => v + 1)).toBe(3);
    expect(await bad().catch(() => "caught")).toBe("caught");
    let fin = false;
    await ok().finally(() => (fin = true));
    expect(fin).toBe(true);
  });

  it("cancel() on a pending task makes it CANCELLED at once; awaiting rejects with TaskCancelledError and the reason", async () => {
    const flow = await engine();
    let ran = false;
    const f = flow.functionTask(() => (ran = true), { name: "never" })();
    expect(f.cancel("not needed")).toBe(true);
    expect(f.state).toBe("CANCELLED");
    expect(f.cancelled()).toBe(true);
    expect(f.done()).toBe(true);
    const err = f.exception();
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect((err as TaskCancelledError).reason).toBe("not needed");
    expect((err as TaskCancelledError).taskUid).toBe(f.uid);
    await expect(f).rejects.toBeInstanceOf(TaskCancelledError);
    expect(f.cancel()).toBe(false);
    await tick();
    expect(ran).toBe(false);
  });

  it("cancel() on a running task aborts its signal and is CANCELLED at once even if the body ignores it", async () => {
    const { taskContext } = await import("../lib/index.js");
    const flow = await engine();
    const g = gate<string>();
    let signal: AbortSignal | undefined;
    const f = flow.functionTask(async function stubborn() {
      signal = taskContext().signal;
      return g.promise;
    })();
    await tick();
    expect(f.state).toBe("RUNNING");
    expect(f.cancel("stop")).toBe(true);
    expect(f.state).toBe("CANCELLED");
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TaskCancelledError);
    g.open("late");
    await tick();
    expect(f.state).toBe("CANCELLED");
    await expect(f).rejects.toThrow(/stubborn\) was cancelled: stop/);
  });

  it("the state is final before any callback runs, also for cancellation", async () => {
    const flow = await engine();
    const f = flow.functionTask(() => 1, { name: "c" })();
    let state: TaskState | undefined;
    f.addDoneCallback((x) => (state = x.state));
    f.cancel();
    expect(state).toBe("CANCELLED");
  });
});
