// Type-level contract, checked by the type-checker under `npm test` (vitest typecheck mode, see vitest.config.ts):
// an `expectTypeOf` that does not hold, or a `@ts-expect-error` line that compiles, fails its test.
import { describe, expectTypeOf, it } from "vitest";
import { QueueBackend, TaskFuture, optional, settled, startQueueWorker, type Edge, type Input, type QueueWorker, type Settled, type TaskState, type TaskWrapper, type WorkflowEngine } from "../lib/index.js";
import { Pair } from "./fixtures/pair.js";

declare const flow: WorkflowEngine;

interface Point {
  x: number;
  y: number;
}

describe("task wrappers", () => {
  const times = flow.functionTask(async (s: string, k: number) => Number(s) * k);
  const echo = flow.executableTask((n: number) => `/bin/echo ${n}`);

  it("return TaskFuture<Awaited<R>>; executables resolve to their stdout", () => {
    const ls = flow.executableTask((dir: string) => ["ls", "-1", dir]);
    const blk = flow.block(async (x: number) => times(echo(x), 2));
    expectTypeOf(echo).returns.toEqualTypeOf<TaskFuture<string>>();
    expectTypeOf(ls).returns.toEqualTypeOf<TaskFuture<string>>();
    expectTypeOf(times).returns.toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(blk).returns.toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(times("1", 1).state).toEqualTypeOf<TaskState>();
  });

  it("take T | TaskFuture<T> for each parameter, also inside arrays, objects and interfaces", () => {
    const total = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0));
    const cfg = flow.functionTask((o: { a: number; nested: { b: string[] } }) => o.a);
    const norm = flow.functionTask((p: Point, tags: Map<string, number>) => Math.hypot(p.x, p.y) + tags.size);
    expectTypeOf(times(echo(5), 4)).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(total([times("1", 1), 2])).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(cfg({ a: times("1", 1), nested: { b: [echo(1), "x"] } })).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(norm({ x: times("1", 1), y: 2 }, new Map())).toEqualTypeOf<TaskFuture<number>>();
    // @ts-expect-error a future of the wrong type inside an interface
    norm({ x: echo(1), y: 2 }, new Map());
  });

  it("take a future of one member of a union parameter (a future of a subtype is a future of its supertype)", () => {
    const orNull = flow.functionTask((x: number | null, xs: (string | number)[]) => x ?? xs.length);
    expectTypeOf(orNull(times("1", 1), [echo(1), times("1", 1)])).toEqualTypeOf<TaskFuture<number>>();
    const wide: TaskFuture<number | string> = times("1", 1);
    expectTypeOf(wide).toEqualTypeOf<TaskFuture<string | number>>();
    // @ts-expect-error a future of number | string where a number (or null) is taken
    orNull(wide, []);
  });

  it("follow recursive type aliases (no TS2589), futures at any depth of them", () => {
    type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
    const dump = flow.functionTask((x: Json) => JSON.stringify(x));
    const str = flow.functionTask((s: string) => s)("a");
    expectTypeOf(dump({ a: [1, "x", { b: str, c: [[str, null]] }] })).toEqualTypeOf<TaskFuture<string>>();
    expectTypeOf(dump([str, [str]])).toEqualTypeOf<TaskFuture<string>>();
    // @ts-expect-error a future of the wrong type deep inside
    dump({ a: [{ b: flow.functionTask(() => undefined)() }] });
    interface Tree {
      label: string;
      kids: Tree[];
    }
    const count = flow.functionTask((t: Tree): number => t.kids.length);
    count({ label: str, kids: [{ label: "b", kids: [] }] });
    // @ts-expect-error a number where a label is expected, two levels down
    count({ label: "a", kids: [{ label: 1, kids: [] }] });
  });

  it("take a class-type parameter whole or as a future, never with futures inside (the scan does not enter instances)", () => {
    const num = flow.functionTask(() => 1)();
    const first = flow.functionTask((p: Pair<number>) => p.a);
    expectTypeOf(first(new Pair(1))).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(first(flow.functionTask(() => new Pair(2))())).toEqualTypeOf<TaskFuture<number>>();
    // @ts-expect-error the body would receive a Pair holding the future, unresolved
    first(new Pair(num));
    // @ts-expect-error nor an object with a future where a Pair is taken
    first({ a: num });
    const dated = flow.functionTask((d: Date, m: Map<string, number>, b: Uint8Array, r: RegExp) => d.getTime() + m.size + b.length + r.source.length);
    expectTypeOf(dated).parameters.toEqualTypeOf<[Input<Date>, Input<Map<string, number>>, Input<Uint8Array>, Input<RegExp>]>();
    expectTypeOf<Input<Date>>().toEqualTypeOf<Date | TaskFuture<Date> | Edge<Date>>();
    expectTypeOf<Input<Map<string, number>>>().toEqualTypeOf<Map<string, number> | TaskFuture<Map<string, number>> | Edge<Map<string, number>>>();
    expectTypeOf<Input<Uint8Array>>().toEqualTypeOf<Uint8Array | TaskFuture<Uint8Array> | Edge<Uint8Array>>();
    expectTypeOf<Input<Pair<number>>>().toEqualTypeOf<Pair<number> | TaskFuture<Pair<number>> | Edge<Pair<number>>>();
    expectTypeOf(dated(new Date(), new Map(), new Uint8Array(1), /x/)).toEqualTypeOf<TaskFuture<number>>();
  });

  it("refuse what does not fit: wrong types, wrong futures, missing arguments", () => {
    // @ts-expect-error a number where a string is expected
    times(5, 4);
    // @ts-expect-error a future of the wrong type
    times(times("1", 1), 4);
    // @ts-expect-error too few arguments
    times("1");
    // @ts-expect-error an executable must return a command (string or argv), not a number
    flow.executableTask(() => 42);
  });

  it("futures come from task wrappers only", () => {
    // @ts-expect-error the constructor is private
    new TaskFuture();
  });
});

