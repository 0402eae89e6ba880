/**
 * The conformance suite every execution backend runs (local and noop now,
 * threads and queue as they land): one description of what a backend owes
 * the engine, run against each.
 */
import { describe, expect, it } from "vitest";
import {
  TaskCancelledError,
  WorkflowEngine,
  type ExecutionBackend,
  type FunctionTaskOptions,
} from "../lib/index.js";
import * as tasks from "./fixtures/tasks.js";
import { recorded, tick, until } from "./helpers.js";

export interface ConformanceOptions {
  /** Makes a fresh backend (each test attaches its own). */
  make(): ExecutionBackend;
  /** False for backends that run no body (noop): results are placeholders. */
  runsBodies: boolean;
  /** Extra task options, e.g. a `module` for worker backends. */
  taskOptions?: FunctionTaskOptions;
}

export function backendConformance(label: string, o: ConformanceOptions): void {
  describe(`backend conformance: ${label}`, () => {
    async function setup(): Promise<{ flow: WorkflowEngine; seen: string[]; backend: ExecutionBackend }> {
      const backend = o.make();
      const seen = recorded(backend);
      const flow = await WorkflowEngine.create({ backend, handleSignals: false });
      return { flow, seen, backend };
    }
    /** Runs `body` on a fresh engine over a fresh backend, shut down after. */
    async function withFlow(body: (flow: WorkflowEngine, seen: string[]) => Promise<void>): Promise<void> {
      const { flow, seen } = await setup();
      try {
        await body(flow, seen);
      } finally {
        await flow.shutdown();
      }
    }
    const opts = (name: string): FunctionTaskOptions => ({ ...o.taskOptions, name });

    it("submit -> RUNNING -> DONE with the result, reported in order", async () => {
      await withFlow(async (flow, seen) => {
        const double = flow.functionTask(tasks.double, opts("double"));
        const later = flow.functionTask(tasks.later, opts("later"));
        const r = await later(double(21));
        if (o.runsBodies) expect(r).toBe(42);
        else expect(r).toBe("<dry-run task.000002 later>");
        expect(seen).toEqual(["task.000001:RUNNING", "task.000001:DONE", "task.000002:RUNNING", "task.000002:DONE"]);
      });
    });

    it("failure: FAILED with the body's error (name and message kept)", async () => {
      if (!o.runsBodies) return;
      await withFlow(async (flow, seen) => {
        const fail = flow.functionTask(tasks.fail, opts("fail"));
        const f = fail("it broke");
        const err = (await f.catch((e: unknown) => e)) as Error;
        expect(f.state).toBe("FAILED");
        expect(err.name).toBe("RangeError");
        expect(err.message).toBe("it broke");
        expect(seen).toEqual(["task.000001:RUNNING", "task.000001:FAILED"]);
      });
    });

    it("cancel pending: never submitted", async () => {
      await withFlow(async (flow, seen) => {
        const double = flow.functionTask(tasks.double, opts("double"));
        const f = double(1);
        f.cancel();
        await tick();
        expect(f.state).toBe("CANCELLED");
        expect(seen).toEqual([]);
      });
    });

    it("cancel running: CANCELLED at once, its signal aborted, later tasks still run", async () => {
      if (!o.runsBodies) return;
      await withFlow(async (flow, seen) => {
        const wait = flow.functionTask(tasks.untilAborted, opts("untilAborted"));
        const f = wait();
        await until(() => f.state === "RUNNING", 2000);
        expect(f.state).toBe("RUNNING");
        expect(f.cancel("conformance")).toBe(true);
        expect(f.state).toBe("CANCELLED");
        await expect(f).rejects.toBeInstanceOf(TaskCancelledError);
        // later tasks still run on the same backend
        const double = flow.functionTask(tasks.double, opts("double"));
        const r = await double(2);
        expect(r).toBe(4);
        // a report the backend makes after the cancel is dropped by the engine
        expect(f.state).toBe("CANCELLED");
        expect(seen[0]).toBe("task.000001:RUNNING");
      });
    });

    it("fan-in: a call spreading 100,000 futures into one task completes", async () => {
      await withFlow(async (flow) => {
        // the inputs come from blocks (they run in the engine), so only the sink crosses the backend
        const source = flow.block((i: number) => i, { name: "source" });
        const sum = flow.functionTask(tasks.sum, opts("sum"));
        const n = 100_000;
        const r = await sum(...Array.from({ length: n }, (_, i) => source(i)));
        expect(r).toBe(o.runsBodies ? (n * (n - 1)) / 2 : "<dry-run task.100001 sum>");
      });
    }, 120_000);

    it("shutdown: resolves, is idempotent, and the backend takes no more work", async () => {
      const { flow, backend } = await setup();
      const double = flow.functionTask(tasks.double, opts("double"));
      await double(1);
      await Promise.all([flow.shutdown(), flow.shutdown()]);
      await backend.shutdown();
      expect(() => double(1)).toThrow(/shut down/);
    });
  });
}
