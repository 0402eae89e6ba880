import { spawn, spawnSync } from "node:child_process";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { LocalBackend, ThreadBackend, type DependencyFailureError, type TaskFuture } from "../lib/index.js";
import { alive, engine, gate, tick, until } from "./helpers.js";

const tasksModule = new URL("./fixtures/thread-tasks.ts", import.meta.url);

describe("inspect()", () => {
  it("rows say WAITING on what, QUEUED behind `concurrency: 1` with the queue's figures, RUNNING on what and since when", async () => {
    const flow = await engine({ backend: new LocalBackend({ concurrency: 1 }) });
    const hold = gate<number>();
    const callApi = flow.functionTask(async function callApi() {
      return hold.promise;
    });
    const fetch = flow.functionTask(async function fetch(i: number) {
      return i;
    });
    const merge = flow.functionTask(function merge(a: number, b: number) {
      return a + b;
    });
    const api = callApi();
    const [f1, f2] = [fetch(1), fetch(2)];
    const m = merge(api, f1);
    await until(() => api.state === "RUNNING");
    const rows = flow.inspect();
    expect(rows.map((r) => [r.uid, r.name, r.state, r.reason])).toEqual([
      [api.uid, "callApi", "RUNNING", "RUNNING"],
      [f1.uid, "fetch", "PENDING", "QUEUED"],
      [f2.uid, "fetch", "PENDING", "QUEUED"],
      [m.uid, "merge", "PENDING", "WAITING"],
    ]);
    expect(rows[0]).toMatchObject({ kind: "function", backend: "local", where: "local", attempt: 1, waitingFor: [] });
    expect(rows[1]).toMatchObject({ queueLength: 2, capacity: 1 });
    expect(rows[3]!.waitingFor).toEqual([
      { uid: api.uid, name: "callApi", state: "RUNNING" },
      { uid: f1.uid, name: "fetch", state: "PENDING" },
    ]);
    for (const r of rows) expect(r.ageMs).toBeGreaterThanOrEqual(r.inStateMs);
    hold.open(1);
    expect(await m).toBe(2);
    expect(flow.inspect()).toEqual([]);
  });

  it("QUEUED on a full thread pool, with each run's position, the queue's length and the pool's threads", async () => {
    const threads = new ThreadBackend({ maxThreads: 1 });
    const flow = await engine({ backend: [new LocalBackend(), threads] });
    const hold = flow.functionTask((_c: Int32Array, _s: number, _ms: number) => 0, { name: "hold", backend: "threads", module: tasksModule });
    const cells = new Int32Array(new SharedArrayBuffer(16));
    try {
      const long = hold(cells, 1, 0); // holds the only thread until cells[0] is set
      const queued = [hold(cells, 2, 0), hold(cells, 3, 0)];
      await until(() => long.state === "RUNNING" && Atomics.load(cells, 1) !== 0, 10_000);
      const rows = flow.inspect();
      expect(rows.map((r) => r.reason)).toEqual(["RUNNING", "QUEUED", "QUEUED"]);
      expect(rows[1]).toMatchObject({ uid: queued[0]!.uid, position: 1, queueLength: 2, capacity: 1, where: 'thread pool "threads"' });
      expect(rows[2]).toMatchObject({ uid: queued[1]!.uid, position: 2, queueLength: 2, capacity: 1 });
      expect(flow.explain(queued[1]!)).toMatch(/^hold \(task\.000003\) is PENDING: QUEUED on thread pool "threads" for [\d.]+ m?s \(position 2 of 2, 1 at a time\)$/);
    } finally {
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
    }
  });
});