// What the wrapper types must keep taking: each was refused by an attempt to close a gap in them
// (branch `types`, not merged), and these lines keep the next attempt from doing it again.
describe("task wrappers keep taking", () => {
  const num = flow.functionTask(() => 1);

  it("a type parameter forwarded to a wrapper taking it, constrained or not", () => {
    // Why a future still passes for an object parameter it fits ({ name: string }, PromiseLike<number>):
    // for `w(x)` below to compile, Input<T> must hold T itself, and T = { name: string } holds a future.
    function go<T>(w: TaskWrapper<[T], number>, x: T): TaskFuture<number> {
      return w(x);
    }
    function goObj<T extends object>(w: TaskWrapper<[T], number>, x: T): TaskFuture<number> {
      return w(x);
    }
    function goStr<T extends string>(w: TaskWrapper<[T], number>, x: T): TaskFuture<number> {
      return w(x);
    }
    function spread<A extends unknown[], R>(w: TaskWrapper<A, R>, ...args: A): TaskFuture<R> {
      return w(...args);
    }
    const len = flow.functionTask((s: string) => s.length);
    expectTypeOf(go(len, "a")).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(goObj(flow.functionTask((o: { n: number }) => o.n), { n: 1 })).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(goStr(len, "a")).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(spread(len, "a")).toEqualTypeOf<TaskFuture<number>>();
  });

  it("a future for a data member of a plain object that has methods or function members", () => {
    interface Job {
      id: number;
      describe(): string;
    }
    const runJob = flow.functionTask((j: Job) => j.id);
    expectTypeOf(runJob({ id: num(), describe: () => "x" })).toEqualTypeOf<TaskFuture<number>>();
    const render = flow.functionTask((o: { n: number; fmt: (x: number) => string }) => o.fmt(o.n));
    expectTypeOf(render({ n: num(), fmt: (x) => String(x) })).toEqualTypeOf<TaskFuture<string>>();
  });

  it("futures inside records and recursive aliases, and a future of a member of a union", () => {
    type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
    const j = flow.functionTask((x: Json) => x);
    expectTypeOf(j({ a: [num(), { b: num() }] })).toEqualTypeOf<TaskFuture<Json>>();
    const rec = flow.functionTask((x: Record<string, number>) => Object.keys(x).length);
    expectTypeOf(rec({ a: num() })).toEqualTypeOf<TaskFuture<number>>();
    const orNull = flow.functionTask((x: number | null) => x);
    expectTypeOf(orNull(num())).toEqualTypeOf<TaskFuture<number | null>>();
  });
});

describe("awaiting", () => {
  it("gives the function's result type, as does result()", () => {
    const f = flow.functionTask(() => ({ ok: true as const }))();
    expectTypeOf<Awaited<typeof f>>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf(f.result()).toEqualTypeOf<{ ok: true }>();
    // @ts-expect-error the result is not a string
    expectTypeOf<Awaited<typeof f>>().toEqualTypeOf<string>();
  });
});

describe("queue backend and worker options", () => {
  it("are typed", () => {
    new QueueBackend({ connection: "redis://127.0.0.1:6379", queue: "q" });
    new QueueBackend({ connection: { host: "h", port: 1, password: "p", db: 0 } });
    // @ts-expect-error tls is a boolean or the PEM material
    new QueueBackend({ connection: "rediss://h", tls: "yes" });
    // @ts-expect-error a port is a number
    new QueueBackend({ connection: { port: "6379" } });
    expectTypeOf(startQueueWorker({ connection: "redis://h" })).resolves.toEqualTypeOf<QueueWorker>();
    expectTypeOf<QueueWorker["processed"]>().toEqualTypeOf<number>();
  });
});

describe("per-edge policies", () => {
  it("settled/optional hand Settled<T> and T | F, and the parameter's type is checked", () => {
    const num = flow.functionTask((x: number) => x)(1);
    const str = flow.functionTask((s: string) => s)("a");
    expectTypeOf(settled(num)).toEqualTypeOf<Edge<Settled<number>>>();
    expectTypeOf(optional(num, "none")).toEqualTypeOf<Edge<number | string>>();
    const both = flow.functionTask((a: Settled<number>, b: number | null) => (a.status === "fulfilled" ? a.value : b));
    expectTypeOf(both(settled(num), optional(num, null))).toEqualTypeOf<TaskFuture<number | null>>();
    const nested = flow.functionTask((o: { xs: Settled<string>[]; y: { z: string | undefined } }) => o.xs.length);
    nested({ xs: [settled(str), { status: "rejected", reason: 1 }], y: { z: optional(str, undefined) } });
    // @ts-expect-error settled hands a Settled<number>, not a number
    both(num, optional(num, null));
    // @ts-expect-error a Settled<string> where a Settled<number> is expected
    both(settled(str), null);
    // @ts-expect-error the fallback's type must fit the parameter too
    both(settled(num), optional(num, "none"));
    // @ts-expect-error a plain future of the right value type still fails a Settled parameter
    nested({ xs: [str], y: { z: "a" } });
    // @ts-expect-error settled takes a future, not a value
    settled(5);
  });
});
