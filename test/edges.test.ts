import { describe, expect, it } from "vitest";
import { DependencyFailureError, TaskCancelledError, optional, settled, type Settled } from "../lib/index.js";
import { engine, gate } from "./helpers.js";

describe("per-edge policies: settled, optional", () => {
  const boom = (m: string): number => {
    throw new RangeError(m);
  };

  it("a dependency that had already failed when the call was made is handed over, not propagated", async () => {
    const flow = await engine();
    const f = flow.functionTask(boom)("early");
    await f.catch(() => undefined);
    const take = flow.functionTask((s: Settled<number>, o: number | string) => [s.status, o]);
    expect(await take(settled(f), optional(f, "fb"))).toEqual(["rejected", "fb"]);
  });

  it("the same future passed plainly too still fails the task: the plain edge keeps its rule", async () => {
    const flow = await engine();
    const f = flow.functionTask(boom)("x");
    const take = flow.functionTask((a: number, b: number | null) => [a, b]);
    const r = take(f, optional(f, null));
    await expect(r).rejects.toBeInstanceOf(DependencyFailureError);
  });

  it("cancellation does not cross a policy edge, and the task runs only once its dependency has ended", async () => {
    const flow = await engine();
    const hold = gate<number>();
    const slow = flow.functionTask(() => hold.promise)();
    const seen: string[] = [];
    const take = flow.functionTask((s: Settled<number>) => {
      seen.push(s.status);
      return s.status === "rejected" ? (s.reason as Error).name : "ok";
    });
    const r = take(settled(slow));
    const strict = flow.functionTask((x: number) => x)(slow);
    await Promise.resolve();
    expect(seen).toEqual([]); // waits while the dependency runs
    slow.cancel("enough");
    expect(await r).toBe("TaskCancelledError");
    expect(strict.state).toBe("CANCELLED");
    await expect(strict).rejects.toBeInstanceOf(TaskCancelledError);
  });

  it("a fulfilled dependency hands its value; Map and class instances in the arguments pass untouched", async () => {
    const flow = await engine();
    const one = flow.functionTask(() => 1)();
    const m = new Map([["k", 1]]);
    const take = flow.functionTask((s: Settled<number>, o: number, map: Map<string, number>) => [s, o, map === m]);
    expect(await take(settled(one), optional(one, 0), m)).toEqual([{ status: "fulfilled", value: 1 }, 1, true]);
  });

  it("a failure behind a policy edge is not hidden: the dependency itself still fails for whoever awaits it", async () => {
    const flow = await engine();
    const f = flow.functionTask(boom)("seen");
    const take = flow.functionTask((o: number) => o);
    expect(await take(optional(f, 7))).toBe(7);
    await expect(f).rejects.toThrow("seen");
  });

  it("settled() and optional() refuse what is not a future", () => {
    expect(() => settled(5 as never)).toThrow(/settled\(\) expects a TaskFuture, got number/);
    expect(() => optional(null as never, 1)).toThrow(/optional\(\) expects a TaskFuture, got null/);
  });
});
