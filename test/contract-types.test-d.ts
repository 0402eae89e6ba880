// Type-level contract of `inputs`, checked by the type-checker under `npm test` (vitest typecheck mode, see vitest.config.ts):
// an `expectTypeOf` that does not hold, or a `@ts-expect-error` line that compiles, fails its test.
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type { FunctionTaskOptions, TaskFuture, TaskWrapper, WorkflowEngine } from "../lib/index.js";

declare const flow: WorkflowEngine;

describe("task wrappers with `inputs`", () => {
  const add = flow.functionTask(async (x: number, y: number) => x + y, { inputs: z.tuple([z.number().int(), z.number().int().default(1)]) });

  it("take the schema's input type: a defaulted argument may be left out, futures are accepted", () => {
    expectTypeOf(add(1)).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(add(1, 2)).toEqualTypeOf<TaskFuture<number>>();
    expectTypeOf(add(add(1), 2)).toEqualTypeOf<TaskFuture<number>>();
  });

  it("refuse what the schema does not take", () => {
    // @ts-expect-error a string where the schema takes a number
    add("1");
    // @ts-expect-error the first argument has no default
    add();
    // @ts-expect-error too many arguments for the tuple
    add(1, 2, 3);
  });

  it("follow object schemas and their defaults, at any depth, on every kind of task", () => {
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
  });

  it("give the body the schema's output: a coercing schema takes anything", () => {
    const coerced = flow.functionTask((n: number) => n * 2, { inputs: z.tuple([z.coerce.number()]) });
    expectTypeOf(coerced).parameter(0).toEqualTypeOf<unknown>();
  });

  it("without `inputs`, keep the function's own parameters; contract options are typed", () => {
    const plain = flow.functionTask((s: string) => s.length, { retries: 2, timeout: 1000 });
    expectTypeOf(plain("x")).toEqualTypeOf<TaskFuture<number>>();
    // @ts-expect-error a number where a string is expected
    plain(1);
    // @ts-expect-error retryOn takes a function
    flow.functionTask(() => 1, { retryOn: true });
    // @ts-expect-error an exit code's status is a number
    flow.functionTask(() => 1, { exitCodes: { E: { status: "3" } } });
  });
});

describe("task wrappers with `output`", () => {
  it("give the schema's output as the result, with or without `inputs`, for every kind of task", () => {
    const len = flow.functionTask((s: string) => s, { output: z.string().transform((s) => s.length) });
    expectTypeOf(len("hello")).toEqualTypeOf<TaskFuture<number>>();
    const both = flow.functionTask((s: string) => s, { inputs: z.tuple([z.string()]), output: z.string().transform((s) => s.length) });
    expectTypeOf(both("hello")).toEqualTypeOf<TaskFuture<number>>();
    const lines = flow.executableTask(() => "ls", { output: z.string().transform((s) => s.split("\n")) });
    expectTypeOf(lines()).toEqualTypeOf<TaskFuture<string[]>>();
    const blk = flow.block(async () => "x", { output: z.string().transform((s) => s.length) });
    expectTypeOf(blk()).toEqualTypeOf<TaskFuture<number>>();
    // a body whose result passes through unchanged keeps its type
    const same = flow.functionTask(async (n: number) => n * 2, { output: z.number().nonnegative() });
    expectTypeOf(same(1)).toEqualTypeOf<TaskFuture<number>>();
  });
});

