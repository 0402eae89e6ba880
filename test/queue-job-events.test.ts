// The engine reads job events straight from BullMQ's stream reader (job-events.ts), on a real redis-server with a
// BullMQ worker in this process: the events arrive with their stream ids, the per-job emits are gone, errors still flow.
import { Queue, QueueEvents, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeJobEvents } from "../backends/queue/job-events.js";
import { startRedis, type RedisServer } from "./redis.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("job events from the stream", () => {
  it("hands active, completed and failed to the engine, with stream ids, and leaves the emitter only what is not a job's", async () => {
    const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue("route", { connection });
    const events = new QueueEvents("route", { connection });
    const worker = new Worker("route", async (job) => ((job.data as { fail?: boolean }).fail ? Promise.reject(new Error("it failed")) : "done"), { connection, autorun: false });
    try {
      const seen: string[] = [];
      const ids: string[] = [];
      const errors: string[] = [];
      let settled = 0;
      const all = new Promise<void>((resolve) => {
        const end = (): void => void (++settled === 3 && resolve());
        routeJobEvents(events, {
          active: (jobId, id) => {
            ids.push(id);
            seen.push(`active ${jobId}`);
            if (jobId === "c") throw new Error("a handler broke on c");
          },
          completed: (jobId, returned, id) => {
            ids.push(id);
            seen.push(`completed ${jobId} ${String(returned)}`);
            end();
          },
          failed: (jobId, reason, id) => {
            ids.push(id);
            seen.push(`failed ${jobId} ${reason}`);
            end();
          },
          stalled: (jobId) => seen.push(`stalled ${jobId}`),
        });
      });
      // Listeners of the emitter: a job's own name, and events of the stream the engine does not read, get nothing now.
      let emitted = 0;
      for (const name of ["completed:a", "waiting", "added", "completed"]) events.on(name as "completed", () => emitted++);
      events.on("error", (e) => errors.push(e.message));
      await events.waitUntilReady();
      await queue.add("job", {}, { jobId: "a" });
      await queue.add("job", { fail: true }, { jobId: "b" });
      await queue.add("job", {}, { jobId: "c" });
      void worker.run();
      await all;
      expect(seen.sort()).toEqual(["active a", "active b", "active c", "completed a done", "completed c done", "failed b it failed"]);
      expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
      expect(emitted).toBe(0);
      // A handler's error goes where BullMQ's own emit sends a listener's: to the 'error' listeners.
      expect(errors).toEqual(["a handler broke on c"]);
      // What is not a stream entry is the emitter's as before.
      events.emit("error", new Error("the connection's"));
      expect(errors).toEqual(["a handler broke on c", "the connection's"]);
    } finally {
      await worker.close();
      await Promise.all([events.close(), queue.close()]);
    }
  });
});
