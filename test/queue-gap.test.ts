/**
 * The engine's check for events trimmed from the queue's stream before it
 * read them (reconcile.ts), on a real redis-server: a stream that started
 * empty and lost nothing is no gap (it once was taken for one at the first
 * check, which read every job's state and warned of trimmed events), nor is
 * a stream trimmed of events already read. The trimmed case itself, end to
 * end, is in queue-faults.test.ts.
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { QueueBackend, type WorkflowEngine } from "../lib/index.js";
import type { Redis } from "ioredis";
import { GapWatch } from "../backends/queue/gap.js";
import { STALLED_TOO_OFTEN, mayHaveLostEvents, readJobs, readStarts, streamMark } from "../backends/queue/reconcile.js";
import * as tasks from "./fixtures/tasks.js";
import { engine, running, until, useRedis } from "./helpers.js";
import { TEST_SECRET, startTestWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

const used = useRedis();
const bullmqCommands = new URL("../node_modules/bullmq/dist/esm/commands/", import.meta.url);

/**
 * A worker and an engine on `queue`, with one job running (its active event read) until the engine shuts down, and
 * what Redis was asked meanwhile (MONITOR): the gap check's looks at the stream (one a second while jobs are out), and
 * the reconciliation's reads of job states.
 */
async function oneJobOut(queue: string): Promise<{ looks(): number; stateReads(): string[]; close(): Promise<void> }> {
  // MONITOR first, while Redis is idle: ioredis takes a monitored command read together with MONITOR's own reply for a
  // reply to no command ("Command queue state error"), which a worker already polling Redis once made happen.
  const seen: string[] = [];
  const monitor = await used.client.monitor();
  monitor.on("monitor", (_time: string, args: string[]) => seen.push(args.join(" ")));
  let worker: WorkerProcess | null = null;
  let flow: WorkflowEngine | null = null;
  // the job runs until cancelled: the engine's shutdown cancels it, then the worker can stop
  const close = async (): Promise<void> => {
    monitor.disconnect();
    await flow?.shutdown();
    if (worker !== null) await stopWorkerProcess(worker.child);
  };
  try {
    worker = await startTestWorker(used.server.url, ["--queue", queue]);
    expect(worker.serving).toBe(true);
    flow = await engine({ backend: new QueueBackend({ connection: used.server.url, queue, secret: TEST_SECRET }) });
    const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
    f.catch(() => undefined);
    await running(f);
    const look = new RegExp(`^(xinfo stream|xrange) bull:${queue}:events\\b`, "i");
    // what readJobs asks of each job: its outcome among its fields
    const stateRead = new RegExp(`^hmget bull:${queue}:\\S+ timestamp finishedOn`, "i");
    return { looks: () => seen.filter((c) => look.test(c)).length, stateReads: () => seen.filter((c) => stateRead.test(c)), close };
  } catch (error) {
    await close();
    throw error;
  }
}

