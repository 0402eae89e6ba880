import { describe, expect, it } from "vitest";
import { InvalidTaskError, TaskCancelledError, taskContext, type TaskFuture } from "../lib/index.js";
import { engine, gate, tick, until } from "./helpers.js";

describe("blocks", () => {
  it("run their body with resolved arguments and move PENDING, RUNNING, DONE", async () => {
    const flow = await engine();
    const g = gate();
    const one = flow.functionTask(() => 1, { name: "one" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const blk = flow.block(async function blk(x: number) {
      await g.promise;
      return await inc(inc(x));
    });
    const b = blk(one());
    expect(b.uid).toBe("block.000002");
    expect(b.state).toBe("PENDING");
    await tick();
    expect(b.state).toBe("RUNNING");
    g.open();
    expect(await b).toBe(3);
    expect(b.state).toBe("DONE");
  });

  it("refuse a `backend` option when defined, naming the task: a block runs in the engine", async () => {
    const flow = await engine();
    // @ts-expect-error -- BlockOptions has no backend
    const define = () => flow.block(async () => 1, { name: "routed", backend: "local" });
    expect(define).toThrow(InvalidTaskError);
    expect(define).toThrow(/Task "routed": option `backend`: a block runs in the engine/);
  });

  it("nest, and a block that returns a future ends as that future ends", async () => {
    const flow = await engine();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const inner = flow.block((x: number) => inc(x), { name: "inner" });
    const outer = flow.block(async (x: number) => (await inner(x)) * 10, { name: "outer" });
    expect(await outer(inner(1))).toBe(30);
  });

  it("fail with the body's error, and their dependents fail with DependencyFailureError", async () => {
    const flow = await engine();
    const boom = new Error("block boom");
    const bad = flow.block(async (): Promise<number> => {
      throw boom;
    }, { name: "bad" });
    const id = flow.functionTask((x: number) => x, { name: "id" });
    const b = bad();
    await expect(b).rejects.toBe(boom);
    expect(b.state).toBe("FAILED");
    await expect(id(b)).rejects.toMatchObject({ name: "DependencyFailureError", rootCause: boom });
    const syncBad = flow.block((): number => {
      throw boom;
    }, { name: "syncBad" });
    await expect(syncBad()).rejects.toBe(boom);
  });

  it("cancelling a block cancels the tasks created inside it, running or pending", async () => {
    const flow = await engine();
    const g = gate<number>();
    let signal: AbortSignal | undefined;
    const wait = flow.functionTask(async () => {
      signal = taskContext().signal;
      return g.promise;
    }, { name: "wait" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const made: TaskFuture<number>[] = [];
    const blk = flow.block(async () => {
      const a = wait();
      const b = inc(a);
      made.push(a, b);
      return await b;
    }, { name: "blk" });
    const b = blk();
    await tick();
    await tick();
    expect(made.map((f) => f.state)).toEqual(["RUNNING", "PENDING"]);
    expect(b.cancel("stop the block")).toBe(true);
    expect(b.state).toBe("CANCELLED");
    expect(made.map((f) => f.state)).toEqual(["CANCELLED", "CANCELLED"]);
    expect(signal?.aborted).toBe(true);
    expect((made[0]!.exception() as TaskCancelledError).reason).toBe("its block block.000001 (blk) was cancelled");
    await expect(b).rejects.toBeInstanceOf(TaskCancelledError);
  });

  it("tasks a cancelled block's body still makes are cancelled at once: none of them runs", async () => {
    const flow = await engine();
    let ran = 0;
    const child = flow.functionTask((i: number) => (ran++, i), { name: "child" });
    const go = gate();
    const made: TaskFuture<number>[] = [];
    const body = gate();
    const blk = flow.block(async function blk() {
      await go.promise; // the body goes on after its block was cancelled (it ignores its signal)
      for (let i = 0; i < 3; i++) made.push(child(i));
      body.open();
      return 1;
    });
    const b = blk();
    b.catch(() => undefined);
    await until(() => b.state === "RUNNING");
    b.cancel("stop");
    go.open();
    await body.promise;
    for (const f of made) await expect(f).rejects.toThrow(/its block block\.\d+ \(blk\) was cancelled/);
    expect([ran, made.map((f) => f.state)]).toEqual([0, ["CANCELLED", "CANCELLED", "CANCELLED"]]);
  });

  it("a block that streams many tasks keeps only the live ones among its children", async () => {
    const flow = await engine();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    let seen = 0;
    let kept = -1;
    const streamer = flow.block(async () => {
      for (let i = 0; i < 5_000; i++) seen += await inc(i);
      kept = b._children?.length ?? 0;
      return seen;
    }, { name: "streamer" });
    const b: TaskFuture<number> = streamer();
    expect(await b).toBe((4_999 * 5_000) / 2 + 5_000);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(1_000);
  });

  it("a block that returns a future is CANCELLED, naming it, when that future is cancelled", async () => {
    const flow = await engine();
    const g = gate<number>();
    const hold = flow.functionTask(() => g.promise, { name: "hold" });
    let inner: TaskFuture<number> | undefined;
    const passOn = flow.block(() => (inner = hold()), { name: "passOn" });
    const b = passOn();
    const after = flow.functionTask((x: number) => x, { name: "after" })(b);
    await until(() => inner?.state === "RUNNING");
    expect(b.state).toBe("RUNNING");
    expect(inner!.cancel("not wanted")).toBe(true);
    expect(b.state).toBe("CANCELLED");
    const err = b.exception() as TaskCancelledError;
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err.reason).toBe("the future it returned, task.000003 (hold), was cancelled");
    await expect(b).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(after).rejects.toThrow(/dependency block\.000001 \(passOn\) was cancelled/);
  });

  it("a block's body sees its own task context", async () => {
    const flow = await engine();
    const blk = flow.block(() => {
      const ctx = taskContext();
      return `${ctx.uid} ${ctx.name} ${ctx.attempt} ${ctx.signal.aborted}`;
    }, { name: "ctx" });
    expect(await blk()).toBe("block.000001 ctx 1 false");
  });
});

describe("taskContext()", () => {
  it("works at any async depth inside a task and throws outside", async () => {
    const flow = await engine();
    const deep = flow.functionTask(async function deep() {
      await new Promise((r) => setTimeout(r, 5));
      const inner = async (): Promise<string> => {
        await Promise.resolve();
        return taskContext().uid;
      };
      const ctx = taskContext();
      return `${await inner()} ${ctx.name} ${ctx.attempt} ${ctx.signal instanceof AbortSignal}`;
    });
    expect(await deep()).toBe("task.000001 deep 1 true");
    expect(() => taskContext()).toThrow(/taskContext\(\) was called outside a task body/);
  });

  it("keeps concurrent tasks apart", async () => {
    const flow = await engine();
    const who = flow.functionTask(async (delay: number) => {
      await new Promise((r) => setTimeout(r, delay));
      return taskContext().uid;
    }, { name: "who" });
    expect(await Promise.all([who(20), who(1), who(10)])).toEqual(["task.000001", "task.000002", "task.000003"]);
  });
});