describe("inspect() of a task waiting to retry", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("BACKING_OFF on LocalBackend with the next attempt's time and the last error, said by explain(); RUNNING once the delay is over", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const flow = await engine();
    const hold = gate<number>();
    let calls = 0;
    const fetch = flow.functionTask(
      async function fetch() {
        if (++calls === 1) throw new TypeError("fetch failed");
        return hold.promise;
      },
      { retries: 3, retryDelay: 1200, retryJitter: 0 },
    );
    const merge = flow.functionTask(function merge(a: number) {
      return a;
    });
    const f = fetch();
    const m = merge(f);
    await vi.advanceTimersByTimeAsync(0);
    const failedAt = performance.now();
    const [row, waiting] = flow.inspect();
    expect(row).toMatchObject({ uid: f.uid, state: "PENDING", reason: "BACKING_OFF", attempt: 2, maxAttempts: 4, inStateMs: 0, lastError: { name: "TypeError", message: "fetch failed" } });
    expect(row!.lastError!.stack).toMatch(/^TypeError: fetch failed\n/);
    expect(row!.nextAttemptAt).toBeCloseTo(performance.timeOrigin + failedAt + 1200, 3);
    expect(row!.where).toBeUndefined();
    expect(waiting).toMatchObject({ uid: m.uid, reason: "WAITING" });
    expect(flow.explain(f)).toBe("fetch (task.000001) is PENDING: BACKING_OFF, attempt 2 of 4 in 1.2 s after TypeError: fetch failed");
    expect(flow.explain(m)).toBe("merge (task.000002) is PENDING: it waits on fetch (task.000001): BACKING_OFF, attempt 2 of 4 in 1.2 s after TypeError: fetch failed");

    await vi.advanceTimersByTimeAsync(700);
    expect(flow.inspect()[0]).toMatchObject({ reason: "BACKING_OFF", inStateMs: 700 });
    expect(flow.explain(f)).toBe("fetch (task.000001) is PENDING: BACKING_OFF, attempt 2 of 4 in 500 ms after TypeError: fetch failed");

    await vi.advanceTimersByTimeAsync(500);
    const running = flow.inspect()[0]!;
    expect(running).toMatchObject({ state: "RUNNING", reason: "RUNNING", attempt: 2, maxAttempts: 4 });
    expect(running.lastError).toBeUndefined();
    expect(running.nextAttemptAt).toBeUndefined();
    expect(flow.explain(f)).toBe("fetch (task.000001) is RUNNING: RUNNING on local for 0 ms, attempt 2 of 4");
    hold.open(5);
    expect(await m).toBe(5);
  });

  it("BACKING_OFF on ThreadBackend after the body failed in a worker thread", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 1 })] });
    const fail = flow.functionTask((_message: string): number => 0, {
      name: "fail",
      backend: "threads",
      module: new URL("./fixtures/tasks.ts", import.meta.url),
      retries: 2,
      retryDelay: 600_000,
      retryDelayMax: 600_000,
      retryJitter: 0,
    });
    const before = performance.timeOrigin + performance.now();
    const f = fail("HTTP 503");
    await until(() => flow.inspect()[0]?.reason === "BACKING_OFF", 30_000);
    const row = flow.inspect()[0]!;
    expect(row).toMatchObject({ uid: f.uid, state: "PENDING", reason: "BACKING_OFF", backend: "threads", attempt: 2, maxAttempts: 3, lastError: { name: "RangeError", message: "HTTP 503" } });
    expect(row.nextAttemptAt).toBeGreaterThan(before + 600_000);
    expect(row.nextAttemptAt).toBeLessThan(performance.timeOrigin + performance.now() + 600_000);
    expect(flow.explain(f)).toMatch(/^fail \(task\.000001\) is PENDING: BACKING_OFF, attempt 2 of 3 in (599\.\d|600\.0) s after RangeError: HTTP 503$/);
  }, 60_000);
});

describe("inspect() of a task whose arguments an asynchronous inputs schema checks", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("VALIDATING, from when the check began, whether its arguments came from dependencies or from the call; then RUNNING", async () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const flow = await engine();
    const check = gate<boolean>();
    const inputs = z.tuple([z.number().refine(async () => check.promise)]);
    const src = flow.functionTask(function src() {
      return 1;
    });
    const hold = gate<number>();
    const checked = flow.functionTask(async (x: number) => x + (await hold.promise), { name: "checked", inputs });
    const fromDependency = checked(src());
    const fromCall = checked(2);
    const rowsOf = () => flow.inspect().filter((r) => r.name === "checked");
    await until(() => rowsOf().every((r) => r.reason === "VALIDATING"), 5_000);
    vi.advanceTimersByTime(300);
    expect(rowsOf().map((r) => [r.uid, r.reason, r.inStateMs])).toEqual([
      [fromDependency.uid, "VALIDATING", 300],
      [fromCall.uid, "VALIDATING", 300],
    ]);
    expect(flow.explain(fromDependency)).toBe("checked (task.000002) is PENDING: VALIDATING its arguments (an asynchronous inputs schema) for 300 ms");
    check.open(true);
    await until(() => fromDependency.state === "RUNNING" && fromCall.state === "RUNNING");
    expect(rowsOf().map((r) => r.reason)).toEqual(["RUNNING", "RUNNING"]);
    hold.open(10);
    expect([await fromDependency, await fromCall]).toEqual([11, 12]);
  });
});