describe("the queue's gap check", () => {
  it("after a gap is reconciled, events trimmed once read cause no further reconciliation", async () => {
    // The watch on a stream of its own, its reader played by the test: what a real engine does, without its traffic.
    const stream = "watched:events";
    await used.client.xadd(stream, "*", "event", "old");
    let looks = 0;
    let reconciled = 0;
    const counted = { xinfo: (sub: "STREAM", key: string) => (looks++, used.client.xinfo(sub, key)) } as unknown as Redis;
    const watch = new GapWatch(counted, stream, await streamMark(used.client, stream), () => true, async () => void reconciled++);
    const add = (): Promise<string> => used.client.xadd(stream, "MAXLEN", "10", "*", "event", "e") as Promise<string>;
    try {
      // 30 events trimmed to the last 10 before the engine read any: a gap; its reader then reads the 10 left
      for (let i = 0; i < 30; i++) await add();
      for (const [id] of await used.client.xrange(stream, "-", "+")) watch.read(id);
      watch.arm();
      await until(() => reconciled === 1, 5_000);
      // Steady traffic, each event read as it comes, 4 between checks: the stream's first entry passes the gap's within 3
      // checks, and stays behind what the previous check had read.
      for (let check = 0; check < 4; check++) {
        const seen = looks;
        for (let i = 0; i < 4; i++) watch.read(await add());
        await until(() => looks > seen, 5_000);
      }
      expect(reconciled).toBe(1);
    } finally {
      watch.stop();
    }
  }, 20_000);

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
    // nor when nothing at all happened since the previous look
    expect(mayHaveLostEvents("0-0", grown, grown)).toBe(false);
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

  it("a reconciliation reads each job's state from its hash: finished, failed, taken by a worker, waiting, or gone", async () => {
    const key = (id: string): string => `states:${id}`;
    const t = String(Date.now());
    await used.client.hset(key("done"), { timestamp: t, finishedOn: t, returnvalue: JSON.stringify({ v: 3, o: "{}" }) });
    await used.client.hset(key("big"), { timestamp: t, finishedOn: t, returnvalue: JSON.stringify({ v: 3, big: true }), afout: '{"value":1}' });
    // BullMQ keeps a return value beside the reason of a job that failed after all: failed
    await used.client.hset(key("failed"), { timestamp: t, finishedOn: t, returnvalue: "null", failedReason: "refused" });
    await used.client.hset(key("active"), { timestamp: t, processedOn: t, pb: "w1", ats: "2" });
    await used.client.hset(key("waiting"), { timestamp: t });
    expect(await readJobs(used.client, key, ["done", "big", "failed", "active", "waiting", "gone"])).toEqual([
      { kind: "completed", reply: { v: 3, o: "{}" }, stored: null },
      { kind: "completed", reply: { v: 3, big: true }, stored: '{"value":1}' },
      { kind: "failed", reason: "refused" },
      { kind: "active", where: "w1", delivery: 2 },
      { kind: "waiting" },
      { kind: "gone" },
    ]);
  });

  it("a start is read from its job's hash: its worker and delivery; a job failed unrun past maxStalledCount is no start, before and after its failure", async () => {
    const key = (id: string): string => `starts:${id}`;
    const t = String(Date.now());
    // BullMQ's deferred failure (its failedReason once failed), as its script writes it
    const script = readdirSync(bullmqCommands).find((f) => f.startsWith("moveStalledJobsToWait"))!;
    expect(readFileSync(new URL(script, bullmqCommands), "utf8")).toContain(`"${STALLED_TOO_OFTEN}"`);
    const stalled = STALLED_TOO_OFTEN;
    await used.client.hset(key("active"), { timestamp: t, processedOn: t, pb: "w1", ats: "2" });
    await used.client.hset(key("deferred"), { timestamp: t, processedOn: t, pb: "w2", ats: "3", defa: stalled });
    await used.client.hset(key("unrun"), { timestamp: t, processedOn: t, pb: "w2", ats: "3", finishedOn: t, failedReason: stalled });
    // a body that ran and failed did start
    await used.client.hset(key("ran"), { timestamp: t, processedOn: t, pb: "w3", ats: "1", finishedOn: t, failedReason: "boom" });
    await used.client.hset(key("waiting"), { timestamp: t });
    expect(await readStarts(used.client, key, ["active", "deferred", "unrun", "ran", "waiting", "gone"])).toEqual([
      { kind: "active", where: "w1", delivery: 2 },
      { kind: "failed", reason: stalled },
      { kind: "failed", reason: stalled },
      { kind: "active", where: "w3", delivery: 1 },
      null,
      null,
    ]);
  });

  it("a fresh queue whose jobs are still out at the gap checks: the engine reads no job's state (no reconciliation)", async () => {
    const out = await oneJobOut("fresh");
    try {
      // Two looks at the stream after the job went out: a reconciliation after the first would have read the job's
      // state before the second (the next check waits for it).
      const before = out.looks();
      await until(() => out.looks() >= before + 2, 10_000);
      expect(out.looks()).toBeGreaterThanOrEqual(before + 2);
      expect(out.stateReads()).toEqual([]);
    } finally {
      await out.close();
    }
  }, 30_000);

  it("events trimmed after the engine read them: no reconciliation (the check starts from the furthest event read)", async () => {
    const out = await oneJobOut("read");
    try {
      const after = out.looks();
      // a check that saw the active event read (the second after running(f): the first may have begun just before)
      await until(() => out.looks() >= after + 2, 10_000);
      // Everything before the job's active event goes: all of it read, so nothing was lost.
      const entries = await used.client.xrange("bull:read:events", "-", "+");
      const active = entries.find(([, fields]) => fields[0] === "event" && fields[1] === "active")![0];
      expect(await used.client.xtrim("bull:read:events", "MINID", active)).toBeGreaterThan(0);
      const trimmed = out.looks();
      // two checks that began after the trim (the first counted may have begun before it), and the one after, which
      // waits for a reconciliation the second would have started
      await until(() => out.looks() >= trimmed + 3, 10_000);
      expect(out.stateReads()).toEqual([]);
    } finally {
      await out.close();
    }
  }, 30_000);
});
