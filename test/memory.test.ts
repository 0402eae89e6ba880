import { describe, expect, it } from "vitest";
import { WorkflowEngine, type TaskFuture } from "../lib/index.js";
import { pushPruned } from "../lib/engine/pruned.js";
import { engine, gate, tick, until } from "./helpers.js";

const gc = (): void => (globalThis as { gc?: () => void }).gc!();

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await tick();
    gc();
  }
  return ref.deref() === undefined;
}

describe("memory", () => {
  it("lets a shut-down engine go, though a task of it had an hour-long timeout, another an hour-long retry delay", async () => {
    const ref = await (async () => {
      const flow = await WorkflowEngine.create({ handleSignals: false });
      const slow = flow.functionTask(() => new Promise<number>(() => undefined), { name: "slow", timeout: 3_600_000 });
      const backoff = flow.functionTask((): number => {
        throw new Error("again later");
      }, { name: "backoff", retries: 1, retryDelay: 3_600_000 });
      for (const f of [slow(), backoff()]) f.catch(() => undefined);
      await until(() => flow.inspect().some((r) => r.reason === "BACKING_OFF") && flow.inspect().some((r) => r.state === "RUNNING"));
      await flow.shutdown();
      return new WeakRef(flow);
    })();
    expect(await collected(ref)).toBe(true);
  });

  it("dependents that ended first are not held by a dependency still running", async () => {
    const flow = await engine();
    const never = gate<number>();
    const root = flow.functionTask(() => never.promise, { name: "root" })();
    const dep = flow.functionTask((x: number, i: number) => x + i, { name: "dep" });
    const ref = (() => {
      const first = dep(root, 0);
      first.catch(() => undefined);
      first.cancel("not needed");
      return new WeakRef(first);
    })();
    for (let i = 1; i <= 200; i++) {
      const f = dep(root, i);
      f.catch(() => undefined);
      f.cancel("not needed");
    }
    expect(await collected(ref)).toBe(true);
    never.open(0);
    await root;
  });

  it("a list pruned as it grows costs O(1) a push, whatever the share of its entries still live", () => {
    for (const live of [63, 127, 1023, 1024, 4095]) {
      let looks = 0;
      const alive = new Set<number>();
      let list: number[] = [];
      // `live` entries in flight: each push ends the oldest
      for (let i = 0; i < 20_000; i++) {
        alive.add(i);
        if (alive.size > live) alive.delete(i - live);
        list = pushPruned(list, i, (x) => (looks++, !alive.has(x)));
      }
      expect(looks / 20_000, `with ${live} live`).toBeLessThan(4);
      expect(list.length).toBeLessThanOrEqual(4 * live + 64);
    }
  });

  it("gc is exposed to the tests", () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe("function");
  });

  it("drops a finished task's arguments, and its result once dependents took it and the user let go", async () => {
    const flow = await engine();
    let argRef!: WeakRef<object>;
    let resultRef!: WeakRef<object>;
    const make = flow.functionTask(() => {
      const big = { payload: new Array(10_000).fill(1) };
      resultRef = new WeakRef(big);
      return big;
    }, { name: "make" });
    const size = flow.functionTask((x: { payload: number[] }) => x.payload.length, { name: "size" });
    const consume = flow.functionTask((arg: { blob: number[] }) => arg.blob.length, { name: "consume" });
    await (async () => {
      const arg = { blob: new Array(10_000).fill(2) };
      argRef = new WeakRef(arg);
      let producer: TaskFuture<{ payload: number[] }> | null = make();
      expect(await size(producer)).toBe(10_000);
      expect(await consume(arg)).toBe(10_000);
      producer = null;
    })();
    expect(await collected(argRef)).toBe(true);
    expect(await collected(resultRef)).toBe(true);
    expect(flow.pending()).toEqual([]);
  });

  it("keeps a result while the user holds the future", async () => {
    const flow = await engine();
    const make = flow.functionTask(() => ({ v: 1 }), { name: "make" });
    const f = make();
    const ref = new WeakRef(await f);
    expect(await collected(ref)).toBe(false);
    expect(f.result()).toEqual({ v: 1 });
  });
});