describe("inspect() of a call sharing another's running call (cache: true)", () => {
  it("WAITING on the call it shares, said by explain(); when that call is cancelled, the next caller runs it and the rest wait on that one", async () => {
    const flow = await engine();
    const hold = gate<number>();
    const slow = flow.functionTask(async (x: number) => x + (await hold.promise), { name: "slow", cache: true });
    const [a, b, c] = [slow(1), slow(1), slow(1)];
    await until(() => a.state === "RUNNING", 5_000);
    const rows = flow.inspect();
    expect(rows.map((r) => [r.uid, r.reason, r.waitingFor.map((w) => w.uid)])).toEqual([
      [a.uid, "RUNNING", []],
      [b.uid, "WAITING", [a.uid]],
      [c.uid, "WAITING", [a.uid]],
    ]);
    expect(flow.explain(b)).toMatch(/^slow \(task\.000002\) is PENDING: it shares the running call of slow \(task\.000001\) \(cache: true\): RUNNING on local for \d+ ms, attempt 1$/);
    a.cancel("not needed");
    await until(() => b.state === "RUNNING", 5_000);
    expect(flow.inspect().map((r) => [r.uid, r.reason, r.waitingFor.map((w) => w.uid)])).toEqual([
      [b.uid, "RUNNING", []],
      [c.uid, "WAITING", [b.uid]],
    ]);
    hold.open(1);
    expect([await b, await c]).toEqual([2, 2]);
  });
});

