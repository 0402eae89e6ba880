/**
 * QueueBackend through faults, on real redis-servers with worker processes
 * started through the CLI: completions trimmed from the event stream by
 * another client's cap, Redis gone mid-run (and gone again later), a worker
 * killed with SIGKILL (also while the engine was too busy to read of it), a
 * worker told to stop while Redis is gone. The engine's outage clock itself
 * on fake timers.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BackendUnreachableError, QueueBackend, type FlowEvent, type QueueBackendOptions } from "../lib/index.js";
import { jobPrefixOf } from "../backends/queue/index.js";
import { OutageWatch } from "../backends/queue/outage.js";
import { byTask } from "./events-check.js";
import * as tasks from "./fixtures/tasks.js";
import { captureStderr, engine, running, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TEST_SECRET, startTestWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

async function withRedis(test: (redis: RedisServer, workers: WorkerProcess[]) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  try {
    await test(redis, workers);
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await redis.stop();
  }
}

async function worker(redis: RedisServer, workers: WorkerProcess[], flags: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const w = await startTestWorker(redis.url, flags, env);
  if (!w.serving) throw new Error(w.output);
  workers.push(w);
  return w;
}

const queued = (redis: RedisServer, o: Partial<QueueBackendOptions> = {}): QueueBackend => new QueueBackend({ connection: redis.url, secret: TEST_SECRET, ...o });

/** A worker on `queue` (started with `flags`), an engine on it, and a task of the shared module's `body` running there. */
async function runningThere(redis: RedisServer, workers: WorkerProcess[], queue: string, flags: string[], body: "untilAborted" | "untilAbortedFirstDelivery") {
  const w = await worker(redis, workers, ["--queue", queue, ...flags]);
  const err = captureStderr();
  const flow = await engine({ backend: queued(redis, { queue }) });
  const f = flow.functionTask(tasks[body], { name: body })();
  f.catch(() => undefined);
  await running(f);
  return { w, err, f };
}

/** What redis-cli answers, asked synchronously (it can be asked while the engine's event loop is held). */
const cli = (redis: RedisServer, ...args: string[]): string => spawnSync("redis-cli", ["-p", String(redis.port), ...args], { encoding: "utf8" }).stdout.trim();

/** How many entries were ever added to the stream (its XINFO's entries-added). */
const added = (redis: RedisServer, stream: string): number => Number(/entries-added\n(\S+)/.exec(cli(redis, "XINFO", "STREAM", stream))?.[1] ?? 0);

/** Holds this process's event loop (its engine reads nothing meanwhile) until `done` holds; throws after `ms`. */
function holdUntil(done: () => boolean, what: string, ms = 20_000): void {
  for (const end = performance.now() + ms; !done(); spawnSync("sleep", ["0.02"])) if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
}

