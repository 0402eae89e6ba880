import { describe, expect, it } from "vitest";
import type { TaskFuture } from "../lib/index.js";
import { engine, tick } from "./helpers.js";

const gc = (): void => (globalThis as { gc?: () => void }).gc!();

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await tick();
    gc();
  }
  return ref.deref() === undefined;
}

describe("memory", () => {
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
