/** Task contracts on real worker threads: the shared contract suite, and a timed-out body's thread terminated and replaced. */
import { describe, expect, it } from "vitest";
import { TaskTimeoutError, ThreadBackend } from "../lib/index.js";
import { contractConformance } from "./contract-conformance.js";
import { engine } from "./helpers.js";

const module = new URL("./fixtures/contract-tasks.ts", import.meta.url);

contractConformance("threads (TypeScript module tasks)", { make: () => new ThreadBackend({ maxThreads: 2 }), taskOptions: { module }, timeScale: 10 });

describe("timeouts on ThreadBackend", () => {
  // The limit is generous because it counts the replacement thread's start (loading the module) for the next task.
  it("a timed-out body that blocks its thread is terminated: the one thread serves the next task", async () => {
    const threads = new ThreadBackend({ maxThreads: 1 });
    const flow = await engine({ backend: threads });
    const spin = flow.functionTask((await import("./fixtures/contract-tasks.js")).spin, { module, name: "spin", timeout: 5000 });
    // 10 minutes of CPU: had its thread kept running, the next task would wait for it, past the test's timeout
    const err = (await spin(600_000).catch((e: unknown) => e)) as TaskTimeoutError;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err).toMatchObject({ what: "attempt", ms: 5000 });
    expect(await spin(1)).toBe("spun");
  }, 60_000);
});
