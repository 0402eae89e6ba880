/** Task contracts in the engine: options checked at definition, any schema library, exit codes of processes, one shared timer. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  ExecutableError,
  ExitCodeError,
  InputValidationError,
  InvalidTaskError,
  TaskTimeoutError,
  taskContext,
  type FlowEvent,
  type StandardSchema,
} from "../lib/index.js";
import { expectMatchesFutures } from "./events-check.js";
import { captureStderr, engine, expectExitsByItself, gate, tick, until } from "./helpers.js";

describe("contract options are checked when the task is defined", () => {
  it("refuses unknown options, bad numbers, non-schemas and malformed exit codes with InvalidTaskError naming the option", async () => {
    const flow = await engine();
    const f = (x: number): number => x;
    const bad: [object, RegExp][] = [
      [{ retriez: 2 }, /unknown option `retriez` \(did you mean `retries`\?\)/],
      // two likely names: the closest, and one an edit further (`retry` is two edits from `retryOn`, three from `retries`)
      [{ retry: 2 }, /unknown option `retry` \(did you mean `retryOn` or `retries`\?\)/],
      [{ nonsense: 2 }, /unknown option `nonsense`$/],
      [{ timeout: -5 }, /option `timeout`: .*, got `-5` \(number\)/],
      [{ retries: 1.5 }, /option `retries`: .*int.*, got `1.5`/],
      [{ retries: -1 }, /option `retries`/],
      [{ retryJitter: 2 }, /option `retryJitter`/],
      [{ deadline: 0 }, /option `deadline`/],
      [{ inputs: { parse: () => 1 } }, /option `inputs`: expected a schema: zod, or any Standard Schema/],
      [{ output: "z.number()" }, /option `output`: expected a schema/],
      [{ retryOn: "TypeError" }, /option `retryOn`: expected a function/],
      [{ exitCodes: { ERR: { status: 0 } } }, /option `exitCodes.ERR.status`/],
      [{ exitCodes: { ERR: { status: 2.5 } } }, /option `exitCodes.ERR.status`/],
      [{ exitCodes: { A: { status: 3 }, B: { status: 3 } } }, /option `exitCodes.B.status`: status 3 is also A's: statuses must be unique/],
      [{ exitCodes: { A: { status: 3, retries: true } } }, /unknown option `exitCodes\.A\.retries` \(did you mean `exitCodes\.A\.retry`\?\)/],
    ];
    for (const [opts, message] of bad) {
      expect(() => flow.functionTask(f, { name: "t", ...opts } as never), JSON.stringify(opts)).toThrow(InvalidTaskError);
      expect(() => flow.functionTask(f, { name: "t", ...opts } as never), JSON.stringify(opts)).toThrow(message);
    }
    expect(() => flow.executableTask(() => "true", { name: "x", timeout: 0 })).toThrow(/Task "x": option `timeout`/);
    expect(() => flow.block(async () => 1, { name: "b", retries: 2 } as never)).toThrow(/Task "b": unknown option `retries`/);
  });
});

describe("any schema library", () => {
  it("takes a Standard Schema that is not zod, and a schema with only safeParse", async () => {
    const flow = await engine();
    // A hand-written Standard Schema: a pair of positive numbers, the second defaulting to 10.
    const pair: StandardSchema<[number, number?], [number, number]> = {
      "~standard": {
        version: 1,
        vendor: "hand",
        validate: (v) => {
          const a = v as unknown[];
          if (typeof a[0] !== "number" || a[0] <= 0) return { issues: [{ message: "must be a positive number", path: [0] }] };
          return { value: [a[0], typeof a[1] === "number" ? a[1] : 10] };
        },
      },
    };
    const mul = flow.functionTask((x: number, y: number) => x * y, { inputs: pair });
    expect(await mul(3)).toBe(30);
    expect(() => mul(-1)).toThrow(/argument 0 does not match its inputs schema: must be a positive number/);
    const two = flow.functionTask((x: number, y: number) => x + y, { inputs: z.tuple([z.number(), z.number()]) });
    expect(() => (two as unknown as (...a: number[]) => unknown)(1, 2, 3)).toThrow(/: its arguments do not match its inputs schema: /);
    const onlySafeParse = {
      safeParse: (v: unknown) =>
        typeof v === "string" ? { success: true as const, data: v.toUpperCase() } : { success: false as const, error: { issues: [{ message: "not a string", path: [] }] } },
    };
    const shout = flow.functionTask((s: string) => s, { output: onlySafeParse });
    expect(await shout("hi")).toBe("HI");
    await expect(shout(1 as unknown as string)).rejects.toThrow(/its result does not match its output schema: not a string/);
  });

  it("an asynchronous schema validates before the body runs, at the call and at ready time alike", async () => {
    const flow = await engine();
    const ran: number[] = [];
    const asyncInputs = z.tuple([z.number().refine(async (n) => n > 0, "must be positive")]);
    const pos = flow.functionTask((n: number) => (ran.push(n), n), { inputs: asyncInputs });
    const src = flow.functionTask((n: number) => n);
    expect(await pos(2)).toBe(2);
    await expect(pos(-1)).rejects.toBeInstanceOf(InputValidationError);
    await expect(pos(src(-2))).rejects.toThrow(/argument 0 does not match its inputs schema: must be positive/);
    expect(ran).toEqual([2]);
  });

  it("a task cancelled while an asynchronous schema checks its arguments is not run once the check passes", async () => {
    const flow = await engine();
    const events: FlowEvent[] = [];
    flow.subscribe((e) => events.push(e));
    const check = gate<boolean>();
    const ran: number[] = [];
    const checked = flow.functionTask((n: number) => (ran.push(n), n), { name: "checked", inputs: z.tuple([z.number().refine(async () => check.promise)]) });
    const src = flow.functionTask((n: number) => n);
    // checked once ready (its argument a future's value), and from the call on (a literal); the third is not cancelled
    const [fromDependency, fromCall, kept] = [checked(src(1)), checked(2), checked(3)];
    await until(() => flow.inspect().filter((r) => r.name === "checked").every((r) => r.reason === "VALIDATING"));
    expect(flow.inspect().filter((r) => r.reason === "VALIDATING")).toHaveLength(3);
    fromDependency.cancel("not needed");
    fromCall.cancel("not needed");
    check.open(true);
    expect(await kept).toBe(3);
    await tick(); // the cancelled ones' checks ended with the kept one's: their continuations have run
    expect(ran).toEqual([3]);
    // nothing of theirs happened after their cancel
    expectMatchesFutures(events, [fromDependency, fromCall, kept]);
  });

  it("a body that returned within its timeout and deadline is not timed out while its output is checked (nor while its checkpoint is written)", async () => {
    const flow = await engine();
    // a schema slower than the limits: they are the body's, not the engine's work after it
    const slow = z.number().refine(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return true;
    });
    const quick = flow.functionTask((n: number) => n, { output: slow, timeout: 50, deadline: 100, retries: 1, retryDelay: 1 });
    expect(await quick(7)).toBe(7);
  });

  it("inputs works on blocks too; label and description show in graph()", async () => {
    const flow = await engine();
    const sq = flow.functionTask((n: number) => n * n, { label: "square", description: "squares a number" });
    const sum = flow.block(async (xs: number[]) => (await Promise.all(xs.map((x) => sq(x)))).reduce((a, b) => a + b, 0), {
      inputs: z.tuple([z.array(z.number()).min(1)]),
      label: "sum of squares",
    });
    expect(await sum([1, 2, 3])).toBe(14);
    expect(() => sum([])).toThrow(InputValidationError);
    const g = flow.graph();
    const labels = g.nodes().map((n) => g.node(n));
    expect(labels).toContainEqual({ name: "anonymous", state: "DONE", kind: "function", label: "square", description: "squares a number" });
    expect(labels).toContainEqual({ name: "anonymous", state: "DONE", kind: "block", label: "sum of squares" });
  });

  it("exit(label) in a block, which declares no exit codes, fails it naming the mistake", async () => {
    const flow = await engine();
    const blk = flow.block(async function blk() {
      taskContext().exit("X");
    });
    const f = blk();
    const err = (await f.catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(InvalidTaskError);
    expect(err.message).toBe(`Task "blk": ${f.uid} called exit("X"), an exit code it does not declare: a block declares none (exit codes are for tasks: throw an error, or exit() from a task it runs)`);
    // a block with a contract of its own (inputs) says the same
    const checked = flow.block(async function checked(_n: number) {
      taskContext().exit("Y");
    }, { inputs: z.tuple([z.number()]) });
    await expect(checked(1)).rejects.toThrow(/called exit\("Y"\), an exit code it does not declare: a block declares none/);
  });
});

describe("exit codes of executables", () => {
  it("a declared process exit status gives ExitCodeError with the command, its output and the ExecutableError as cause; an undeclared one stays ExecutableError", async () => {
    const flow = await engine();
    const run = flow.executableTask((code: number) => `echo out; echo err >&2; exit ${code}`, {
      name: "run",
      exitCodes: { ERROR_MISSING_INPUT: { status: 3, message: "the input file is missing" } },
    });
    const err = (await run(3).catch((e: unknown) => e)) as ExitCodeError;
    expect(err).toBeInstanceOf(ExitCodeError);
    expect(err).toMatchObject({ label: "ERROR_MISSING_INPUT", exitStatus: 3, exitMessage: "the input file is missing", command: "echo out; echo err >&2; exit 3", stdout: "out\n", stderr: "err\n" });
    expect(err.cause).toBeInstanceOf(ExecutableError);
    const other = await run(4).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ExecutableError);
    expect(other).not.toBeInstanceOf(ExitCodeError);
  });

  it("a retryable exit code is retried; an executable's timeout kills it with TaskTimeoutError and is retried like any failure", async () => {
    const flow = await engine();
    const flaky = flow.executableTask(() => `test "$(cat ${"$"}F 2>/dev/null)" = x || { echo x > ${"$"}F; exit 75; }; echo ok`, {
      env: { F: join(tmpdir(), `af-exit-${process.pid}-${Date.now()}`) },
      exitCodes: { TEMPFAIL: { status: 75, retry: true } },
      retries: 1,
      retryDelay: 0,
    });
    expect(await flaky()).toBe("ok\n");
    const slow = flow.executableTask(() => `sleep 30`, { name: "slow", timeout: 200, retries: 1, retryDelay: 0 });
    const log = captureStderr();
    const err = (await slow().catch((e: unknown) => e)) as TaskTimeoutError;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err).toMatchObject({ what: "attempt", attempt: 2, ms: 200, signal: "SIGTERM", command: "sleep 30" });
    expect(log.text()).toBe(""); // the retry's line is at info level; the default level is warn
  });
});

describe("retries", () => {
  it("each retry says so in the log: which attempt failed, with what, and when the next one runs", async () => {
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "info");
    const log = captureStderr();
    const flow = await engine();
    const t = flow.functionTask(() => {
      if (taskContext().attempt === 1) throw new Error("first try");
      return taskContext().attempt;
    }, { name: "twice", retries: 1, retryDelay: 5 });
    expect(await t()).toBe(2);
    expect(log.text()).toMatch(/INFO task\.000001 twice: attempt 1 failed \(Error: first try\); attempt 2 in \d+ ms/);
    vi.unstubAllEnvs();
  });

  it("a timed-out attempt's late result is dropped: the task's result is its next attempt's", async () => {
    const flow = await engine();
    const job = flow.functionTask(async () => {
      const { attempt, signal } = taskContext();
      if (attempt > 1) return `attempt ${attempt}`;
      // ends as soon as its timeout aborts it: its result reaches the engine after the attempt was given up
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return "late";
    }, { name: "job", timeout: 300, retries: 1, retryDelay: 0 });
    expect(await job()).toBe("attempt 2");
  });

  it("a retryOn that throws ends the task at its first attempt, saying so", async () => {
    const flow = await engine();
    let runs = 0;
    const log = captureStderr();
    const picky = flow.functionTask(() => {
      runs++;
      throw new Error("boom");
    }, { name: "picky", retries: 2, retryDelay: 0, retryOn: () => {
      throw new Error("retryOn broke");
    } });
    await expect(picky()).rejects.toThrow("boom");
    expect(runs).toBe(1);
    expect(log.text()).toMatch(/picky: retryOn threw \(Error: retryOn broke\): not retrying/);
  });

  it("delays double from retryDelay and stop growing at retryDelayMax", async () => {
    const { retryDelayMs } = await import("../lib/engine/retry.js");
    const c = { retryDelay: 100, retryJitter: 0, retryDelayMax: 500 } as Parameters<typeof retryDelayMs>[0];
    expect([1, 2, 3, 4, 5].map((k) => retryDelayMs(c, k))).toEqual([100, 200, 400, 500, 500]);
    const jittered = { ...c, retryJitter: 0.5, retryDelayMax: 1e9 };
    const delays = Array.from({ length: 1000 }, () => retryDelayMs(jittered, 3));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(600);
    // spread both ways around 400 (1,000 draws: all on one side has odds of 2^-999)
    expect(delays.some((d) => d < 400) && delays.some((d) => d > 400)).toBe(true);
  });
});

describe("one timer for every time limit", () => {
  it("10,000 running tasks with a timeout arm a handful of setTimeouts, not one each, and leave none behind", async () => {
    const flow = await engine();
    const spy = vi.spyOn(globalThis, "setTimeout");
    const ids = flow.functionTask(async (i: number) => i, { timeout: 60_000 });
    const sum = flow.functionTask((xs: number[]) => xs.length);
    const n = 10_000;
    expect(await sum(Array.from({ length: n }, (_, i) => ids(i)))).toBe(n);
    expect(spy.mock.calls.length).toBeLessThan(10);
    spy.mockRestore();
  });

  it("a chain of 2,000 tasks, each alone in the heap in turn, re-arms the timer only when it fires, not once per task", async () => {
    const flow = await engine();
    const spy = vi.spyOn(globalThis, "setTimeout");
    const inc = flow.functionTask(async (x: number) => x + 1, { timeout: 60_000 });
    let f = inc(0);
    for (let i = 1; i < 2000; i++) f = inc(f);
    expect(await f).toBe(2000);
    expect(spy.mock.calls.length).toBeLessThan(10);
    spy.mockRestore();
  });

  it("a finished task's limits do not hold the process: a script with 10-minute limits exits by itself, without shutdown()", () => {
    expectExitsByItself(new URL("./fixtures/contract-exit.ts", import.meta.url), "101\n", 120_000);
  });
});
