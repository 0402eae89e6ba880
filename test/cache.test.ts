import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { InvalidOptionsError, InvalidTaskError, LocalBackend, ThreadBackend, WorkflowEngine } from "../lib/index.js";
import { stableHash } from "../lib/engine/hash.js";
import { captureStderr, engine, gate, until } from "./helpers.js";

describe("stable structural hash", () => {
  it("ignores key order and Map/Set insertion order; tells types and values apart", () => {
    expect(stableHash([{ a: 1, b: [2, { c: "x" }] }])).toBe(stableHash([{ b: [2, { c: "x" }], a: 1 }]));
    expect(stableHash(new Map([["a", 1], ["b", 2]]))).toBe(stableHash(new Map([["b", 2], ["a", 1]])));
    expect(stableHash(new Set([1, 2]))).toBe(stableHash(new Set([2, 1])));
    expect(stableHash(new Date(5))).toBe(stableHash(new Date(5)));
    const distinct = [1, "1", 1n, -0, 0, NaN, null, undefined, true, [1], { 0: 1 }, new Date(1), new Uint8Array([1]), new Int8Array([1]), new Map([[1, 1]]), new Set([1]), ["a", "b"], ["ab"], { a: undefined }, {}];
    const hashes = distinct.map((x) => stableHash(x));
    expect(new Set(hashes).size).toBe(distinct.length);
  });

  it("is null for what has no stable content: functions, symbols, class instances, cycles", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const x of [() => 1, Symbol("s"), new (class Point {})(), cyclic, { deep: [new WeakMap()] }]) expect(stableHash([x])).toBeNull();
    const shared = { a: 1 };
    expect(stableHash([shared, shared])).not.toBeNull(); // reached twice is not a cycle
  });
});

