import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, expect, vi } from "vitest";
import { startRedis, type RedisServer } from "./redis.js";
import { WorkflowEngine, type EngineOptions, type ExecutionBackend, type ReportState, type ReportedState, type RunInfo, type TaskFuture, type TaskRun } from "../lib/index.js";

const open: WorkflowEngine[] = [];

/** Runs a fixture script (under tsx, with `args`): it must exit by itself, with status 0 (no uncaught error) and `stdout`. */
export function expectExitsByItself(script: URL, stdout: string, timeout = 60_000, args: string[] = []): void {
  const r = spawnSync(process.execPath, ["--import", "tsx", script.pathname, ...args], { encoding: "utf8", timeout });
  expect(r.signal, "killed by the spawn's bound: the process did not exit").toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe(stdout);
}

/** An engine that is shut down after the test; signals are left to the test runner. */
export async function engine(options: EngineOptions = {}): Promise<WorkflowEngine> {
  const flow = await WorkflowEngine.create({ handleSignals: false, ...options });
  open.push(flow);
  return flow;
}

// One hook, in this order: what the engines say as they shut down (a debug
// line, the summary of failures nobody looked at) is still captured by the
// test that captured stderr, and the run's output shows only real failures.
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.shutdown()));
  vi.restoreAllMocks();
});

/** A promise and its settle functions, to hold a task body until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void; fail(error: unknown): void } {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

/** Checks `done` every 10 ms until it holds or `ms` have passed; the assertions after it say what was expected. */
export async function until(done: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  for (const end = performance.now() + ms; !(await done()) && performance.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

/** Waits (bounded) until every future is RUNNING: handed to a worker that started it. */
export const running = (...fs: Pick<TaskFuture, "state">[]): Promise<void> => until(() => fs.every((f) => f.state === "RUNNING"), 10_000);

/** Lets microtasks and one macrotask turn run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** What is written to stderr (the engine's log) from now until the test ends: `text()` joins it. */
export function captureStderr(): { readonly lines: string[]; text(): string } {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return { lines, text: () => lines.join("") };
}


/** What a backend reported to its engine: `seen` as `uid:STATE` in order, the runs it reported on by uid, and the engine's report callback. */
export interface Recorder {
  readonly seen: string[];
  readonly runs: Map<string, TaskRun>;
  report: ReportState;
}

/** Records every report `backend` makes to its engine; call before the engine attaches it. */
export function recorded(backend: ExecutionBackend): Recorder {
  const rec: Recorder = { seen: [], runs: new Map(), report: () => undefined };
  const attach = backend.attach.bind(backend);
  backend.attach = (report, env) => {
    rec.report = report;
    return attach((run, state: ReportedState, value, info) => {
      rec.seen.push(`${run.uid}:${state}`);
      rec.runs.set(run.uid, run);
      report(run, state, value, info);
    }, env);
  };
  return rec;
}

/** Whether process `pid` runs and is not a zombie (a container's init may not reap orphans). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** A redis-server for the calling file or describe block (started before its tests, stopped after them) and a client of it. */
export function useRedis(): { readonly server: RedisServer; readonly client: Redis } {
  const used = {} as { server: RedisServer; client: Redis };
  beforeAll(async () => {
    used.server = await startRedis();
    used.client = new Redis(used.server.url);
  });
  afterAll(async () => {
    used.client?.disconnect();
    await used.server?.stop();
  });
  return used;
}

/** A queue-like backend driven by hand: it holds each run it is given, and reports on the last one only when the test says. */
export function byHand(): { backend: ExecutionBackend; report(state: "RUNNING" | "DONE", value?: unknown, info?: RunInfo): void } {
  let report: ReportState | undefined;
  let held: TaskRun | undefined;
  const backend: ExecutionBackend = {
    name: "hand",
    attach: (r) => void (report = r),
    submit: (run) => void (held = run),
    cancel: () => undefined,
    shutdown: async () => undefined,
  };
  return { backend, report: (state, value, info) => report!(held!, state, value, info) };
}
