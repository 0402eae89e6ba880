/**
 * Task contracts on QueueBackend: a real redis-server and real worker
 * processes (`asyncflow-worker` from the sources). Retries may run on another
 * worker; a timed-out attempt's job is aborted and its worker slot freed.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueBackend, TaskTimeoutError } from "../lib/index.js";
import { contractConformance } from "./contract-conformance.js";
import * as tasks from "./fixtures/contract-tasks.js";
import { engine } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { FIXTURES_DIR, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker, stopWorkerProcess } from "./worker-process.js";

const module = new URL("./fixtures/contract-tasks.ts", import.meta.url);
let redis: RedisServer;
const workers: ChildProcess[] = [];

async function worker(args: string[]): Promise<void> {
  const started = await startAsyncflowWorker(["--redis", redis.url, "--secret-file", TEST_SECRET_FILE, "--module", module.pathname, "--allow-modules", FIXTURES_DIR, ...args]);
  if (!started.serving) throw new Error(`asyncflow-worker did not start: ${started.output}`);
  workers.push(started.child);
}

beforeAll(async () => {
  redis = await startRedis();
  await worker(["--queue", "contracts", "--concurrency", "4"]);
  await worker(["--queue", "one-slot", "--concurrency", "1"]);
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  await redis?.stop();
});

contractConformance("queue (a worker process on Redis, TypeScript module tasks)", {
  make: () => new QueueBackend({ connection: redis.url, secret: TEST_SECRET, queue: "contracts" }),
  taskOptions: { module },
});

describe("timeouts on QueueBackend", () => {
  it("a timed-out attempt whose body ignores its signal frees its worker's only slot", async () => {
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, secret: TEST_SECRET, queue: "one-slot" }) });
    const log = join(mkdtempSync(join(tmpdir(), "af-slot-")), "attempts.log");
    const stuck = flow.functionTask(tasks.stuckFirst, { module, name: "stuckFirst", timeout: 500 });
    const err = (await stuck(log, 1).catch((e: unknown) => e)) as TaskTimeoutError;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    // the worker has one slot: this job runs only if the stuck one's handler let go of it
    const next = flow.functionTask(tasks.whoAmI, { module, name: "whoAmI" });
    expect(await next()).toEqual({ attempt: 1, aborted: false });
  }, 60_000);
});