describe("task wrappers with schemas and the body's own types", () => {
  it("refuse a schema the body cannot fit: an `output` no result of it passes, `inputs` whose output its parameters refuse", () => {
    // @ts-expect-error the body returns a string, the schema takes numbers
    flow.functionTask((s: string) => s, { output: z.number() });
    // @ts-expect-error likewise for an async body, and with `inputs` beside it
    flow.functionTask(async (n: number) => String(n), { inputs: z.tuple([z.number()]), output: z.number() });
    const held = { retries: 1, output: z.number() };
    // @ts-expect-error options held in a variable are checked too
    flow.functionTask((s: string) => s, held);
    // @ts-expect-error the schema gives strings, the body takes numbers
    flow.functionTask((n: number) => n, { inputs: z.tuple([z.string()]) });
    // @ts-expect-error an executable's result is its stdout, a string
    flow.executableTask(() => "ls", { output: z.number() });
    // @ts-expect-error an executable's parameters, likewise
    flow.executableTask((n: number) => `echo ${n}`, { inputs: z.tuple([z.string()]) });
    // @ts-expect-error a block's result
    flow.block(async (s: string) => s, { output: z.number() });
  });

  it("take a result the schema may narrow, and give the schema's output", () => {
    const parsed = flow.functionTask(async (s: string) => JSON.parse(s) as unknown, { output: z.array(z.number()) });
    expectTypeOf(parsed).toEqualTypeOf<TaskWrapper<[s: string], number[]>>();
    const either = flow.functionTask((): number | string => 1, { output: z.number() });
    expectTypeOf(either).toEqualTypeOf<TaskWrapper<[], number>>();
    const coerced = flow.functionTask(() => "5", { output: z.coerce.number() });
    expectTypeOf(coerced).toEqualTypeOf<TaskWrapper<[], number>>();
    const thrown = flow.functionTask((): never => {
      throw new Error("no result");
    }, { output: z.number() });
    expectTypeOf(thrown).toEqualTypeOf<TaskWrapper<[], number>>();
    // a result narrower in one field and wider in another, and readonly literals for mutable arrays: values may pass
    const fetched = flow.functionTask(async (url: string) => ({ source: "api" as const, body: JSON.parse(url) as unknown }), { output: z.object({ source: z.string(), body: z.object({ id: z.number() }) }) });
    expectTypeOf(fetched).toEqualTypeOf<TaskWrapper<[url: string], { source: string; body: { id: number } }>>();
    const pair = flow.functionTask(() => [1, 2] as const, { output: z.array(z.number()) });
    expectTypeOf(pair).toEqualTypeOf<TaskWrapper<[], number[]>>();
    const tagged = flow.functionTask(() => ({ tags: ["a", "b"] }) as const, { output: z.object({ tags: z.array(z.string()) }) });
    expectTypeOf(tagged).toEqualTypeOf<TaskWrapper<[], { tags: string[] }>>();
  });
});

// What must keep compiling (see test/types.test-d.ts for the parameters' side).
describe("task wrappers with options the types cannot check here", () => {
  it("take schemas whose types are not known here", () => {
    // options typed as the whole option type: they may hold any schema, or none
    const declared: FunctionTaskOptions = { retries: 1 };
    expectTypeOf(flow.functionTask((x: number) => x * 2, declared)).toEqualTypeOf<TaskWrapper<[x: number], number>>();
    // a generic helper's schema
    function defOut<O extends z.ZodType>(output: O) {
      return flow.functionTask(async () => JSON.parse("1") as unknown, { output });
    }
    function defCommand<O extends z.ZodType>(output: O) {
      return flow.executableTask((dir: string) => ["ls", dir], { output });
    }
    // taken unchecked; where its type is known (the helper's callers), the result is the schema's output
    expectTypeOf(defOut(z.number())).toEqualTypeOf<TaskWrapper<[], number>>();
    expectTypeOf(defCommand(z.string())).toEqualTypeOf<TaskWrapper<[dir: string], string>>();
    expectTypeOf(flow.functionTask(() => "5", { output: z.coerce.number() })).toEqualTypeOf<TaskWrapper<[], number>>();
  });

  it("still refuse a misspelled option in an inline literal", () => {
    // @ts-expect-error `retrys` is no option
    flow.functionTask((a: number) => a, { name: "x", retrys: 2 });
    // @ts-expect-error likewise beside a schema
    flow.functionTask((a: number) => a, { retrys: 2, output: z.number() });
    // @ts-expect-error and for executables
    flow.executableTask((a: number) => `echo ${a}`, { cwdd: "/tmp" });
  });
});
