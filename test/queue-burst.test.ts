/**
 * A large burst of ready tasks on the queue backend, on a real redis-server
 * with no worker: it goes to Redis in adds of at most 500 jobs, one per turn
 * of the event loop (so that workers start on the first while the rest are
 * made), and a reconnect in the middle of it takes the jobs not yet sent for
 * neither lost nor sent.
 */
import { Redis } from "ioredis";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import { QueueBackend } from "../lib/index.js";
import { captureStderr, engine, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TEST_SECRET } from "./worker-process.js";

let own: RedisServer | null = null;
let clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients) c.disconnect();
  await own?.stop();
  [own, clients] = [null, []];
});

/** A redis-server of the test's own, and a client of it. */
async function watched(): Promise<{ url: string; client: Redis }> {
  own = await startRedis();
  const client = new Redis(own.url);
  clients = [client];
  return { url: own.url, client };
}

describe("a burst of queue jobs", () => {
  it("goes to Redis in adds of at most 500 jobs, one per turn of the event loop, each job once", async () => {
    const { url, client } = await watched();
    // BullMQ's own addBulk, watched: what the engine hands it, and how many turns of the event loop that took.
    const sizes: number[] = [];
    const addBulk = Queue.prototype.addBulk;
    const spy = vi.spyOn(Queue.prototype, "addBulk").mockImplementation(function (this: Queue, jobs) {
      sizes.push(jobs.length);
      return addBulk.call(this, jobs);
    });
    try {
      const flow = await engine({ backend: new QueueBackend({ connection: url, queue: "burst", secret: TEST_SECRET, noWorkerWarning: 0 }) });
      const total = 1_200;
      const id = flow.functionTask((i: number) => i, { name: "id" });
      for (let i = 0; i < total; i++) id(i).catch(() => undefined);
      await new Promise((r) => setImmediate(r));
      // the first went in this turn, the others follow a turn apart
      expect(sizes).toEqual([500]);
      await until(async () => (await client.llen("bull:burst:wait")) === total, 10_000);
      expect(sizes).toEqual([500, 500, 200]);
      await flow.shutdown();
    } finally {
      spy.mockRestore();
    }
  });

  it("a reconnect in the middle of it takes none of the jobs not yet sent for lost", async () => {
    const { url, client } = await watched();
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "debug"); // the reconciliation says what it read, at debug level, when it finds nothing
    const err = captureStderr();
    const queue = "midburst";
    const flow = await engine({ backend: new QueueBackend({ connection: url, queue, secret: TEST_SECRET, noWorkerWarning: 0, maxInFlight: 50_000 }) });
    const total = 20_000;
    const id = flow.functionTask((i: number) => i, { name: "id" });
    for (let i = 0; i < total; i++) id(i).catch(() => undefined);
    // Every connection but the test's is dropped before the first add goes: the engine's reconnects ('ready', which
    // reconciles) while later adds are still being made.
    const mine = Number(await client.client("ID"));
    const others = String(await client.client("LIST"))
      .split("\n")
      .map((line) => /^id=(\d+) .* flags=(\S+)/.exec(line))
      .filter((m) => m !== null && Number(m[1]) !== mine && !m[2]!.includes("O"));
    expect(others.length).toBeGreaterThan(0);
    for (const m of others) await client.client("KILL", "ID", m![1]!);
    const reconciled = /after a reconnect: (?:read the state of (\d+) job\(s\)|(\d+) task\(s\) settled from their jobs' state, (\d+) job\(s\) lost by Redis sent again)/;
    await until(() => reconciled.test(err.text()), 20_000);
    // It sent none again, and read the jobs sent by then: some, not all.
    expect(err.text()).not.toMatch(/sent again/);
    const [, read] = reconciled.exec(err.text())!;
    expect(Number(read)).toBeGreaterThan(0);
    expect(Number(read)).toBeLessThan(total);
    await until(async () => (await client.llen(`bull:${queue}:wait`)) === total, 20_000);
    await flow.shutdown();
  }, 60_000);
});
