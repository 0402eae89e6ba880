import { describe, expect, it } from "vitest";
import { DependencyFailureError, InvalidTaskError, TaskCancelledError, TaskFuture } from "../lib/index.js";
import { engine, gate, tick } from "./helpers.js";

describe("implicit dependency graph", () => {
  it("replaces futures at any depth of plain arrays and objects, leaving other objects untouched", async () => {
    const flow = await engine();
    const num = flow.functionTask((x: number) => x, { name: "num" });
    const str = flow.functionTask((s: string) => s, { name: "str" });
    const map = new Map([["k", 1]]);
    const buf = Buffer.from("hi");
    class Box {
      constructor(readonly inner: unknown) {}
    }
    const opaque = new Box(num(99));
    const input = { a: num(1), list: [num(2), { deep: [[num(3)]], s: str("x") }], plain: 4, map, buf, opaque };
    const seen = flow.functionTask((x: typeof input) => x, { name: "seen" });
    const out = await seen(input);
    expect(out.a).toBe(1);
    expect(out.list).toEqual([2, { deep: [[3]], s: "x" }]);
    expect(out.plain).toBe(4);
    expect(out.map).toBe(map);
    expect(out.buf).toBe(buf);
    expect(out.opaque).toBe(opaque);
    expect(opaque.inner).toBeInstanceOf(TaskFuture);
    // the caller's structure is never mutated
    expect(input.a).toBeInstanceOf(TaskFuture);
    expect((input.list[1] as { deep: unknown[][] }).deep[0]![0]).toBeInstanceOf(TaskFuture);
  });

  it("keeps the identity of containers without futures", async () => {
    const flow = await engine();
    const num = flow.functionTask((x: number) => x, { name: "num" });
    const shared = { big: [1, 2, 3] };
    const pair = flow.functionTask((a: number, o: { big: number[] }) => o, { name: "pair" });
    expect(await pair(num(1), shared)).toBe(shared);
  });

  it("a null-prototype object is plain", async () => {
    const flow = await engine();
    const num = flow.functionTask((x: number) => x, { name: "num" });
    const o = Object.create(null) as { v: unknown };
    o.v = num(5);
    const take = flow.functionTask((x: { v: number }) => x.v, { name: "take" });
    expect(await take(o as { v: number })).toBe(5);
  });

  it("counts a future used twice as two edges and still runs once", async () => {
    const flow = await engine();
    let runs = 0;
    const one = flow.functionTask(() => ++runs, { name: "one" });
    const add = flow.functionTask((a: number, b: number) => a + b, { name: "add" });
    const x = one();
    expect(await add(x, x)).toBe(2);
    expect(runs).toBe(1);
  });

  it("accepts a dependency that already finished", async () => {
    const flow = await engine();
    const one = flow.functionTask(() => 1, { name: "one" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const a = one();
    await a;
    expect(await inc(a)).toBe(2);
  });

  it("runs a task only after all its dependencies, each once", async () => {
    const flow = await engine();
    const order: string[] = [];
    const step = flow.functionTask(async (name: string, ...deps: string[]) => {
      order.push(name);
      return name + deps.join("");
    }, { name: "step" });
    const a = step("a");
    const b = step("b", a);
    const c = step("c", a);
    const d = step("d", b, c);
    expect(await d).toBe("dbaca");
    expect(order.indexOf("a")).toBeLessThan(order.indexOf("b"));
    expect(order.indexOf("b")).toBeLessThan(order.indexOf("d"));
    expect(order.indexOf("c")).toBeLessThan(order.indexOf("d"));
    expect(order).toHaveLength(4);
  });

  it("a dependent of a failed task never runs and fails with DependencyFailureError", async () => {
    const flow = await engine();
    const root = new TypeError("root");
    let ran = false;
    const bad = flow.functionTask((): number => {
      throw root;
    }, { name: "bad" });
    const next = flow.functionTask((x: number) => {
      ran = true;
      return x;
    }, { name: "next" });
    const f = next(bad());
    const err = await f.catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(f.state).toBe("FAILED");
    expect(err).toBeInstanceOf(DependencyFailureError);
    const dfe = err as DependencyFailureError;
    expect(dfe.name).toBe("DependencyFailureError");
    expect(dfe.failedDependencies).toEqual(["bad"]);
    expect(dfe.rootCause).toBe(root);
    expect(dfe.cause).toBe(root);
    expect(dfe.taskName).toBe("next");
    expect(dfe.message).toMatch(/task\.000002 \(next\) did not run: dependency task\.000001 \(bad\) failed: TypeError: root/);
  });

  it("keeps the root cause at the end of a long chain, never nesting DependencyFailureErrors", async () => {
    const flow = await engine();
    const root = new Error("deep root");
    const bad = flow.functionTask((): number => {
      throw root;
    }, { name: "bad" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    let f = inc(bad());
    for (let i = 0; i < 5_000; i++) f = inc(f);
    const err = (await f.catch((e: unknown) => e)) as DependencyFailureError;
    expect(err).toBeInstanceOf(DependencyFailureError);
    expect(err.rootCause).toBe(root);
    expect(err.cause).toBeInstanceOf(DependencyFailureError);
    expect((err.cause as DependencyFailureError).rootCause).toBe(root);
  });

  it("a task given an already failed dependency is PENDING when the wrapper returns, then FAILED", async () => {
    const flow = await engine();
    const bad = flow.functionTask((): number => {
      throw new Error("x");
    }, { name: "bad" });
    const b = bad();
    await b.catch(() => undefined);
    const f = flow.functionTask((x: number) => x, { name: "late" })(b);
    expect(f.state).toBe("PENDING");
    await expect(f).rejects.toBeInstanceOf(DependencyFailureError);
  });

  it("a task given an already failed or cancelled dependency never runs, even when another of its inputs is ready at once", async () => {
    const flow = await engine();
    const bad = flow.functionTask((): number => {
      throw new Error("x");
    }, { name: "bad" })();
    await bad.catch(() => undefined);
    const one = flow.functionTask((x: number) => x, { name: "one" });
    let ran = 0;
    const use = flow.functionTask((a: number, b: unknown) => (ran++, [a, b]), { name: "use" });
    // `one(1)` is ready and its flush queued before `use` is made: its synchronous body ends first
    const failed = use(one(1), bad);
    await expect(failed).rejects.toBeInstanceOf(DependencyFailureError);
    const gone = one(2);
    gone.cancel("gone");
    const cancelled = use(one(3), { deep: [{ in: [gone] }] });
    await expect(cancelled).rejects.toBeInstanceOf(TaskCancelledError);
    expect([ran, failed.state, cancelled.state]).toEqual([0, "FAILED", "CANCELLED"]);
  });

  it("dependents of a cancelled task are CANCELLED and never run", async () => {
    const flow = await engine();
    const g = gate<number>();
    let ran = false;
    const wait = flow.functionTask(() => g.promise, { name: "wait" });
    const after = flow.functionTask((x: number) => {
      ran = true;
      return x;
    }, { name: "after" });
    const a = wait();
    const b = after(a);
    const c = after(b);
    await tick();
    a.cancel("enough");
    expect(b.state).toBe("CANCELLED");
    expect(c.state).toBe("CANCELLED");
    const err = b.exception() as TaskCancelledError;
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err.reason).toMatch(/dependency task\.000001 \(wait\) was cancelled/);
    g.open(1);
    await tick();
    expect(ran).toBe(false);
    await expect(c).rejects.toBeInstanceOf(TaskCancelledError);
  });

  it("refuses a future of another engine, naming it", async () => {
    const a = await engine();
    const b = await engine();
    const one = a.functionTask(() => 1, { name: "one" });
    const id = b.functionTask((x: number) => x, { name: "id" });
    const x = one();
    expect(() => id(x)).toThrow(InvalidTaskError);
    expect(() => id(x)).toThrow(/argument task\.000001 \(one\) is a future of another engine/);
    await x;
  });

  it("a refused call leaves no edge behind on the futures it named before the bad one", async () => {
    const a = await engine();
    const b = await engine();
    const g = gate<number>();
    const wait = b.functionTask(() => g.promise, { name: "wait" });
    const foreign = a.functionTask(() => 1, { name: "foreign" })();
    const pair = b.functionTask((x: number, y: number) => x + y, { name: "pair" });
    const w = wait();
    const cyc: { self?: unknown; w: unknown } = { w };
    cyc.self = cyc;
    expect(() => pair(w, foreign)).toThrow(/is a future of another engine/);
    expect(() => pair(w, [w, cyc] as unknown as number)).toThrow(/a future nested deeper than 1000 levels \(or inside a cyclic structure\)/);
    expect(w._dependents).toBeNull();
    const ok = pair(w, 1);
    expect(w._dependents).toEqual([ok]);
    g.open(2);
    expect(await ok).toBe(3);
    await foreign;
  });

  it("takes cyclic and very deep plain arguments as they are; refuses a future it could not put in place there", async () => {
    const flow = await engine();
    const id = flow.functionTask((x: unknown) => x, { name: "id" });
    const root: { name: string; children: { parent: unknown }[] } = { name: "root", children: [] };
    root.children.push({ parent: root });
    expect(await id(root)).toBe(root);
    // two ways back to itself: the walk does not follow either (following both from every level took 2^1000 steps)
    const twice: { x?: unknown; y?: unknown } = {};
    twice.x = twice;
    twice.y = twice;
    expect(await id(twice)).toBe(twice);
    let list: { next: unknown } | null = null;
    for (let i = 0; i < 100_000; i++) list = { next: list };
    expect(await id(list)).toBe(list);
    const cyc: { self?: unknown; f: unknown } = { f: id(1) };
    cyc.self = cyc;
    expect(() => id(cyc)).toThrow(/Task "id": a future nested deeper than 1000 levels \(or inside a cyclic structure\) cannot be resolved: pass it nearer the top/);
  });

  it("runs a 10,000-task graph (fan-out, chain, fan-in) to the right answer", async () => {
    const flow = await engine();
    const leaf = flow.functionTask((i: number) => i, { name: "leaf" });
    const inc = flow.functionTask(async (x: number) => x + 1, { name: "inc" });
    const sum = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: "sum" });
    const leaves = Array.from({ length: 5_000 }, (_, i) => inc(leaf(i)));
    expect(await sum(leaves)).toBe((4_999 * 5_000) / 2 + 5_000);
    let chain = leaf(0);
    for (let i = 0; i < 10_000; i++) chain = inc(chain);
    expect(await chain).toBe(10_000);
  });

  it("graph() shows live tasks and history with states and dependency edges", async () => {
    const flow = await engine({ history: 3 });
    const one = flow.functionTask(() => 1, { name: "one" });
    const g = gate<number>();
    const hold = flow.functionTask((x: number) => g.promise.then((v) => v + x), { name: "hold" });
    const a = one();
    const b = hold(a);
    await tick();
    let graph = flow.graph();
    expect(graph.nodes().sort()).toEqual(["task.000001", "task.000002"]);
    expect(graph.node("task.000001")).toEqual({ name: "one", state: "DONE", kind: "function" });
    expect(graph.node("task.000002")).toEqual({ name: "hold", state: "RUNNING", kind: "function" });
    expect(graph.edges()).toEqual([{ v: "task.000001", w: "task.000002" }]);
    g.open(1);
    await b;
    for (let i = 0; i < 3; i++) await one();
    graph = flow.graph();
    // history keeps only the last 3
    expect(graph.nodes().sort()).toEqual(["task.000003", "task.000004", "task.000005"]);
    expect(flow.pending()).toEqual([]);
  });

  it("history: 0 keeps no finished task", async () => {
    const flow = await engine({ history: 0 });
    await flow.functionTask(() => 1, { name: "one" })();
    expect(flow.graph().nodeCount()).toBe(0);
  });
});
