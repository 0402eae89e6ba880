/**
 * The conformance suite every execution backend runs (local and noop now,
 * threads and queue as they land): one description of what a backend owes
 * the engine, run against each.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EngineShutdownError,
  ExecutableError,
  InvalidTaskError,
  TaskCancelledError,
  WorkflowEngine,
  optional,
  settled,
  type ExecutionBackend,
  type FunctionTaskOptions,
} from "../lib/index.js";
import * as tasks from "./fixtures/tasks.js";
import { recorded, tick, until, type Recorder } from "./helpers.js";

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
    async function setup(): Promise<{ flow: WorkflowEngine; seen: string[]; backend: ExecutionBackend; rec: Recorder }> {
      const backend = o.make();
      const rec = recorded(backend);
      const flow = await WorkflowEngine.create({ backend, handleSignals: false });
      return { flow, seen: rec.seen, backend, rec };
    }
    /** Runs `body` on a fresh engine over a fresh backend, shut down after. */
    async function withFlow(body: (flow: WorkflowEngine, seen: string[], rec: Recorder, backend: ExecutionBackend) => Promise<void>): Promise<void> {
      const { flow, seen, rec, backend } = await setup();
      try {
        await body(flow, seen, rec, backend);
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

    it.skipIf(!o.runsBodies)("failure: FAILED with the body's error (name and message kept)", async () => {
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

    it.skipIf(!o.runsBodies)("failure with a value that is not an Error: awaiting rejects with that value, as in the engine's process", async () => {
      await withFlow(async (flow) => {
        const throws = flow.functionTask(tasks.throwsValue, opts("throwsValue"));
        for (const value of ["just a string", 42, { code: 1, why: ["x"] }]) expect(await throws(value).catch((e: unknown) => e)).toEqual(value);
      });
    });

    it("executable: RUNNING -> DONE with the stdout; a failing command is FAILED with ExecutableError", async () => {
      await withFlow(async (flow, seen) => {
        const echo = flow.executableTask((s: string) => ["echo", s], { name: "echo" });
        const fail = flow.executableTask(() => "echo oops >&2; exit 3", { name: "failCmd" });
        const out = await echo("hi");
        const err = await fail().catch((e: unknown) => e);
        expect(seen).toEqual(["task.000001:RUNNING", "task.000001:DONE", "task.000002:RUNNING", `task.000002:${o.runsBodies ? "FAILED" : "DONE"}`]);
        if (!o.runsBodies) {
          expect([out, err]).toEqual(["<dry-run task.000001 echo>", "<dry-run task.000002 failCmd>"]);
          return;
        }
        expect(out).toBe("hi\n");
        expect(err).toBeInstanceOf(ExecutableError);
        expect((err as ExecutableError).exitCode).toBe(3);
        expect((err as ExecutableError).stderr).toBe("oops\n");
      });
    });

    it("validate: a backend that has one sees each task when it is defined, and what it refuses is never submitted", async (ctx) => {
      await withFlow(async (flow, seen, _rec, backend) => {
        const validate = backend.validate?.bind(backend);
        if (validate === undefined) return ctx.skip(`${label} has no validate`);
        const described: string[] = [];
        backend.validate = (task) => {
          described.push(`${task.kind} ${task.name}`);
          if (task.name === "refused") throw new InvalidTaskError(task.name, "refused by the conformance suite");
          validate(task);
        };
        const double = flow.functionTask(tasks.double, opts("double"));
        flow.executableTask(() => "true", { name: "cmd" });
        expect(described).toEqual(["function double", "executable cmd"]);
        expect(() => flow.functionTask(tasks.double, opts("refused"))).toThrow(/Task "refused": refused by the conformance suite/);
        expect(await double(2)).toBe(o.runsBodies ? 4 : "<dry-run task.000001 double>");
        expect(seen).toEqual(["task.000001:RUNNING", "task.000001:DONE"]);
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

    it.skipIf(!o.runsBodies)("cancel running: CANCELLED at once, its signal aborted, later tasks still run, late reports dropped", async () => {
      await withFlow(async (flow, seen, rec) => {
        const wait = flow.functionTask(tasks.untilAborted, opts("untilAborted"));
        const f = wait();
        let callbacks = 0;
        f.addDoneCallback(() => callbacks++);
        await until(() => f.state === "RUNNING", 2000);
        expect(f.state).toBe("RUNNING");
        const run = rec.runs.get(f.uid)!;
        expect(f.cancel("conformance")).toBe(true);
        expect(f.state).toBe("CANCELLED");
        expect(run.signal.aborted).toBe(true);
        await expect(f).rejects.toBeInstanceOf(TaskCancelledError);
        // later tasks still run on the same backend
        const double = flow.functionTask(tasks.double, opts("double"));
        const r = await double(2);
        expect(r).toBe(4);
        expect(seen[0]).toBe("task.000001:RUNNING");
        // whatever a backend reports of a cancelled run (it need not track cancels) changes nothing
        rec.report(run, "RUNNING");
        rec.report(run, "DONE", "late");
        rec.report(run, "FAILED", new Error("late"));
        expect(f.state).toBe("CANCELLED");
        expect(f.exception()).toBeInstanceOf(TaskCancelledError);
        expect(callbacks).toBe(1);
      });
    });

    it.skipIf(!o.runsBodies)("cancel running: the body's own signal fires, with the engine's reason, so that it can clean up", async () => {
      await withFlow(async (flow) => {
        const file = join(mkdtempSync(join(tmpdir(), "asyncflow-abort-")), "reason");
        const wait = flow.functionTask(tasks.untilAbortedWrites, opts("untilAbortedWrites"));
        const f = wait(file);
        await until(() => f.state === "RUNNING", 10_000);
        f.cancel("no longer needed");
        await until(() => existsSync(file), 10_000);
        expect(readFileSync(file, "utf8")).toMatch(/^TaskCancelledError: .*no longer needed/);
      });
    });

    it.skipIf(!o.runsBodies)("settled/optional: failed and cancelled dependencies hand their outcome or the fallback, at any depth", async () => {
      await withFlow(async (flow) => {
        const double = flow.functionTask(tasks.double, opts("double"));
        const fail = flow.functionTask(tasks.fail, opts("fail"));
        const wait = flow.functionTask(tasks.untilAborted, opts("untilAborted"));
        const outcomes = flow.functionTask(tasks.outcomes, opts("outcomes"));
        const w = wait();
        const r = outcomes([settled(double(1)), settled(fail("it broke")), settled(w)], {
          a: optional(fail("x"), "fallback"),
          b: [optional(double(2), 0), { nested: optional(w, -1) }],
        });
        w.cancel("stop");
        expect(await r).toEqual(["fulfilled:2", "rejected:it broke", expect.stringMatching(/^rejected:.*cancelled.*stop/), "fallback", 4, { nested: -1 }]);
        expect(r.state).toBe("DONE");
        // the edges stay in the graph
        expect(flow.graph().predecessors(r.uid)?.length).toBe(5);
      });
    });

    it.skipIf(!o.runsBodies)("an object passed as two arguments arrives as one object, as in a call", async () => {
      await withFlow(async (flow) => {
        const same = flow.functionTask(tasks.sameObject, opts("sameObject"));
        const shared = { n: 1 };
        expect(await same(shared, shared)).toEqual([true, 2]);
        expect(await same(shared, { n: 1 })).toEqual([false, 1]);
      });
    });

    it("shutdown: resolves, is idempotent, and neither the engine nor the backend takes more work", async () => {
      const { flow, backend, rec } = await setup();
      const double = flow.functionTask(tasks.double, opts("double"));
      await double(1);
      await Promise.all([flow.shutdown(), flow.shutdown()]);
      await backend.shutdown();
      expect(() => double(1)).toThrow(/shut down/);
      // handed a run directly, the backend refuses it before anything of it starts
      const before = [...rec.seen];
      expect(() => backend.submit(rec.runs.get("task.000001")!)).toThrow(EngineShutdownError);
      await tick();
      expect(rec.seen).toEqual(before);
    });
  });
}
