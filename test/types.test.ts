// Type-level contract: checked by `npm run lint` (tsc over test/), run as a no-op by vitest.
import { describe, expectTypeOf, it } from "vitest";
import { QueueBackend, TaskFuture, startQueueWorker, type QueueWorker, type TaskState, type WorkflowEngine } from "../lib/index.js";

declare const flow: WorkflowEngine;

// The bodies below are only type-checked: they are never called.
function wrappers(): void {
    const times = flow.functionTask(async (s: string, k: number) => Number(s) * k);
    const echo = flow.executableTask((n: number) => `/bin/echo ${n}`);
    const ls = flow.executableTask((dir: string) => ["ls", "-1", dir]);
    const total = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0));
    const cfg = flow.functionTask((o: { a: number; nested: { b: string[] } }) => o.a);
    const blk = flow.block(async (x: number) => times(echo(x), 2));

    expectTypeOf(echo).returns.toEqualTypeOf<TaskFuture<string>>();
    expectTypeOf(ls).returns.toEqualTypeOf<TaskFuture<string>>();
    expectTypeOf(times).returns.toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(blk).returns.toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(times(echo(5), 4)).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(total([times("1", 1), 2])).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(cfg({ a: times("1", 1), nested: { b: [echo(1), "x"] } })).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(times("1", 1).state).toEqualTypeOf<TaskState>();

    interface Point {
      x: number;
      y: number;
    }
    const norm = flow.functionTask((p: Point, tags: Map<string, number>) => Math.hypot(p.x, p.y) + tags.size);
    expectTypeOf(norm({ x: times("1", 1), y: 2 }, new Map())).toEqualTypeOf<TaskFuture<number>>();
    // @ts-expect-error a future of the wrong type inside an interface
    norm({ x: echo(1), y: 2 }, new Map());

    // @ts-expect-error futures come from task wrappers only
    new TaskFuture();

    // @ts-expect-error a number where a string is expected
    times(5, 4);
    // @ts-expect-error a future of the wrong type
    times(times("1", 1), 4);
    // @ts-expect-error too few arguments
    times("1");
}

function awaiting(): void {
    const f = flow.functionTask(() => ({ ok: true as const }))();
    expectTypeOf<Awaited<typeof f>>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf(f.result()).toEqualTypeOf<{ ok: true }>();
}

function queue(): void {
  new QueueBackend({ connection: "redis://127.0.0.1:6379", queue: "q" });
  new QueueBackend({ connection: { host: "h", port: 1, password: "p", db: 0 } });
  // @ts-expect-error tls is a boolean or the PEM material
  new QueueBackend({ connection: "rediss://h", tls: "yes" });
  // @ts-expect-error a port is a number
  new QueueBackend({ connection: { port: "6379" } });
  expectTypeOf(startQueueWorker({ connection: "redis://h" })).resolves.toEqualTypeOf<QueueWorker>();
  expectTypeOf<QueueWorker["processed"]>().toEqualTypeOf<number>();
}

describe("types (checked by tsc in npm run lint)", () => {
  it("wrappers keep parameter types widened to T | TaskFuture<T> and return TaskFuture<Awaited<R>>", () => {
    expectTypeOf(wrappers).toBeFunction();
  });
  it("awaiting a future gives the function's result type", () => {
    expectTypeOf(awaiting).toBeFunction();
  });
  it("queue backend and worker options are typed", () => {
    expectTypeOf(queue).toBeFunction();
  });
});
