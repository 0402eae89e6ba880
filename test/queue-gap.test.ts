/**
 * The engine's check for events trimmed from the queue's stream before it
 * read them (reconcile.ts), on a real redis-server: a stream that started
 * empty and lost nothing is no gap (it once was taken for one at the first
 * check, which read every job's state and warned of trimmed events), nor is
 * a stream trimmed of events already read. The trimmed case itself, end to
 * end, is in queue-faults.test.ts.
 */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { QueueBackend } from "../lib/index.js";
import { mayHaveLostEvents, streamMark } from "../backends/queue/reconcile.js";
import * as tasks from "./fixtures/tasks.js";
import { engine, running, until, useRedis } from "./helpers.js";
import { TASKS_MODULE, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

const used = useRedis();

describe("the queue's gap check", () => {
  it("a stream that started empty and lost nothing: no gap; trimmed past what was read: a gap (XINFO's counts)", async () => {
    const stream = "gap:unit";
    const empty = await streamMark(used.client, stream);
    expect(empty).toEqual({ first: null, last: null, added: 0, removed: 0 });
    for (let i = 0; i < 10; i++) await used.client.xadd(stream, "*", "i", String(i));
    const grown = await streamMark(used.client, stream);
    expect(grown.added).toBe(10);
    expect(grown.removed).toBe(0);
    // nothing read yet ("0-0"), every entry newer than that: still no gap, none was removed
    expect(mayHaveLostEvents("0-0", empty, grown)).toBe(false);
    await used.client.xtrim(stream, "MAXLEN", 4);
    const trimmed = await streamMark(used.client, stream);
    expect(trimmed.removed).toBe(6);
    expect(mayHaveLostEvents("0-0", grown, trimmed)).toBe(true);
    // read up to the entry that is now first: whatever was trimmed had been read
    expect(mayHaveLostEvents(trimmed.first!, grown, trimmed)).toBe(false);
    // Redis before 7 (no counts): the first entry alone decides
    const uncounted = (m: typeof grown) => ({ ...m, added: null, removed: null });
    expect(mayHaveLostEvents("0-0", uncounted(empty), uncounted(grown))).toBe(true);
  });

  it("a fresh queue whose jobs are still out at the gap checks: the engine reads no job's state (no reconciliation)", async () => {
    let worker: WorkerProcess | null = null;
    let monitor: Redis | null = null;
    let shutdown = async (): Promise<void> => undefined;
    try {
      worker = await startAsyncflowWorker(["--connection", used.server.url, "--secret-file", TEST_SECRET_FILE, "--module", TASKS_MODULE, "--queue", "fresh"]);
      expect(worker.serving).toBe(true);
      const seen: string[] = [];
      monitor = await used.client.monitor();
      monitor.on("monitor", (_time: string, args: string[]) => seen.push(args.join(" ")));
      const flow = await engine({ backend: new QueueBackend({ connection: used.server.url, queue: "fresh", secret: TEST_SECRET }) });
      shutdown = () => flow.shutdown();
      const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
      f.catch(() => undefined);
      await running(f);
      // Two looks at the stream after the job went out (a gap check every second while jobs are out): a reconciliation
      // after the first would have read the job's state before the second (the next check waits for it).
      const looks = (): number => seen.filter((c) => /^(xinfo stream|xrange) bull:fresh:events\b/i.test(c)).length;
      const before = looks();
      await until(() => looks() >= before + 2, 10_000);
      expect(looks()).toBeGreaterThanOrEqual(before + 2);
      // what readJobs asks of each job: its outcome among its fields
      expect(seen.filter((c) => /^hmget bull:fresh:\S+ timestamp finishedOn/i.test(c))).toEqual([]);
    } finally {
      monitor?.disconnect();
      // the job runs until cancelled: the engine's shutdown cancels it, then the worker can stop
      await shutdown();
      if (worker !== null) await stopWorkerProcess(worker.child);
    }
  }, 30_000);

  it("events trimmed after the engine read them: no reconciliation (the check starts from the furthest event read)", async () => {
    let worker: WorkerProcess | null = null;
    let monitor: Redis | null = null;
    let shutdown = async (): Promise<void> => undefined;
    try {
      worker = await startAsyncflowWorker(["--connection", used.server.url, "--secret-file", TEST_SECRET_FILE, "--module", TASKS_MODULE, "--queue", "read"]);
      const seen: string[] = [];
      monitor = await used.client.monitor();
      monitor.on("monitor", (_time: string, args: string[]) => seen.push(args.join(" ")));
      const flow = await engine({ backend: new QueueBackend({ connection: used.server.url, queue: "read", secret: TEST_SECRET }) });
      shutdown = () => flow.shutdown();
      const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
      f.catch(() => undefined);
      await running(f); // its active event was read
      const looks = (): number => seen.filter((c) => /^(xinfo stream|xrange) bull:read:events\b/i.test(c)).length;
      const after = looks();
      await until(() => looks() >= after + 1, 10_000); // a check that saw the active event read
      // Everything before the job's active event goes: all of it read, so nothing was lost.
      const entries = await used.client.xrange("bull:read:events", "-", "+");
      const active = entries.find(([, fields]) => fields[0] === "event" && fields[1] === "active")![0];
      expect(await used.client.xtrim("bull:read:events", "MINID", active)).toBeGreaterThan(0);
      const trimmed = looks();
      await until(() => looks() >= trimmed + 2, 10_000);
      expect(seen.filter((c) => /^hmget bull:read:\S+ timestamp finishedOn/i.test(c))).toEqual([]);
    } finally {
      monitor?.disconnect();
      await shutdown();
      if (worker !== null) await stopWorkerProcess(worker.child);
    }
  }, 30_000);
});