describe("cache: true", () => {
  it("a call with the same identity and inputs reuses the first result; a future's value counts as that value", async () => {
    const flow = await engine();
    let runs = 0;
    const score = flow.functionTask((o: { a: number; b: number }) => (runs++, o.a * 10 + o.b), { cache: true });
    const one = flow.functionTask(() => 1);
    expect(await score({ a: 1, b: 2 })).toBe(12);
    expect(await score({ b: 2, a: one() })).toBe(12);
    expect(runs).toBe(1);
    expect(await score({ a: 2, b: 2 })).toBe(22);
    expect(runs).toBe(2);
  });

  it("the validated inputs are what is hashed: a default filled in by `inputs` makes two calls one", async () => {
    const flow = await engine();
    let runs = 0;
    const inc = flow.functionTask((x: number, by: number) => (runs++, x + by), { cache: true, inputs: z.tuple([z.number(), z.number().default(1)]) });
    const one = flow.functionTask(() => 1);
    expect(await inc(1)).toBe(2);
    expect(await inc(one(), 1)).toBe(2);
    expect(runs).toBe(1);
  });

  it("identical calls still running share one execution", async () => {
    const flow = await engine();
    const hold = gate<number>();
    let runs = 0;
    const slow = flow.functionTask((x: number) => (runs++, hold.promise.then((v) => v + x)), { cache: true });
    const a = slow(1);
    const b = slow(1);
    await until(() => runs > 0);
    hold.open(41);
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(runs).toBe(1);
  });

  it("failures are not cached: the next identical call runs again; a running call's failure reaches those sharing it", async () => {
    const flow = await engine();
    let runs = 0;
    const flaky = flow.functionTask(async (x: number) => {
      runs++;
      await Promise.resolve();
      if (runs <= 2) throw new RangeError(`no ${x}`);
      return x;
    }, { cache: true });
    const [a, b] = [flaky(1), flaky(1)];
    await expect(a).rejects.toThrow("no 1");
    await expect(b).rejects.toThrow("no 1");
    expect(runs).toBe(1);
    await expect(flaky(1)).rejects.toThrow("no 1");
    expect(await flaky(1)).toBe(1);
    expect(runs).toBe(3);
  });

  it("a cancelled shared execution does not cancel the others: one of them runs it", async () => {
    const flow = await engine();
    const hold = gate<number>();
    let runs = 0;
    const slow = flow.functionTask((x: number) => (runs++, hold.promise.then(() => x)), { cache: true });
    const a = slow(7);
    const b = slow(7);
    await until(() => runs === 1);
    a.cancel();
    await until(() => runs === 2);
    hold.open(0);
    expect(await b).toBe(7);
  });

  it("shutdown cancels the calls sharing an execution: none of them starts it again", async () => {
    const flow = await engine();
    let runs = 0;
    const slow = flow.functionTask((_x: number) => (runs++, new Promise<number>(() => undefined)), { name: "slow", cache: true });
    const calls = [slow(2), slow(2), slow(2), slow(2)];
    for (const f of calls) f.catch(() => undefined);
    await until(() => runs === 1);
    await flow.shutdown();
    expect([runs, calls.map((f) => f.state)]).toEqual([1, ["CANCELLED", "CANCELLED", "CANCELLED", "CANCELLED"]]);
  });

  it("executables of one name that differ in cwd or env are not one: each keeps its own result", async () => {
    const flow = await engine();
    const where = (cwd: string, env: Record<string, string>) => flow.executableTask(() => 'pwd; echo "$X"', { name: "where", cwd, env, cache: true });
    expect(await Promise.all([where("/tmp", { X: "one" })(), where("/", { X: "one" })(), where("/", { X: "two" })(), where("/", { X: "two" })()])).toEqual([
      "/tmp\none\n",
      "/\none\n",
      "/\ntwo\n",
      "/\ntwo\n",
    ]);
  });

  it("functions of one name and source run from different modules are not one: each keeps its own result", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 1 })] });
    // what runs is the module's export of that name, on a thread; the function here only names it
    const whoAmI = (): unknown => undefined;
    const from = (file: string) => flow.functionTask(whoAmI, { name: "whoAmI", backend: "threads", module: new URL(`./fixtures/${file}`, import.meta.url), cache: true });
    const [threads, contract] = [await from("thread-tasks.ts")(), await from("contract-tasks.ts")()];
    expect(threads).toMatch(/^task\.\d+ whoAmI 1$/);
    expect(contract).toEqual({ attempt: 1, aborted: false });
    await flow.shutdown();
  });

  it("two bindings of one function (one name, one unreadable source) keep their own results", async () => {
    const flow = await engine();
    const times = (k: number, x: number): number => k * x;
    const [double, triple] = [flow.functionTask(times.bind(null, 2), { cache: true }), flow.functionTask(times.bind(null, 3), { cache: true })];
    expect([await double(5), await triple(5), await double(5)]).toEqual([10, 15, 10]);
  });

  it("unhashable inputs bypass the cache, with a debug log", async () => {
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "debug");
    const err = captureStderr();
    const flow = await engine();
    let runs = 0;
    class Box {
      constructor(readonly v: number) {}
    }
    const unbox = flow.functionTask((b: Box) => (runs++, b.v), { cache: true });
    const box = new Box(3);
    expect(await unbox(box)).toBe(3);
    expect(await unbox(box)).toBe(3);
    expect(runs).toBe(2);
    expect(err.text()).toMatch(/cannot be hashed stably/);
    vi.unstubAllEnvs();
  });

  it("new options are validated at definition", async () => {
    const flow = await engine();
    expect(() => flow.functionTask(() => 1, { cache: "yes" as never })).toThrow(InvalidTaskError);
    expect(() => flow.functionTask(() => 1, { version: "" })).toThrow(/option `version`/);
    expect(() => flow.executableTask(() => "true", { checkpoint: 1 as never })).toThrow(/option `checkpoint`/);
    await expect(WorkflowEngine.create({ checkpoint: 5 as never })).rejects.toThrow(InvalidOptionsError);
    await expect(WorkflowEngine.create({ checkpoint: { path: "x", extra: 1 } as never })).rejects.toThrow(/unknown option `checkpoint\.extra`$/);
    // inside the union of a path, an object and false, the object's keys are the ones a typo is held against
    await expect(WorkflowEngine.create({ checkpoint: { path: "x", synk: true } as never })).rejects.toThrow(/unknown option `checkpoint\.synk` \(did you mean `checkpoint\.sync`\?\)$/);
  });
});