describe("explain()", () => {
  async function chain() {
    const flow = await engine();
    const hold = gate<number>();
    const callExternalApi = flow.functionTask(async function callExternalApi() {
      return hold.promise;
    });
    const merge = flow.functionTask(function merge(a: number) {
      return a;
    });
    const report = flow.functionTask(function report(a: number) {
      return a;
    });
    return { flow, hold, callExternalApi, merge, report };
  }

  it("follows a chain of waits to the task that holds it up", async () => {
    const { flow, hold, callExternalApi, merge, report } = await chain();
    const api = callExternalApi();
    const r = report(merge(api));
    await until(() => api.state === "RUNNING");
    expect(flow.explain(r)).toMatch(
      /^report \(task\.000003\) is PENDING: it waits on merge \(task\.000002\), which waits on callExternalApi \(task\.000001\): RUNNING on local for [\d.]+ m?s, attempt 1$/,
    );
    expect(flow.explain(api)).toMatch(/^callExternalApi \(task\.000001\) is RUNNING: RUNNING on local for [\d.]+ m?s, attempt 1$/);
    hold.open(7);
    await r;
    expect(flow.explain(r)).toBe("report (task.000003) is DONE");
  });

  it("counts a long chain instead of spelling it out, in time linear in its length", async () => {
    const { flow, hold, callExternalApi, merge } = await chain();
    let f: TaskFuture<number> = callExternalApi();
    for (let i = 0; i < 5000; i++) f = merge(f);
    await tick();
    expect(flow.explain(f)).toMatch(
      /^merge \(task\.005001\) is PENDING: it waits on merge \(task\.005000\), which waits on merge \(task\.004999\), which waits on merge \(task\.004998\), which waits on a chain of 4997 tasks down to callExternalApi \(task\.000001\): RUNNING on local for [\d.]+ m?s, attempt 1$/,
    );
    hold.open(1);
    await f;
  });

  it("groups a fan-in by what holds its inputs up", async () => {
    const flow = await engine({ backend: new LocalBackend({ concurrency: 1 }) });
    const hold = gate<number>();
    const fetch = flow.functionTask(async function fetch(_i: number) {
      return hold.promise;
    });
    const parse = flow.functionTask(function parse(x: number) {
      return x;
    });
    const sum = flow.functionTask(function sum(xs: number[]) {
      return xs.length;
    });
    const first = fetch(0);
    const late = [fetch(1), fetch(2)];
    const s = sum([...Array.from({ length: 36 }, () => parse(first)), ...late, 5, 6]);
    await until(() => first.state === "RUNNING");
    expect(flow.explain(s)).toMatch(
      /^sum \(task\.000040\) is PENDING: it waits on 38 of 38 inputs; 36 of them wait on fetch \(task\.000001\): RUNNING on local for [\d.]+ m?s, attempt 1; 2 are fetch tasks like task\.000002: QUEUED on event loop \(concurrency 1\) for [\d.]+ m?s \(2 waiting, 1 at a time\)$/,
    );
    hold.open(1);
    expect(await s).toBe(40);
  });

  it("a task queued behind a cancelled body that ignores its signal names that body, which still holds the slot", async () => {
    const flow = await engine({ backend: new LocalBackend({ concurrency: 1 }) });
    const hold = gate<number>();
    const stubborn = flow.functionTask(() => hold.promise, { name: "stubborn" })();
    const next = flow.functionTask(() => 2, { name: "next" })();
    const queuedThenCancelled = flow.functionTask(() => 3, { name: "queued" })();
    await until(() => stubborn.state === "RUNNING");
    stubborn.cancel("enough");
    queuedThenCancelled.cancel(); // never in a slot: not named
    await tick();
    expect(flow.explain(next)).toMatch(
      /^next \(task\.000002\) is PENDING: QUEUED on event loop \(concurrency 1\) for [\d.]+ m?s \(2 waiting, 1 at a time, 1 slot\(s\) held by cancelled bodies that have not returned \(they ignore their signal\): stubborn \(task\.000001\), cancelled [\d.]+ s ago\)$/,
    );
    hold.open(1);
    expect(await next).toBe(2);
    // the slot let go: nothing held any more
    const after = flow.functionTask(() => new Promise<number>(() => undefined), { name: "after" });
    const [a, b] = [after(), after()];
    await until(() => a.state === "RUNNING");
    expect(flow.explain(b)).toMatch(/\(1 waiting, 1 at a time\)$/);
    a.cancel();
    b.cancel();
  });

  it("with more cancelled bodies holding slots than it names, it names the first three and counts the rest", async () => {
    const flow = await engine({ backend: new LocalBackend({ concurrency: 5 }) });
    const hold = gate<number>();
    const stubborn = flow.functionTask(() => hold.promise, { name: "stubborn" });
    const held = Array.from({ length: 5 }, () => stubborn());
    const next = flow.functionTask(() => 2, { name: "next" })();
    await until(() => held.every((f) => f.state === "RUNNING"));
    for (const f of held) f.cancel();
    await tick();
    const named = [1, 2, 3].map((i) => `stubborn \\(task\\.00000${i}\\), cancelled [\\d.]+ s ago`).join("; ");
    expect(flow.explain(next)).toMatch(new RegExp(`5 slot\\(s\\) held by cancelled bodies that have not returned \\(they ignore their signal\\): ${named} and 2 more\\)$`));
    hold.open(1);
    expect(await next).toBe(2);
  });

  it("names the root cause of a failure, and the reason of a cancel", async () => {
    const { flow, hold, callExternalApi, merge, report } = await chain();
    const boom = flow.functionTask(function callExternalApi(): number {
      throw new RangeError("HTTP 503");
    });
    const r = report(merge(boom()));
    await expect(r).rejects.toThrow();
    expect(flow.explain(r)).toBe("report (task.000003) FAILED without running: root cause callExternalApi (task.000001) failed through merge (task.000002) with RangeError: HTTP 503");
    const c = report(callExternalApi());
    c.cancel("not needed");
    expect(flow.explain(c)).toBe("report (task.000005) was CANCELLED: not needed");
    // a chain of one name: the way through is still told, by uid
    const step = flow.functionTask(function step(x: number): number {
      if (x === 0) throw new RangeError("zero");
      return x;
    });
    const last = step(step(step(0)));
    await expect(last).rejects.toThrow();
    expect(flow.explain(last)).toMatch(/^step \(task\.(\d+)\) FAILED without running: root cause step \(task\.\d+\) failed through step \(task\.\d+\) with RangeError: zero$/);
    const direct = (last.exception() as DependencyFailureError).cause as DependencyFailureError;
    expect(flow.explain(last)).toContain(`through step (${direct.taskUid})`);
    hold.open(0);
  });

  it("a running block waits on the tasks its body made that nothing else of it waits on", async () => {
    const { flow, hold, callExternalApi, merge } = await chain();
    const pipeline = flow.block(async function pipeline() {
      return await merge(callExternalApi());
    });
    const b = pipeline();
    await until(() => flow.inspect().length === 3 && flow.inspect()[1]?.state === "RUNNING");
    expect(flow.explain(b)).toMatch(
      /^pipeline \(block\.000001\) is RUNNING: its body waits on merge \(task\.000003\), which waits on callExternalApi \(task\.000002\): RUNNING on local for [\d.]+ m?s, attempt 1$/,
    );
    expect(flow.inspect()[0]).toMatchObject({ uid: "block.000001", kind: "block", reason: "RUNNING", backend: "engine", where: "the engine", waitingFor: [{ uid: "task.000003", name: "merge", state: "PENDING" }] });
    hold.open(3);
    expect(await b).toBe(3);
  });

  it("refuses what is not a future of this engine", async () => {
    const flow = await engine();
    const other = await engine();
    const t = other.functionTask(function t() {
      return 1;
    })();
    expect(() => flow.explain(t)).toThrow(TypeError);
    expect(() => flow.explain({} as TaskFuture)).toThrow(/explain expects a future of engine/);
  });
});

