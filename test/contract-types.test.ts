// Type-level contract of `inputs`: checked by `npm run lint` (tsc over test/), run as a no-op by vitest.
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type { TaskFuture, WorkflowEngine } from "../lib/index.js";

declare const flow: WorkflowEngine;

// The bodies below are only type-checked: they are never called.
function wrappers(): void {
  const add = flow.functionTask(async (x: number, y: number) => x + y, { inputs: z.tuple([z.number().int(), z.number().int().default(1)]) });
  expectTypeOf(add(1)).toEqualTypeOf<TaskFuture<number>>();
  expectTypeOf(add(1, 2)).toEqualTypeOf<TaskFuture<number>>();
  expectTypeOf(add(add(1), 2)).toEqualTypeOf<TaskFuture<number>>();
  // @ts-expect-error a string where the schema takes a number
  add("1");
  // @ts-expect-error the first argument has no default
  add();
  // @ts-expect-error too many arguments for the tuple
  add(1, 2, 3);

  // the body receives the schema's output: coerced strings arrive as numbers
  const coerced = flow.functionTask((n: number) => n * 2, { inputs: z.tuple([z.coerce.number()]) });
  expectTypeOf(coerced).parameter(0).toEqualTypeOf<unknown>();

  const obj = flow.functionTask((o: { n: number; tag: string }) => o.tag.repeat(o.n), { inputs: z.tuple([z.object({ n: z.number(), tag: z.string().default("x") })]) });
  expectTypeOf(obj({ n: 2 })).toEqualTypeOf<TaskFuture<string>>();
  expectTypeOf(obj({ n: add(1) })).toEqualTypeOf<TaskFuture<string>>();
  // @ts-expect-error `n` is required by the schema
  obj({ tag: "y" });

  const echo = flow.executableTask((n: number) => `/bin/echo ${n}`, { inputs: z.tuple([z.number().int()]) });
  expectTypeOf(echo(3)).toEqualTypeOf<TaskFuture<string>>();
  // @ts-expect-error a string where the schema takes a number
  echo("3");

  const blk = flow.block(async (xs: number[]) => xs.length, { inputs: z.tuple([z.array(z.number())]) });
  expectTypeOf(blk([1, add(2)])).toEqualTypeOf<TaskFuture<number>>();

  // without `inputs`, the function's own parameters, as before
  const plain = flow.functionTask((s: string) => s.length, { retries: 2, timeout: 1000 });
  expectTypeOf(plain("x")).toEqualTypeOf<TaskFuture<number>>();
  // @ts-expect-error a number where a string is expected
  plain(1);
  // @ts-expect-error retryOn takes a function
  flow.functionTask(() => 1, { retryOn: true });
}

describe("types of wrappers with `inputs` (checked by tsc in npm run lint)", () => {
  it("parameters follow the schema's input type; the body receives its output", () => {
    expectTypeOf(wrappers).toBeFunction();
  });
});
