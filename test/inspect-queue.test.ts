/**
 * inspect() and explain() on a QueueBackend, against a real redis-server and
 * a real worker process: jobs no worker serves (NO_WORKER), a job waiting
 * behind a busy worker (QUEUED), and a job whose worker was killed (STALLED).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueBackend } from "../lib/index.js";
import { captureStderr, engine, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TASKS_MODULE, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker } from "./worker-process.js";

let redis: RedisServer;
let worker: ChildProcess | undefined;
const others: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  worker?.kill("SIGKILL");
  for (const w of others) w.kill("SIGKILL");
  await redis?.stop();
});

const workerArgs = (queue: string): string[] => ["--redis", redis.url, "--queue", queue, "--concurrency", "1", "--secret-file", TEST_SECRET_FILE, "--module", TASKS_MODULE, "--allow-source"];

const reasons = (rows: { reason: string }[]): string[] => rows.map((r) => r.reason);

describe("inspect() on a QueueBackend", () => {
  it("NO_WORKER while no worker serves the queue, QUEUED behind a busy worker, STALLED once that worker is killed", async () => {
    const queue = `inspect-${randomBytes(4).toString("hex")}`;
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue, noWorkerWarning: 0, secret: TEST_SECRET }) });
    const park = flow.functionTask(async function park(ms: number): Promise<number> {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    const first = park(600_000);
    const second = park(600_000);

    await until(() => reasons(flow.inspect()).join() === "NO_WORKER,NO_WORKER", 30_000);
    expect(reasons(flow.inspect())).toEqual(["NO_WORKER", "NO_WORKER"]);
    expect(flow.inspect()[0]).toMatchObject({ state: "PENDING", where: `queue "${queue}"` });
    expect(flow.explain(second)).toBe(
      `park (task.000002) is PENDING: QUEUED on queue "${queue}" (no worker serves it: start one with asyncflow worker --connection ${redis.url} --queue ${queue} --module <your tasks>)`,
    );

    const started = await startAsyncflowWorker(workerArgs(queue));
    expect(started.serving, started.output).toBe(true);
    worker = started.child;
    await until(() => first.state === "RUNNING" || second.state === "RUNNING", 30_000);
    const [runs, waits] = first.state === "RUNNING" ? [first, second] : [second, first];
    await until(() => reasons(flow.inspect()).includes("QUEUED"), 30_000);
    const byUid = (uid: string) => flow.inspect().find((r) => r.uid === uid);
    expect(byUid(runs.uid)).toMatchObject({ state: "RUNNING", reason: "RUNNING" });
    expect(byUid(waits.uid)).toMatchObject({ state: "PENDING", reason: "QUEUED", where: `queue "${queue}"` });

    worker.kill("SIGKILL");
    await until(() => byUid(runs.uid)?.reason === "STALLED" && byUid(waits.uid)?.reason === "NO_WORKER", 30_000);
    expect(byUid(runs.uid)).toMatchObject({ state: "RUNNING", reason: "STALLED" });
    expect(byUid(waits.uid)).toMatchObject({ reason: "NO_WORKER" });
    expect(flow.explain(runs)).toMatch(
      new RegExp(`^park \\(${runs.uid.replace(".", "\\.")}\\) is RUNNING: STALLED on queue "${queue}" for [\\d.]+ m?s, attempt 1 \\(the worker running it is gone; the job goes to the next worker once its lock expires \\(lockDuration\\): start one with asyncflow worker`),
    );
  }, 120_000);

  it("STALLED when the worker that took the job is killed, while another worker still serves the queue", async () => {
    const queue = `inspect-${randomBytes(4).toString("hex")}`;
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue, noWorkerWarning: 0, secret: TEST_SECRET }) });
    const park = flow.functionTask(async function park(ms: number): Promise<number> {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    // Locks that outlast the test: BullMQ never takes the job back, so only the missing worker can tell.
    const first = await startAsyncflowWorker([...workerArgs(queue), "--lock-duration", "600000"]);
    expect(first.serving, first.output).toBe(true);
    others.push(first.child);
    const job = park(600_000);
    await until(() => job.state === "RUNNING", 30_000);
    const second = await startAsyncflowWorker([...workerArgs(queue), "--lock-duration", "600000"]);
    expect(second.serving, second.output).toBe(true);
    others.push(second.child);
    expect(flow.inspect()[0]).toMatchObject({ reason: "RUNNING" });
    first.child.kill("SIGKILL");
    await until(() => flow.inspect()[0]?.reason === "STALLED", 30_000);
    expect(flow.inspect()[0]).toMatchObject({ uid: job.uid, state: "RUNNING", reason: "STALLED" });
  }, 120_000);

  it("STALLED once the queue took back the job of a killed worker, while the only other worker is busy", async () => {
    const queue = `inspect-${randomBytes(4).toString("hex")}`;
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue, noWorkerWarning: 0, secret: TEST_SECRET }) });
    const park = flow.functionTask(async function park(ms: number): Promise<number> {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    // Short locks: the busy worker's stall check takes the dead worker's job back within a few seconds.
    const args = [...workerArgs(queue), "--lock-duration", "1000"];
    const doomed = await startAsyncflowWorker(args);
    expect(doomed.serving, doomed.output).toBe(true);
    others.push(doomed.child);
    const job = park(600_000);
    await until(() => job.state === "RUNNING", 30_000);
    const busy = await startAsyncflowWorker(args);
    expect(busy.serving, busy.output).toBe(true);
    others.push(busy.child);
    const other = park(600_000);
    await until(() => other.state === "RUNNING", 30_000);
    const err = captureStderr();
    doomed.child.kill("SIGKILL");
    const row = () => flow.inspect().find((r) => r.uid === job.uid);
    await until(() => row()?.hint?.startsWith("its worker was lost") === true, 30_000);
    expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": park: the worker running job \S+\.000001\.1 was lost \(it died, or its event loop was blocked past lockDuration\): the job goes back to the queue/);
    expect(row()).toMatchObject({ state: "RUNNING", reason: "STALLED", where: `queue "${queue}"`, hint: "its worker was lost; the job waits for another" });
    expect(flow.inspect().find((r) => r.uid === other.uid)).toMatchObject({ reason: "RUNNING" });
    expect(flow.explain(job)).toMatch(/^park \(task\.000001\) is RUNNING: STALLED on queue "[^"]+" for [\d.]+ m?s, attempt 1 \(its worker was lost; the job waits for another\)$/);
  }, 120_000);
});
