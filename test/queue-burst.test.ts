/**
 * A large burst of ready tasks on the queue backend, on a real redis-server
 * with no worker: it goes to Redis in adds of at most 500 jobs, one per turn
 * of the event loop (so that workers start on the first while the rest are
 * made). The runs still waiting for their turn are nowhere but in the
 * engine: cancelling them sends Redis nothing, an outage that fails them
 * keeps them from being sent after it, and a reconnect's reconciliation does
 * not take them for lost; a chunk cut by a dropped connection goes again.
 */
import { Redis } from "ioredis";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import { QueueBackend, type QueueBackendOptions, type TaskFuture } from "../lib/index.js";
import { captureStderr, engine, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TEST_SECRET } from "./worker-process.js";

let own: RedisServer | null = null;
let clients: Redis[] = [];

afterEach(async () => {
  vi.restoreAllMocks(); // addBulkSizes' spy
  for (const c of clients) c.disconnect();
  await own?.stop();
  [own, clients] = [null, []];
});

/** A redis-server of the test's own, and a client of it. */
async function watched(): Promise<{ url: string; client: Redis }> {
  own = await startRedis();
  const client = new Redis(own.url).on("error", () => undefined); // the outage test stops the server under it
  clients = [client];
  return { url: own.url, client };
}

/** The sizes of the adds the engine hands BullMQ (its own addBulk, called through) until the test ends. */
function addBulkSizes(): number[] {
  const sizes: number[] = [];
  const addBulk = Queue.prototype.addBulk;
  vi.spyOn(Queue.prototype, "addBulk").mockImplementation(function (this: Queue, jobs) {
    sizes.push(jobs.length);
    return addBulk.call(this, jobs);
  });
  return sizes;
}

/** An engine on `queue` (no worker serves it) and its no-op task. */
async function onQueue(url: string, queue: string, options: Partial<QueueBackendOptions> = {}) {
  const backend = new QueueBackend({ connection: url, queue, secret: TEST_SECRET, noWorkerWarning: 0, maxInFlight: 50_000, ...options });
  const flow = await engine({ backend });
  return { flow, id: flow.functionTask((i: number) => i, { name: "id" }) };
}

/** A burst: `total` calls of `task` at once. */
function burst(task: (i: number) => TaskFuture<number>, total: number): TaskFuture<number>[] {
  const futures = Array.from({ length: total }, (_, i) => task(i));
  for (const f of futures) f.catch(() => undefined);
  return futures;
}

/** A burst of `total` tasks on `queue` of a fresh server, one turn of the event loop after it was made. */
async function afterOneTurn(queue: string, total: number) {
  const { url, client } = await watched();
  // What the engine hands BullMQ's addBulk, and how many turns of the event loop that took.
  const sizes = addBulkSizes();
  const { flow, id } = await onQueue(url, queue);
  burst(id, total);
  await new Promise((r) => setImmediate(r));
  return { client, sizes, flow };
}

describe("a burst of queue jobs", () => {
  it("goes to Redis in adds of at most 500 jobs, one per turn of the event loop, each job once", async () => {
    const total = 1_200;
    const { client, sizes, flow } = await afterOneTurn("burst", total);
    // the first went in the turn the tasks were made, the others follow a turn apart
    expect(sizes).toEqual([500]);
    await until(async () => (await client.llen("bull:burst:wait")) === total, 10_000);
    expect(sizes).toEqual([500, 500, 200]);
    await flow.shutdown();
  });

  it("its runs cancelled before their turn to be sent send nothing to Redis, neither the job nor its cancel", async () => {
    const total = 5_000;
    const { client, sizes, flow } = await afterOneTurn("dropped", total);
    // shutdown cancels every run: those sent are removed and recorded as cancelled, the others were never anywhere
    await flow.shutdown();
    const sent = sizes.reduce((a, b) => a + b, 0);
    expect(sent).toBeLessThan(total);
    expect(await client.zcard("bull:dropped:af:cancelled")).toBe(sent);
    expect(await client.llen("bull:dropped:wait")).toBe(0);
  });

  it("an outage that fails its runs before their turn to be sent: they are not sent once Redis is back", async () => {
    const { url, client } = await watched();
    const err = captureStderr(); // the engine's lines about the outage
    const queue = "outage";
    const sizes = addBulkSizes();
    const total = 10_000;
    // An outage declared 1 ms after its first error, and again each 1 ms while it lasts: the burst's runs fail a turn or
    // two into it, whatever this machine's speed, while most of its 20 chunks still wait for their turn.
    const { flow, id } = await onQueue(url, queue, { unreachableTimeout: 1 });
    try {
      // Redis gone before the burst (the engine has said so), back empty on the same port once every run has failed
      let failedAll!: () => void;
      const back = own!.restart(new Promise<void>((r) => (failedAll = r)));
      await until(() => err.text().includes(`QueueBackend "queue"`), 10_000);
      const outcomes = await Promise.allSettled(burst(id, total));
      failedAll();
      expect(outcomes.every((o) => o.status === "rejected" && /unreachable for/.test(String(o.reason)))).toBe(true);
      // the chunks made before the runs failed wait in the client for Redis (their jobs may run, their results ignored)
      const sent = sizes.reduce((a, b) => a + b, 0);
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(total);
      await back;
      // once the engine has both its connections again, a task sent reaches Redis after anything the engine had for it
      await until(() => err.text().split("connected again").length >= 3, 20_000);
      id(-1).catch(() => undefined);
      await until(async () => (await client.llen(`bull:${queue}:wait`)) > sent, 20_000);
      expect(await client.llen(`bull:${queue}:wait`)).toBe(sent + 1);
    } finally {
      await flow.shutdown();
    }
  }, 60_000);

  it("a reconnect in the middle of it takes none of the jobs not yet sent for lost", async () => {
    const { url, client } = await watched();
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "debug"); // the reconciliation says what it read, at debug level, when it finds nothing
    const err = captureStderr();
    const queue = "midburst";
    const total = 10_000;
    const futures = burst((await onQueue(url, queue)).id, total);
    // Every connection but the test's is dropped a few chunks in: the engine's reconnects ('ready', which reconciles)
    // while later chunks are still being made.
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
    // A chunk cut by the drop (ioredis aborts a pipeline Redis had partly answered) goes again: every job reaches Redis
    // once, and no task fails.
    await until(async () => (await client.llen(`bull:${queue}:wait`)) === total, 20_000);
    expect(await client.llen(`bull:${queue}:wait`)).toBe(total);
    expect(futures.filter((f) => f.state === "FAILED")).toEqual([]);
  }, 60_000);
});
