/**
 * The stall clock (`stallTimeout`) and slow tasks (`warnAfter`), on fake
 * timers: what restarts the clock, what is never a stall, and the one timer
 * behind both.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LocalBackend, type ExecutionBackend } from "../lib/index.js";
import { byHand, captureStderr, engine, gate, tick } from "./helpers.js";

describe("stall detection", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("warns once, naming the stuck task and what waits on it, when nothing completes for stallTimeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    const flow = await engine({ stallTimeout: 1000 });
    const never = gate<number>();
    const callExternalApi = flow.functionTask(async function callExternalApi() {
      return never.promise;
    });
    const merge = flow.functionTask(function merge(a: number) {
      return a;
    });
    merge(callExternalApi());
    await tick();
    await vi.advanceTimersByTimeAsync(999);
    expect(err.text()).not.toMatch(/stallTimeout/);
    await vi.advanceTimersByTimeAsync(1);
    expect(err.text()).toMatch(
      /no task finished for 1\.0 s \(stallTimeout\) while 2 are unfinished:\n {2}merge \(task\.000002\) is PENDING: it waits on callExternalApi \(task\.000001\): RUNNING on local for 1\.0 s, attempt 1/,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(err.text().match(/stallTimeout/g)).toHaveLength(1);
  });

  it("stays quiet while tasks keep completing or starting, each sooner than stallTimeout after the last, however long the flow", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    const flow = await engine({ stallTimeout: 1000 });
    const step = flow.functionTask(async function step(g: Promise<number>) {
      return g;
    });
    // All start at once; then one completes every 900 ms: only completions restart the clock.
    const gates = Array.from({ length: 6 }, () => gate<number>());
    const steps = gates.map((g) => step(g.promise));
    await tick();
    for (const [i, g] of gates.entries()) {
      await vi.advanceTimersByTimeAsync(900);
      g.open(i);
      await steps[i];
    }
    expect(err.text()).not.toMatch(/stallTimeout/);
    // Then one at a time, each started as the last completes, 900 ms apart.
    for (let i = 0; i < 4; i++) {
      const g = gate<number>();
      const f = step(g.promise);
      await vi.advanceTimersByTimeAsync(900);
      g.open(i);
      await f;
    }
    expect(err.text()).not.toMatch(/stallTimeout/);
    // Then none completes for 4.5 s, but a block starts a task every 900 ms: each start (a report) restarts the clock.
    const held = gates.map(() => gate<number>());
    const feeder = flow.block(async function feeder() {
      const started = [];
      for (const g of held) {
        started.push(step(g.promise));
        await new Promise((r) => setTimeout(r, 900));
      }
      return started.length;
    });
    const fed = feeder();
    await vi.advanceTimersByTimeAsync(900 * held.length - 1);
    expect(err.text()).not.toMatch(/stallTimeout/);
    for (const [i, g] of held.entries()) g.open(i);
    await vi.advanceTimersByTimeAsync(1);
    expect(await fed).toBe(held.length);
    const g = gate<number>();
    const f = step(g.promise);
    await vi.advanceTimersByTimeAsync(1000);
    expect(err.text()).toMatch(/stallTimeout/); // the same flow, stuck, is reported
    g.open(0);
    await f;
  });

  it("warnAfter reports a task running longer than that, by name, once", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    // stallTimeout keeps the timer ticking after the warning: a second warning would show.
    const flow = await engine({ stallTimeout: 200 });
    const g = gate<number>();
    const slow = flow.functionTask(async function crunch() {
      return g.promise;
    }, { warnAfter: 500 });
    const f = slow();
    await tick();
    await vi.advanceTimersByTimeAsync(499);
    expect(err.text()).not.toMatch(/warnAfter/);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(err.text().match(/crunch: running for [\d.]+ (ms|s), longer than its warnAfter \(500 ms\)/g)).toHaveLength(1);
    expect(err.text()).toContain(f.uid);
    g.open(1);
    await f;
  });

  it("a failed attempt is a report: retries each sooner than stallTimeout after the last report are no stall", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    const flow = await engine({ stallTimeout: 1000 });
    // Each attempt fails 900 ms after it starts and the next starts 900 ms later: 1.8 s between starts.
    const flaky = flow.functionTask(
      async function flaky() {
        await new Promise((r) => setTimeout(r, 900));
        throw new RangeError("HTTP 503");
      },
      { retries: 3, retryDelay: 900, retryDelayMax: 900, retryJitter: 0 },
    );
    const f = flaky();
    const failed = expect(f).rejects.toThrow("HTTP 503");
    await vi.advanceTimersByTimeAsync(4 * 900 + 3 * 900);
    await failed;
    expect(err.text()).not.toMatch(/stallTimeout/);
  });

  it("a redelivery is a report: a job handed to another worker restarts the clock", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    // RUNNING on a worker, then RUNNING again as delivery 2 (its first worker died).
    const hand = byHand();
    const flow = await engine({ backend: hand.backend, stallTimeout: 1000 });
    const f = flow.functionTask(function job() {
      return 1;
    })();
    await tick();
    hand.report("RUNNING", undefined, { where: "worker a:1", delivery: 1 });
    await vi.advanceTimersByTimeAsync(900);
    hand.report("RUNNING", undefined, { where: "worker b:2", delivery: 2 });
    await vi.advanceTimersByTimeAsync(900);
    expect(err.text()).not.toMatch(/stallTimeout/);
    await vi.advanceTimersByTimeAsync(100);
    expect(err.text()).toMatch(/no task finished for 1\.0 s \(stallTimeout\)/);
    hand.report("DONE", 1);
    expect(await f).toBe(1);
  });

  it("restarts when the flow goes from idle to busy, even with the timer still armed from before", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const err = captureStderr();
    // Takes runs and never reports on them: only going busy can restart the clock.
    const silent: ExecutionBackend = { name: "silent", attach: () => undefined, submit: () => undefined, cancel: () => undefined, shutdown: async () => undefined };
    const flow = await engine({ backend: [new LocalBackend(), silent], stallTimeout: 1000 });
    const quick = flow.functionTask(function quick() {
      return 1;
    });
    const held = flow.functionTask(function held() {
      return 2;
    }, { backend: "silent" });
    expect(await quick()).toBe(1); // busy at 0, idle again at once: the timer stays armed for 1000
    await vi.advanceTimersByTimeAsync(500);
    held();
    await vi.advanceTimersByTimeAsync(999);
    expect(err.text()).not.toMatch(/stallTimeout/);
    await vi.advanceTimersByTimeAsync(1);
    expect(err.text()).toMatch(/no task finished for 1\.0 s \(stallTimeout\) while 1 are unfinished:\n {2}held \(task\.000002\) is PENDING: QUEUED on silent for 1\.0 s/);
  });

  it("one timer at most, unref'd, alive only while stallTimeout is set or a live task has warnAfter", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const made = vi.spyOn(globalThis, "setTimeout");
    const refs = (): boolean[] => made.mock.results.map((r) => (r.value as { hasRef(): boolean }).hasRef());
    const gates = Array.from({ length: 20 }, () => gate<number>());
    const step = async (g: Promise<number>): Promise<number> => g;

    const plain = await engine();
    const untimed = plain.functionTask(step);
    const runs = gates.slice(0, 10).map((g) => untimed(g.promise));
    await tick();
    expect(vi.getTimerCount()).toBe(0); // neither stallTimeout nor warnAfter: no timer
    const watched = plain.functionTask(step, { warnAfter: 60_000 });
    const slow = gates.slice(10).map((g) => watched(g.promise));
    await tick();
    expect(vi.getTimerCount()).toBe(1); // ten tasks with warnAfter: one timer
    for (const [i, g] of gates.entries()) g.open(i);
    await Promise.all([...runs, ...slow]);
    expect(vi.getTimerCount()).toBe(0); // the last task with warnAfter ended: its timer went with it
    await plain.shutdown();

    const err = captureStderr();
    const stalling = await engine({ stallTimeout: 1000 });
    const g = gate<number>();
    const both = stalling.functionTask(step, { warnAfter: 300 })(g.promise);
    await tick();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5000); // the warning, then the stall, then looking again
    expect(vi.getTimerCount()).toBe(1);
    g.open(0);
    await both;
    expect(refs().length).toBeGreaterThan(1);
    expect(refs().every((r) => !r)).toBe(true);
    expect(err.text()).toMatch(/longer than its warnAfter \(300 ms\)[^]*no task finished for [\d.]+ s \(stallTimeout\)/);
  });
});
