// Error paths around misbehaving backends and configuration: each one named in
// a clear error or a log line, none breaking the engine.
import { describe, expect, it, vi } from "vitest";
import { NoopBackend, TaskRun, ThreadBackend, type ExecutionBackend, type ReportState } from "../lib/index.js";
import { Logger } from "../lib/contract/log.js";
import { captureStderr, engine, tick } from "./helpers.js";

/** A backend whose parts misbehave as a test asks. */
function backend(parts: Partial<Pick<ExecutionBackend, "submit" | "cancel" | "shutdown">>): ExecutionBackend & { report: ReportState } {
  const b = {
    name: "odd",
    report: (() => undefined) as ReportState,
    attach(report: ReportState) {
      b.report = report;
    },
    submit(run: TaskRun) {
      b.report(run, "RUNNING");
    },
    cancel() {},
    shutdown: () => Promise.resolve(),
    ...parts,
  };
  return b;
}


describe("misbehaving backends", () => {
  it("a submit that throws fails that task with the error; the engine goes on", async () => {
    const boom = new Error("submit broke");
    let calls = 0;
    const flow = await engine({
      backend: backend({
        submit: () => {
          if (++calls === 1) throw boom;
        },
      }),
    });
    const t = flow.functionTask(() => 1, { name: "t" });
    const f = t();
    await expect(f).rejects.toBe(boom);
    expect(f.state).toBe("FAILED");
    const g = t();
    await tick();
    expect(g.state).toBe("PENDING"); // submitted, never reported: still the backend's
  });

  it("a cancel that throws is logged; the task is CANCELLED all the same", async () => {
    const err = captureStderr();
    const flow = await engine({
      backend: backend({
        cancel: () => {
          throw new Error("cancel broke");
        },
      }),
    });
    const f = flow.functionTask(() => 1, { name: "t" })();
    await tick();
    expect(f.state).toBe("RUNNING");
    expect(f.cancel()).toBe(true);
    expect(f.state).toBe("CANCELLED");
    expect(err.text()).toMatch(/ERROR task\.000001 backend "odd" failed to cancel: Error: cancel broke/);
  });

  it("a shutdown that rejects is logged; flow.shutdown() still resolves", async () => {
    const err = captureStderr();
    const flow = await engine({ backend: backend({ shutdown: () => Promise.reject(new Error("shutdown broke")) }) });
    await expect(flow.shutdown()).resolves.toBeUndefined();
    expect(err.text()).toMatch(/ERROR asyncflow\.session\.\w+ backend shutdown failed: Error: shutdown broke/);
  });

  it("a backend used before it is attached says so", () => {
    const b = new NoopBackend({ name: "lonely" });
    expect(() => b.submit({} as TaskRun)).toThrow(/backend "lonely" is not attached to an engine/);
  });

  it("a class given as a thread task is refused at definition", async () => {
    const flow = await engine({ backend: new ThreadBackend({ maxThreads: 1 }) });
    class Job {}
    expect(() => flow.functionTask(Job as unknown as () => number)).toThrow(/Task "Job": a class is not a task function/);
  });
});

describe("logger", () => {
  it("filters by level and names the uid on each line", () => {
    const lines: string[] = [];
    const log = new Logger("info", (l) => lines.push(l));
    log.debug("task.000001", "hidden");
    log.info("task.000001", "shown");
    log.error("task.000002", "bad");
    expect(log.debugOn).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/asyncflow INFO task\.000001 shown$/);
    expect(lines[1]).toMatch(/asyncflow ERROR task\.000002 bad$/);
  });

  it("warns about an unknown ASYNCFLOW_LOG_LEVEL and keeps warn", () => {
    const err = captureStderr();
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "loud");
    try {
      expect(new Logger().level).toBe("warn");
    } finally {
      vi.unstubAllEnvs();
    }
    expect(err.text()).toMatch(/ignoring ASYNCFLOW_LOG_LEVEL=loud: expected debug\|info\|warn\|error/);
  });
});

describe("values thrown that String() cannot convert", () => {
  it("fail their task, its dependents and its retries with a description; nothing throws out of the engine", async () => {
    const flow = await engine();
    const odd = (): unknown => Object.create(null);
    const bad = flow.functionTask(async (): Promise<number> => {
      throw odd();
    }, { name: "bad" });
    const retried = flow.functionTask((): number => {
      throw odd();
    }, { name: "retried", retries: 1, retryDelay: 1 });
    const dependent = flow.functionTask((x: number) => x, { name: "dependent" });
    const f = dependent(bad());
    await expect(f).rejects.toThrow(/^task\.\d+ \(dependent\) did not run: .*bad.*\[object Object\]/);
    // retried, then failed with the value its last attempt threw, not with the engine's TypeError
    const r = retried();
    const thrown = await r.then(() => null, (e: unknown) => e);
    expect(Object.getPrototypeOf(thrown)).toBeNull();
    expect(r.state).toBe("FAILED");
    await flow.shutdown();
  });
});
