/**
 * Task contracts on a backend: validation, exit codes, retries with backoff,
 * timeouts and deadlines behave the same wherever attempts run (the engine
 * decides; backends run attempts). Run against local, threads and the queue,
 * with the bodies of `fixtures/contract-tasks.ts` (as a module for workers).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  DependencyFailureError,
  ExitCodeError,
  InputValidationError,
  InvalidTaskError,
  NonRetryableError,
  OutputValidationError,
  TaskCancelledError,
  TaskTimeoutError,
  WorkflowEngine,
  type ExecutionBackend,
  type FunctionTaskOptions,
} from "../lib/index.js";
import * as tasks from "./fixtures/contract-tasks.js";
import { until } from "./helpers.js";

export interface ContractConformanceOptions {
  /** Makes a fresh backend (each test attaches its own). */
  make(): ExecutionBackend;
  /** Extra task options, e.g. a `module` for worker backends. */
  taskOptions?: FunctionTaskOptions;
  /**
   * Multiplies the time limits of the timeout tests: ThreadBackend counts an
   * attempt from its hand-off to the pool, and a thread replacing a terminated
   * one first loads the task module. @default 1
   */
  timeScale?: number;
}

/** `<attempt> <ms>` lines a fixture appended: one per attempt that started. */
function attempts(log: string): { attempt: number; at: number }[] {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return [];
  }
  return text.trim().split("\n").filter(Boolean).map((l) => {
    const [a, t] = l.split(" ");
    return { attempt: Number(a), at: Number(t) };
  });
}

