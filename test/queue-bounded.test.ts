/**
 * What a queue run leaves in Redis is bounded (the audit's growth finding,
 * #15), on a real redis-server with a worker process started through the CLI:
 * large results travel in their job's hash, not in the event stream; the
 * finished jobs the engine read are removed soon after, in batches; the record
 * of cancels expires.
 */
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { QueueBackend } from "../lib/index.js";
import { CANCEL_MEMORY_MS, keys } from "../backends/queue/cancels.js";
import { jobPrefixOf } from "../backends/queue/index.js";
import { INLINE_OUTCOME } from "../backends/queue/protocol.js";
import { FinishedJobs } from "../backends/queue/removal.js";
import * as tasks from "./fixtures/tasks.js";
import { engine, running, until, useRedis } from "./helpers.js";
import { TEST_SECRET, startTestWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

const used = useRedis();

/** Starts a CLI worker on `queue` that runs the fixtures' tasks and shipped source, signed as the engines here sign. */
const worker = (queue: string): Promise<WorkerProcess> =>
  startTestWorker(used.server.url, ["--allow-source", "--queue", queue]);

describe("what a queue run leaves in Redis", () => {
  it("200 results of 20 KB: none goes through the event stream, and no job of the run is left soon after it", async () => {
    const w = await worker("big");
    try {
      const backend = new QueueBackend({ connection: used.server.url, queue: "big", secret: TEST_SECRET });
      const flow = await engine({ backend });
      const big = flow.functionTask((i: number) => `${i}:`.padEnd(20_000, "x"), { name: "big" });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => big(i)));
      expect(results.map((r) => r.length)).toEqual(Array(200).fill(20_000));
      expect(results[7]!.startsWith("7:x")).toBe(true);
      // The stream holds each job's events, none of them carrying a result above the inline limit.
      const entries = await used.client.xrange("bull:big:events", "-", "+");
      expect(entries.filter(([, fields]) => fields.includes("completed")).length).toBe(200);
      const largest = Math.max(...entries.map(([, fields]) => fields.join("").length));
      expect(largest).toBeLessThan(INLINE_OUTCOME * 2);
      // The jobs the engine read are removed in its next batch, not kept for keepFinished (600 s by default).
      const jobs = `bull:big:${jobPrefixOf(backend)}.*`;
      await until(async () => (await used.client.keys(jobs)).length === 0, 10_000);
      expect(await used.client.keys(jobs)).toEqual([]);
      expect(await used.client.zcard("bull:big:completed")).toBe(0);
    } finally {
      await stopWorkerProcess(w.child);
    }
  }, 60_000);

  it("finished jobs are removed in batches: a short one by its timer, a full one (1,000) at once", async () => {
    const queue = new Queue("batches", { connection: used.client });
    try {
      const finished = new FinishedJobs(used.client, queue);
      const made = async (ids: string[]): Promise<string[]> => {
        const p = used.client.pipeline();
        for (const id of ids) p.hset(queue.toKey(id), "finishedOn", "1").zadd(queue.keys.completed!, 1, id);
        await p.exec();
        return ids.map((id) => queue.toKey(id));
      };
      // Asked on the connection the removals go by, so answered after anything the adds before it sent.
      const left = (keys: string[]): Promise<number> => used.client.exists(...keys);
      const few = await made(["a", "b", "c"]);
      for (const id of ["a", "b", "c"]) finished.add(id);
      expect(await left(few)).toBe(3); // held for the adds that follow
      await until(async () => (await left(few)) === 0, 5_000);
      expect(await left(few)).toBe(0);
      const ids = Array.from({ length: 1000 }, (_, i) => `j${i}`);
      const full = await made(ids);
      for (const id of ids) finished.add(id);
      // no turn of the event loop since the last add: its timer cannot have fired
      expect(await left(full)).toBe(0);
      expect(await used.client.zcard(queue.keys.completed!)).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it("the record of cancels expires (PEXPIRE), without waiting for the next cancel to prune it", async () => {
    const w = await worker("cancels");
    try {
      const flow = await engine({ backend: new QueueBackend({ connection: used.server.url, queue: "cancels", secret: TEST_SECRET }) });
      const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
      f.catch(() => undefined);
      await running(f);
      f.cancel();
      const record = keys("bull", "cancels").cancelled;
      await until(async () => (await used.client.zcard(record)) === 1, 10_000);
      const ttl = await used.client.pttl(record);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(CANCEL_MEMORY_MS);
    } finally {
      await stopWorkerProcess(w.child);
    }
  }, 30_000);
});