describe("the dump signal", () => {
  it("is listened to only while an engine is open, once for all of them; `false` installs none; SIGUSR1 is refused and left alone", async () => {
    const count = (): [number, number] => [process.listenerCount("SIGUSR2"), process.listenerCount("SIGUSR1")];
    const [usr2, usr1] = count();
    const a = await engine();
    expect(count()).toEqual([usr2 + 1, usr1]);
    const b = await engine();
    const none = await engine({ dumpSignal: false });
    expect(count()).toEqual([usr2 + 1, usr1]);
    await a.shutdown();
    expect(count()).toEqual([usr2 + 1, usr1]);
    await b.shutdown();
    expect(count()).toEqual([usr2, usr1]);
    await none.shutdown();
    // @ts-expect-error: SIGUSR1 is Node's (the inspector)
    await expect(engine({ dumpSignal: "SIGUSR1" })).rejects.toThrow(/option `dumpSignal`/);
    expect(count()).toEqual([usr2, usr1]);
  });
});

describe("a flow never ends silently", () => {
  const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

  it("a process whose top-level await never settles prints what is unfinished and why, then exits", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture("stuck.ts")], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(13); // Node's code for an unsettled top-level await
    expect(r.stderr).toMatch(/asyncflow: the process is exiting, but engine asyncflow\.session\.[0-9a-f]+ was not shut down and 3 task\(s\) are unfinished:/);
    expect(r.stderr).toMatch(
      /\n {2}report \(task\.000003\) is PENDING: it waits on merge \(task\.000002\), which waits on callExternalApi \(task\.000001\): RUNNING on local for [\d.]+ m?s, attempt 1\n/,
    );
    expect(r.stderr.match(/the process is exiting/g)).toHaveLength(1);
  });

  it("a process that exits without shutdown() names the failures nobody looked at", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture("unlooked.ts")], { encoding: "utf8", timeout: 60_000 });
    expect([r.status, r.stdout]).toEqual([0, "1\n"]);
    expect(r.stderr).toMatch(/^asyncflow: the process is exiting, but engine asyncflow\.session\.[0-9a-f]+ was not shut down:\n {2}1 task failed and nobody looked at it: parse \(task\.000001\): SyntaxError: /);
    expect(r.stderr.match(/the process is exiting/g)).toHaveLength(1);
  });

  it("a process that dies with a command running takes the command's process group with it", async () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture("crash-running.ts")], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    const pid = Number(/^process (\d+)$/m.exec(r.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    try {
      await until(() => !alive(pid), 10_000);
      expect(alive(pid)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(-pid, "SIGKILL");
    }
  });

  it("SIGUSR2 prints the inspect() table and the explanations of a live process, which then finishes undisturbed", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture("dump.ts")], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += String(d)));
    child.stderr.on("data", (d: Buffer) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await until(() => out.includes("ready"), 60_000);
      expect(out).toContain("ready");
      child.kill("SIGUSR2");
      await until(() => err.includes("total (task.000002) is PENDING"), 30_000);
      expect(err).toMatch(/asyncflow: engine asyncflow\.session\.[0-9a-f]+: 2 unfinished task\(s\)\n/);
      expect(err).toMatch(/\n {2}uid +name +reason +where +age +in state +waiting for\n/);
      expect(err).toMatch(/\n {2}task\.000001 +fetch +RUNNING +local +[\d.]+ m?s +[\d.]+ m?s\n/);
      expect(err).toMatch(/\n {2}task\.000002 +total +WAITING +local +[\d.]+ m?s +[\d.]+ m?s +task\.000001\n/);
      expect(err).toMatch(/\n {2}total \(task\.000002\) is PENDING: it waits on fetch \(task\.000001\): RUNNING on local for [\d.]+ m?s, attempt 1\n/);
      child.stdin.write("21\n");
      expect(await exited).toBe(0);
      expect(out).toContain("total 42");
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