export function contractConformance(label: string, o: ContractConformanceOptions): void {
  describe(`task contracts: ${label}`, () => {
    const dir = mkdtempSync(join(tmpdir(), "af-contract-"));
    let logs = 0;
    const newLog = (): string => join(dir, `attempts-${++logs}.log`);
    const k = o.timeScale ?? 1;
    const opts = (name: string, more: FunctionTaskOptions = {}): FunctionTaskOptions => ({ ...o.taskOptions, name, ...more });

    async function withFlow(body: (flow: WorkflowEngine) => Promise<void>): Promise<void> {
      const flow = await WorkflowEngine.create({ backend: o.make(), handleSignals: false });
      try {
        await body(flow);
      } finally {
        await flow.shutdown();
      }
    }
    const adder = (flow: WorkflowEngine) =>
      flow.functionTask(tasks.add, {
        ...opts("add"),
        inputs: z.tuple([z.number().int(), z.number().int().default(1)]),
        output: z.number().nonnegative(),
        exitCodes: { ERROR_NEGATIVE: { status: 418, message: "the sum came out negative" } },
      });

    it("inputs: a bad literal throws at the call (no task made); defaults are filled before the body runs", async () => {
      await withFlow(async (flow) => {
        const add = adder(flow);
        let thrown: unknown;
        try {
          add(1.5, 2);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(InputValidationError);
        expect(thrown).toMatchObject({ taskName: "add", taskUid: undefined, position: 0, path: "" });
        expect((thrown as Error).message).toMatch(/^Task "add": argument 0 does not match its inputs schema: .*int/);
        expect(flow.pending()).toHaveLength(0);
        expect(flow.graph().nodeCount()).toBe(0);
        expect(await add(2)).toBe(3);
      });
    });

    it("inputs: a future's bad value fails the task when it is ready, naming position and path, before any backend sees it", async () => {
      await withFlow(async (flow) => {
        const echo = flow.functionTask(tasks.echo, opts("echo"));
        const shape = flow.functionTask(tasks.echo, { ...opts("echo"), inputs: z.tuple([z.object({ n: z.number(), tags: z.array(z.string()) })]) });
        const bad = shape({ n: 1, tags: ["a", echo(7) as never] });
        const err = (await bad.catch((e: unknown) => e)) as InputValidationError;
        expect(err).toBeInstanceOf(InputValidationError);
        expect(err).toMatchObject({ taskUid: bad.uid, position: 0, path: ".tags[1]" });
        expect(err.message).toMatch(new RegExp(`^${bad.uid.replace(".", "\\.")} \\(echo\\): argument 0 at \\.tags\\[1\\] does not match its inputs schema: .*string`));
        expect(bad.state).toBe("FAILED");
        // a good value passes, parsed
        expect(await shape({ n: echo(2) as never, tags: [] })).toEqual({ n: 2, tags: [] });
      });
    });

    it("output: a result that does not match fails the task; its dependents' root cause is that error", async () => {
      await withFlow(async (flow) => {
        const strict = flow.functionTask(tasks.echo, { ...opts("echo"), output: z.object({ ok: z.literal(true) }) });
        const after = flow.functionTask(tasks.echo, opts("echo"));
        const s = strict({ ok: false });
        const a = after(s);
        const err = (await s.catch((e: unknown) => e)) as OutputValidationError;
        expect(err).toBeInstanceOf(OutputValidationError);
        expect(err.message).toMatch(/\(echo\): its result does not match its output schema: at \.ok: /);
        const dep = (await a.catch((e: unknown) => e)) as DependencyFailureError;
        expect(dep).toBeInstanceOf(DependencyFailureError);
        expect(dep.rootCause).toBe(err);
        expect(await strict({ ok: true })).toEqual({ ok: true });
      });
    });

    it("exit codes: exit(label) fails with ExitCodeError; an undeclared label lists the declared ones; not retried by default", async () => {
      await withFlow(async (flow) => {
        const add = flow.functionTask(tasks.add, {
          ...opts("add"),
          exitCodes: { ERROR_NEGATIVE: { status: 418, message: "the sum came out negative" }, ERROR_OTHER: { status: 3 } },
          retries: 3,
          retryDelay: 0,
        });
        const err = (await add(-5, 1).catch((e: unknown) => e)) as ExitCodeError;
        expect(err).toBeInstanceOf(ExitCodeError);
        expect(err).toMatchObject({ exitStatus: 418, label: "ERROR_NEGATIVE", exitMessage: "the sum came out negative", retryable: false, taskName: "add" });
        expect(err.message).toMatch(/\(add\): exited with ERROR_NEGATIVE \(418\): the sum came out negative$/);
        const exitWith = flow.functionTask(tasks.exitWith, { ...opts("exitWith"), exitCodes: { ERROR_NEGATIVE: { status: 418 }, ERROR_OTHER: { status: 3 } } });
        const bad = (await exitWith("NOPE").catch((e: unknown) => e)) as InvalidTaskError;
        expect(bad).toBeInstanceOf(InvalidTaskError);
        expect(bad.message).toMatch(/called exit\("NOPE"\), an exit code it does not declare: it declares ERROR_NEGATIVE, ERROR_OTHER/);
        // a task with no contract options at all: the same error, not the ExitRequest that exit() throws
        const plain = (await flow.functionTask(tasks.exitWith, opts("exitWith"))("NOPE").catch((e: unknown) => e)) as InvalidTaskError;
        expect(plain).toBeInstanceOf(InvalidTaskError);
        expect(plain.message).toMatch(/called exit\("NOPE"\), an exit code it does not declare: it declares none \(add `exitCodes` to its options\)/);
      });
    });

    it("retries: attempts count from 1, each with a fresh context, and the gaps grow by the backoff within jitter bounds", async () => {
      await withFlow(async (flow) => {
        const log = newLog();
        const flaky = flow.functionTask(tasks.flaky, { ...opts("flaky"), retries: 3, retryDelay: 150, retryJitter: 0.2 });
        expect(await flaky(log, 2)).toBe(3);
        const seen = attempts(log);
        expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
        // 150 ms then 300 ms, each times [0.8, 1.2]: a gap is at least its lower bound; the upper bound is generous (a loaded machine)
        const gaps = [seen[1]!.at - seen[0]!.at, seen[2]!.at - seen[1]!.at];
        expect(gaps[0]).toBeGreaterThanOrEqual(120 - 5);
        expect(gaps[1]).toBeGreaterThanOrEqual(240 - 5);
        expect(gaps[0]).toBeLessThan(10_000);
        expect(gaps[1]).toBeLessThan(10_000);
        // retries exhausted: the last attempt's error
        const log2 = newLog();
        const twice = flow.functionTask(tasks.flaky, { ...opts("flaky"), retries: 1, retryDelay: 0 });
        await expect(twice(log2, 5)).rejects.toThrow("attempt 2 fails");
        expect(attempts(log2).map((s) => s.attempt)).toEqual([1, 2]);
      });
    });

    it("retries: NonRetryableError and retryOn returning false stop at once", async () => {
      await withFlow(async (flow) => {
        const log = newLog();
        const hopeless = flow.functionTask(tasks.hopeless, { ...opts("hopeless"), retries: 3, retryDelay: 0 });
        await expect(hopeless(log)).rejects.toBeInstanceOf(NonRetryableError);
        expect(attempts(log)).toHaveLength(1);
        const log2 = newLog();
        const picky = flow.functionTask(tasks.typeErrors, { ...opts("typeErrors"), retries: 5, retryDelay: 0, retryOn: (e) => e instanceof RangeError });
        await expect(picky(log2)).rejects.toThrow(TypeError);
        expect(attempts(log2).map((s) => s.attempt)).toEqual([1, 2]);
      });
    });

    it("timeout: an attempt that runs too long fails with TaskTimeoutError and the next attempt succeeds", async () => {
      await withFlow(async (flow) => {
        const log = newLog();
        const stuck = flow.functionTask(tasks.stuckFirst, { ...opts("stuckFirst"), timeout: 300 * k, retries: 2, retryDelay: 0 });
        expect(await stuck(log, 1)).toBe(2);
        expect(attempts(log).map((s) => s.attempt)).toEqual([1, 2]);
        const log2 = newLog();
        const never = flow.functionTask(tasks.stuckFirst, { ...opts("stuckFirst"), timeout: 200 * k });
        const err = (await never(log2, 9).catch((e: unknown) => e)) as TaskTimeoutError;
        expect(err).toBeInstanceOf(TaskTimeoutError);
        expect(err).toMatchObject({ what: "attempt", ms: 200 * k, attempt: 1 });
      });
    });

    it("deadline: all attempts together; TaskTimeoutError with what 'deadline', not retried", async () => {
      await withFlow(async (flow) => {
        const log = newLog();
        const stuck = flow.functionTask(tasks.stuckFirst, { ...opts("stuckFirst"), timeout: 200 * k, retries: 100, retryDelay: 0, deadline: 700 * k });
        const started = performance.now();
        const err = (await stuck(log, 1000).catch((e: unknown) => e)) as TaskTimeoutError;
        expect(err).toBeInstanceOf(TaskTimeoutError);
        expect(err).toMatchObject({ what: "deadline", ms: 700 * k });
        expect(performance.now() - started).toBeGreaterThanOrEqual(700 * k - 10);
        expect(err.cause).toBeInstanceOf(TaskTimeoutError);
        const n = attempts(log).length;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(4);
      });
    });

    it("a task cancelled while it waits to retry never runs again", async () => {
      await withFlow(async (flow) => {
        const log = newLog();
        const flaky = flow.functionTask(tasks.flaky, { ...opts("flaky"), retries: 3, retryDelay: 400, retryJitter: 0 });
        const f = flaky(log, 10);
        // waiting for attempt 2: the first failed (PENDING alone is also the state before attempt 1 starts)
        await until(() => f._attempts?.attempt === 2 && f.state === "PENDING", 10_000);
        expect(f.state).toBe("PENDING");
        const retry = f._attempts!.attemptLimit;
        expect(retry.scheduled).toBe(true); // the retry is scheduled...
        expect(f.cancel("changed my mind")).toBe(true);
        await expect(f).rejects.toBeInstanceOf(TaskCancelledError);
        expect(retry.scheduled).toBe(false); // ...and no longer: nothing will dispatch it again
        expect(f.state).toBe("CANCELLED");
        expect(attempts(log)).toHaveLength(1);
      });
    });
  });
}