describe("QueueBackend through faults", () => {
  it("a default BullMQ Queue elsewhere resetting the event cap while 6,000 tasks run, the engine busy: nothing is lost", async () => {
    await withRedis(async (redis, workers) => {
      const w = await worker(redis, workers, ["--queue", "cap", "--concurrency", "16", "--allow-source"]);
      // The worker held still (SIGSTOP) until the engine is held: every completion then comes while the engine reads nothing.
      process.kill(w.child.pid!, "SIGSTOP");
      const flow = await engine({ backend: queued(redis, { queue: "cap" }), history: 0 });
      const id = flow.functionTask((i: number) => i, { name: "id" });
      const n = 6000;
      const fs = Array.from({ length: n }, (_, i) => id(i));
      // a dashboard or a producer script: BullMQ's default cap of 10,000 events now holds for this queue
      const other = new Queue("cap", { connection: { host: redis.host, port: redis.port } });
      await other.getVersion(); // once it has written its settings, the cap among them
      await other.close();
      expect(cli(redis, "HGET", "bull:cap:meta", "opts.maxLenEvents")).toBe("10000");
      // every job added (an "added" and a "waiting" event each, the worker held) before the engine is held: a burst
      // goes out over several turns of the event loop
      await until(() => added(redis, "bull:cap:events") >= 2 * n, 30_000);
      // the engine busy (its event loop held) from here, whatever it has read; the worker let go, finishing jobs (4 events
      // each) until Redis has trimmed, past its cap of 10,000 (and a node of slack), the first completions after this point
      const from = added(redis, "bull:cap:events");
      process.kill(w.child.pid!, "SIGCONT");
      holdUntil(() => added(redis, "bull:cap:events") >= from + 12_000, "Redis trimmed past the completions after this point", 60_000);
      expect(added(redis, "bull:cap:events")).toBeGreaterThanOrEqual(from + 12_000);
      const err = captureStderr();
      const results = await Promise.all(fs);
      expect(results.every((r, i) => r === i)).toBe(true);
      // (without the reconciliation, dozens to hundreds of these futures never settled)
      expect(err.text()).toMatch(/WARN \S+ QueueBackend "queue": after events trimmed from the queue's stream before they were read: \d+ task\(s\) settled from their jobs' state/);
    });
  }, 120_000);

  it("Redis gone longer than unreachableTimeout: the runs it holds fail, naming the address and the outage", async () => {
    await withRedis(async (redis, workers) => {
      await worker(redis, workers, ["--queue", "gone"]);
      const err = captureStderr();
      const flow = await engine({ backend: queued(redis, { queue: "gone", unreachableTimeout: 1000 }) });
      const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
      await running(f);
      await redis.stop();
      const e = await f.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BackendUnreachableError);
      expect((e as Error).message).toMatch(
        /^task\.000001 \(untilAborted\): Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable for \d+\.\d s \(its job \S+ may still run once Redis is back; its result will be ignored\)$/,
      );
      expect((e as BackendUnreachableError).address).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(err.text()).toMatch(/ERROR \S+ QueueBackend "queue": .*ECONNREFUSED/);
    });
  });

  it("Redis gone a second time later on: the runs the engine holds then fail too (its outage clock starts again)", async () => {
    await withRedis(async (redis) => {
      const err = captureStderr();
      const flow = await engine({ backend: queued(redis, { queue: "twice", unreachableTimeout: 300, noWorkerWarning: 400 }) });
      // No worker: a job waiting in Redis is held by the engine as much as a running one.
      const waits = flow.functionTask(tasks.untilAborted, { name: "untilAborted" });
      const said = (what: RegExp): number => err.text().match(new RegExp(what, "g"))?.length ?? 0;
      for (const outage of [1, 2]) {
        const f = waits();
        f.catch(() => undefined);
        // Redis up for longer than unreachableTimeout before it goes: this job waited 400 ms in it for a worker
        await until(() => said(/none started for/) === outage, 5_000);
        expect(said(/none started for/), `outage ${outage}`).toBe(outage);
        // gone until the engine has failed the job it holds (after unreachableTimeout), then back
        const back = redis.restart(until(() => f.done(), 5_000));
        await until(() => f.done(), 5_000);
        expect(f.exception(), `outage ${outage}`).toBeInstanceOf(BackendUnreachableError);
        await back;
        // both of the engine's connections back (each says so) before the next job
        await until(() => said(/QueueBackend "queue"( events)?: connected again/) === 2 * outage, 5_000);
      }
      await flow.shutdown(); // while Redis is up: a shutdown with Redis gone waits for it a while
    });
  });

  it("a worker's Redis gone longer than unreachableTimeout: it stops the bodies running there and says so", async () => {
    await withRedis(async (redis, workers) => {
      const { w } = await runningThere(redis, workers, "away", ["--unreachable-timeout", "500"], "untilAborted");
      await redis.stop();
      const stopped = /asyncflow worker: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable for 0\.5 s: stopped the 1 job\(s\) running here/;
      // Redis's port answers every reconnect by closing it: each attempt is seen here, and each is a close the worker sees
      const attempts: number[] = [];
      const refuse = createServer((socket) => {
        attempts.push(performance.now());
        socket.destroy();
      });
      await new Promise<void>((r) => refuse.listen(redis.port, redis.host, r));
      try {
        await until(() => stopped.test(w.output), 10_000);
        const said = performance.now();
        // said once for the outage, not again at every unreachableTimeout while it lasts: wait for reconnects failing
        // past three more of them
        await until(() => attempts.some((t) => t > said + 1500), 20_000);
        expect(attempts.some((t) => t > said + 1500)).toBe(true);
        expect(w.output.match(/unreachable for 0\.5 s/g)).toHaveLength(1);
      } finally {
        await new Promise((r) => refuse.close(r));
      }
    });
  });

  it("a worker holding a job while Redis is gone exits 1 on the second signal, at once", async () => {
    await withRedis(async (redis, workers) => {
      const { w, err } = await runningThere(redis, workers, "stuck", [], "untilAborted");
      await redis.stop();
      const exited = new Promise<number | null>((r) => w.child.once("exit", r));
      w.child.kill("SIGTERM");
      await until(() => w.output.includes("ECONNREFUSED") || w.output.includes("Connection is closed"), 5000);
      w.child.kill("SIGTERM");
      expect(await exited).toBe(1);
      expect(w.output).toContain("asyncflow worker: killed");
      expect(err.text()).toMatch(/QueueBackend "queue"/);
    });
  });

  it("a worker killed by a second signal, Redis up: a function body it stopped goes back to the queue, not failed", async () => {
    await withRedis(async (redis, workers) => {
      const { w, f } = await runningThere(redis, workers, "killed", ["--lock-duration", "1000"], "untilAbortedFirstDelivery");
      const exited = new Promise<number | null>((r) => w.child.once("exit", r));
      w.child.kill("SIGTERM");
      await until(() => w.output.includes("stopping"), 5000);
      w.child.kill("SIGTERM");
      expect(await exited).toBe(1);
      // the body heeded the kill's abort: that is no outcome of its task, which the next worker runs
      await worker(redis, workers, ["--queue", "killed"]);
      expect(await f).toBe("delivered again");
    });
  }, 60_000);

  it("a job the engine first reads of at its second delivery (its first worker killed meanwhile) starts as delivery 2, said once", async () => {
    await withRedis(async (redis, workers) => {
      const flags = ["--queue", "late", "--lock-duration", "1000", "--stalled-interval", "250"];
      const both = await Promise.all([worker(redis, workers, flags), worker(redis, workers, flags)]);
      for (const w of both) process.kill(w.child.pid!, "SIGSTOP"); // they take the job only once the engine reads nothing
      const err = captureStderr();
      const backend = queued(redis, { queue: "late" });
      const flow = await engine({ backend });
      const events: FlowEvent[] = [];
      flow.subscribe((e) => events.push(e)); // observed: the engine reads each start's worker and delivery from Redis
      const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
      f.catch(() => undefined);
      const job = `bull:late:${jobPrefixOf(backend)}.000001.1`;
      await until(() => cli(redis, "HGET", job, "timestamp") !== "", 10_000);
      // Held from before a worker takes the job until the other took it again (the first killed), the engine then reads
      // the events of both deliveries together: two starts of the job, which Redis says are one, delivery 2. An entry
      // no one listens for answers its blocking read of events first, so that it has none out while held.
      cli(redis, "XADD", "bull:late:events", "*", "event", "nudge");
      holdUntil(() => !/flags=\w*b\w* .*cmd=xread/.test(cli(redis, "CLIENT", "LIST")), "the engine's blocking read of events ended");
      for (const w of both) process.kill(w.child.pid!, "SIGCONT");
      holdUntil(() => cli(redis, "HGET", job, "ats") === "1", "a worker took the job");
      const [lost, again] = cli(redis, "HGET", job, "pb").endsWith(`:${both[0].child.pid}`) ? both : [both[1], both[0]];
      lost.child.kill("SIGKILL");
      holdUntil(() => cli(redis, "HGET", job, "ats") === "2", "the other worker took the job again");
      await until(() => /delivered again/.test(err.text()), 10_000);
      const where = `worker ${hostname()}:${again.child.pid}`;
      const mine = byTask(events).get(f.uid)!;
      expect(mine.map((e) => e.type)).toEqual(["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskRedelivered"]);
      expect(mine.slice(3)).toMatchObject([{ where }, { where, delivery: 2 }]);
      expect(err.text().match(/delivered again/g)).toHaveLength(1);
      expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": untilAborted: job \S+ delivered again \(delivery 2, to worker \S+\): the body may have run before/);
      expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": untilAborted: the worker running job \S+ was lost/);
      await flow.shutdown(); // while Redis is up: a shutdown with Redis gone waits for it a while
    });
  }, 60_000);

  it("kill -9 of a worker: its job finishes on another within ~10 s (defaults), as delivery 2, settled once; its command's processes die with it", async () => {
    await withRedis(async (redis, workers) => {
      const dir = mkdtempSync(join(tmpdir(), "af-dead-"));
      const first = await worker(redis, workers, ["--queue", "dead", "--allow-exec"]);
      const err = captureStderr();
      const flow = await engine({ backend: queued(redis, { queue: "dead" }) });
      // on the first worker it runs long; on the second (FAST=1) it ends at once
      const job = flow.executableTask(() => `echo $$ >> ${dir}/pids; [ -n "$FAST" ] && exit 0; sleep 60`, { name: "job" })();
      let settled = 0;
      job.addDoneCallback(() => settled++);
      await until(() => readFileSync(join(dir, "pids"), { encoding: "utf8", flag: "a+" }).trim() !== "", 10_000);
      const pid = Number(readFileSync(join(dir, "pids"), "utf8").trim());
      await worker(redis, workers, ["--queue", "dead", "--allow-exec"], { FAST: "1" });
      const t0 = performance.now();
      first.child.kill("SIGKILL");
      expect(await job).toBe("");
      const took = performance.now() - t0;
      // lockDuration 5 s + stalledInterval 2.5 s: within 10 s, with room for a loaded machine
      expect(took).toBeLessThan(20_000);
      expect(settled).toBe(1);
      expect(readFileSync(join(dir, "pids"), "utf8").trim().split("\n")).toHaveLength(2);
      expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": job: the worker running job \S+ was lost/);
      expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": job: job \S+ delivered again \(delivery 2, to worker \S+:\d+\): the body may have run before/);
      // the first run's process group (sh and its sleep) died with its worker, not left under PID 1
      const alive = (): boolean => {
        try {
          process.kill(-pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await until(() => !alive(), 10_000);
      expect(alive()).toBe(false);
      await Promise.all(workers.slice(1).map((w) => stopWorkerProcess(w.child)));
    });
  }, 60_000);
});

describe("the engine's outage clock (OutageWatch), on fake timers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("counts from the first of its connections to go down, not the last", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const failed: string[] = [];
    const watch = new OutageWatch(1000, "redis://127.0.0.1:6379", (why) => failed.push(why));
    const [commands, events] = [watch.report(() => undefined), watch.report(() => undefined)];
    commands.error("connect ECONNREFUSED 127.0.0.1:6379");
    vi.advanceTimersByTime(600);
    events.error("connect ECONNREFUSED 127.0.0.1:6379"); // its blocking read found out later
    vi.advanceTimersByTime(399);
    expect(failed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(failed).toEqual(["Redis at redis://127.0.0.1:6379 unreachable for 1.0 s"]);
    watch.close();
  });
});
