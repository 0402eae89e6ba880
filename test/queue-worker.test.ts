/**
 * The worker side of QueueBackend against a real redis-server (started here on
 * a free port): workers in this process (`startQueueWorker`) and worker
 * processes (`asyncflow-worker` from the sources), cancellation reaching
 * them, workers that die, the CLI.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueBackend, WorkerCrashError, WorkflowEngine, startQueueWorker, type FlowEvent, type QueueBackendOptions, type QueueWorker, type QueueWorkerOptions, type TaskFuture } from "../lib/index.js";
import { keys } from "../backends/queue/cancels.js";
import { jobPrefixOf } from "../backends/queue/index.js";
import * as tasks from "./fixtures/tasks.js";
import { captureStderr, engine, running, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TASKS_MODULE, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker as startWorker, stopWorkerProcess } from "./worker-process.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

const queued = (options: Partial<QueueBackendOptions> = {}): QueueBackend => new QueueBackend({ connection: redis.url, secret: TEST_SECRET, ...options });
/** An in-process worker that runs the fixtures' tasks and shipped source, signed as the engines here sign. */
const localWorker = (options: Partial<QueueWorkerOptions>): Promise<QueueWorker> =>
  startQueueWorker({ connection: redis.url, secret: TEST_SECRET, modules: [TASKS_MODULE], allowSource: true, allowExec: true, ...options });
const cancelChannel = (queue: string): string => keys("bull", queue).channel;
const cancelledKey = (queue: string): string => keys("bull", queue).cancelled;

/** A task, run from its module on the worker, whose body ends only when its signal is aborted: it returns "aborted". */
const untilAbortedTask = (flow: WorkflowEngine): (() => TaskFuture<string>) =>
  flow.functionTask(tasks.untilAborted, { module: new URL("./fixtures/tasks.ts", import.meta.url), name: "untilAborted" });


describe("queue workers", () => {
  it("a cancel that reaches the worker before the job does is kept, and the body never runs", async () => {
    const local = await localWorker({ queue: "early", concurrency: 1 });
    const publisher = new Redis(redis.port, "127.0.0.1");
    try {
      const backend = queued({ queue: "early" });
      const flow = await engine({ backend });
      // the job id the engine will give its first task; named before the job exists
      await publisher.publish(cancelChannel("early"), `${jobPrefixOf(backend)}.000001.1`);
      // (the engine itself cancelled nothing here, so it sees the job's outcome: the cancel, not the body's "aborted")
      const wait = untilAbortedTask(flow);
      await expect(wait()).rejects.toThrow(/^job \S+\.000001\.1 was cancelled by the engine$/);
    } finally {
      publisher.disconnect();
      await local.close();
    }
  });

  it("a cancel Redis will not record, and a lookup that fails, are said in the engine's log and the worker's warnings", async () => {
    const local = await localWorker({ queue: "wrongkey", concurrency: 1 });
    const admin = new Redis(redis.port, "127.0.0.1");
    try {
      const err = captureStderr();
      // the set of recent cancels is not a sorted set: Redis refuses ZADD and ZSCORE on it (WRONGTYPE)
      await admin.set(cancelledKey("wrongkey"), "x");
      const flow = await engine({ backend: queued({ queue: "wrongkey" }) });
      const wait = untilAbortedTask(flow);
      const f = wait();
      await running(f);
      await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      f.cancel();
      const said = (re: RegExp): boolean => re.test(err.text());
      await until(() => said(/cancels not recorded/) && said(/could not look up/));
      expect(err.text()).toMatch(/ERROR \S+ QueueBackend "queue": cancels not recorded \(workers that were disconnected will not see them\): ReplyError: WRONGTYPE/);
      expect(err.text()).toMatch(/Warning: asyncflow queue worker \(cancel channel\): could not look up the cancels missed while disconnected: WRONGTYPE/);
    } finally {
      admin.disconnect();
      await local.kill(); // its body waits for a cancel it never got
    }
  });

  it("cancels made together travel together, and each running body they name is aborted", async () => {
    const local = await localWorker({ queue: "burst", concurrency: 3 });
    const listener = new Redis(redis.port, "127.0.0.1");
    try {
      const messages: string[] = [];
      listener.on("message", (_c: string, m: string) => messages.push(m));
      await listener.subscribe(cancelChannel("burst"));
      const flow = await engine({ backend: queued({ queue: "burst" }) });
      const wait = untilAbortedTask(flow);
      const fs = [wait(), wait(), wait()];
      await running(...fs);
      for (const f of fs) f.cancel();
      await until(() => local.processed >= 3);
      expect(local.processed).toBe(3);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.split("\n")).toHaveLength(3);
    } finally {
      listener.disconnect();
      await local.close();
    }
  });

  it("a job's own error (BullMQ cannot finish a job whose lock is gone) is not an outage: after unreachableTimeout the other jobs still run", async () => {
    const err = captureStderr();
    const local = await localWorker({ queue: "lock-lost", concurrency: 2, unreachableTimeout: 300 });
    const admin = new Redis(redis.port, "127.0.0.1");
    try {
      const backend = queued({ queue: "lock-lost" });
      const flow = await engine({ backend });
      const wait = untilAbortedTask(flow);
      const [a, b] = [wait(), wait()];
      await running(a);
      await running(b);
      // a's lock goes (and, cancelled, its job): when a's body ends, BullMQ cannot finish it and says so on the worker's 'error'
      expect(await admin.del(`bull:lock-lost:${jobPrefixOf(backend)}.000001.1:lock`)).toBe(1);
      a.cancel();
      const missing = /WARN \S+ asyncflow worker: job \S+\.000001\.1: its outcome was not recorded: (Redis no longer holds its lock \(the engine cancelled the job|the job is gone from Redis)/;
      await until(() => missing.test(err.text()), 10_000);
      expect(err.text()).toMatch(missing);
      // a timer of the same length set after the error fires after the worker's outage timer: by then an outage would have stopped b
      await new Promise((r) => setTimeout(r, 300));
      expect(err.text()).not.toMatch(/unreachable|Missing (lock|key)/);
      expect(b.state).toBe("RUNNING");
      b.cancel();
      await until(() => local.processed === 2, 10_000);
      expect(local.processed).toBe(2);
    } finally {
      admin.disconnect();
      await local.close();
    }
  });

  it("a worker whose subscription dropped gets the cancels sent meanwhile once it is back", async () => {
    const local = await localWorker({ queue: "blip", concurrency: 1 });
    const admin = new Redis(redis.port, "127.0.0.1");
    try {
      const flow = await engine({ backend: queued({ queue: "blip" }) });
      const wait = untilAbortedTask(flow);
      const f = wait();
      await running(f);
      await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      // nobody listens now (the worker reconnects after ~50 ms): the message is lost
      expect(await admin.pubsub("NUMSUB", cancelChannel("blip"))).toEqual([cancelChannel("blip"), 0]);
      f.cancel();
      await until(() => local.processed > 0);
      expect(local.processed).toBe(1);
    } finally {
      admin.disconnect();
      await local.close();
    }
  });

  it("with no worker on its queue the engine says so in the log, once; the tasks run when one comes", async () => {
    const { lines } = captureStderr();
    const backend = queued({ queue: "nobody", noWorkerWarning: 200 });
    const flow = await engine({ backend });
    const add = flow.functionTask((a: number, b: number) => a + b);
    const f = add(1, 2);
    const warned = (): number => lines.filter((l) => l.includes("lists no worker")).length;
    await until(() => warned() >= 1, 10_000);
    expect(f.state).toBe("PENDING");
    const warnings = lines.filter((l) => l.includes("lists no worker"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /WARN \S+ QueueBackend "queue": 1 job\(s\) waiting, none started for 0\.\d s, and Redis lists no worker for queue "nobody" at redis:\/\/127\.0\.0\.1:\d+\. Start one: asyncflow worker --connection redis:\/\/127\.0\.0\.1:\d+ --queue nobody --module <your tasks>\n/,
    );
    // all of them cancelled (none of the engine's jobs left in Redis), then a new wait: a warning of its own
    f.cancel();
    await until(() => backend.inQueue === 0);
    const g = add(2, 3);
    await until(() => warned() >= 2, 10_000);
    expect(warned()).toBe(2);
    const local = await localWorker({ queue: "nobody", concurrency: 1 });
    try {
      expect(await g).toBe(5);
    } finally {
      await local.close();
    }
  });

  it("jobs waiting behind a busy worker are not reported as having no worker", async () => {
    const local = await localWorker({ queue: "busy", concurrency: 1 });
    const { lines } = captureStderr();
    process.env.ASYNCFLOW_LOG_LEVEL = "debug";
    const flow = await engine({ backend: queued({ queue: "busy", noWorkerWarning: 200 }) }).finally(() => delete process.env.ASYNCFLOW_LOG_LEVEL);
    const wait = untilAbortedTask(flow);
    const first = wait();
    const second = wait();
    try {
      // the look that would have warned: the second job waiting past noWorkerWarning, with the busy worker listed
      await until(() => lines.some((l) => l.includes("Redis lists 1 worker(s)")), 10_000);
      expect(lines.find((l) => l.includes("Redis lists 1 worker(s)"))).toMatch(/DEBUG \S+ QueueBackend "queue": no job started for 0\.\d s, 2 in Redis; Redis lists 1 worker\(s\) for queue "busy" \(busy\): not reported\n/);
      expect([first.state, second.state]).toEqual(["RUNNING", "PENDING"]);
      expect(lines.filter((l) => l.includes("lists no worker"))).toEqual([]);
    } finally {
      first.cancel();
      second.cancel();
      await local.close();
    }
  });

  it("shutdown aborts the bodies of its jobs still running on a worker", async () => {
    const local = await localWorker({ queue: "shut", concurrency: 1 });
    try {
      const flow = await WorkflowEngine.create({ backend: queued({ queue: "shut" }), handleSignals: false });
      const wait = untilAbortedTask(flow);
      const f = wait();
      await running(f);
      await flow.shutdown();
      expect(f.state).toBe("CANCELLED");
      await until(() => local.processed > 0, 2000);
      expect(local.processed).toBe(1);
    } finally {
      await local.close();
    }
  });

  it("cancelling a running executable kills its process on the worker", async () => {
    const local = await localWorker({ queue: "cancel-exec", concurrency: 1 });
    try {
      const flow = await engine({ backend: queued({ queue: "cancel-exec" }) });
      const sleep = flow.executableTask(() => "sleep 30");
      const f = sleep();
      await running(f);
      const t0 = performance.now();
      f.cancel();
      await until(() => local.processed > 0);
      expect(local.processed).toBe(1);
      expect(performance.now() - t0).toBeLessThan(15_000); // the command sleeps 30 s: ended by the kill, on a machine however loaded
    } finally {
      await local.close();
    }
  });

  it("an in-process worker (startQueueWorker) serves a queue of its own name", async () => {
    const local = await localWorker({ queue: "in-process", concurrency: 2 });
    try {
      const flow = await engine({ backend: queued({ queue: "in-process" }) });
      const where = flow.functionTask(() => process.pid);
      expect(await where()).toBe(process.pid);
      expect(local.processed).toBe(1);
    } finally {
      await local.close();
    }
  });

  it("a worker logs each job at debug level, naming the task", async () => {
    const err = captureStderr();
    process.env.ASYNCFLOW_LOG_LEVEL = "debug";
    const local = await localWorker({ queue: "logged", concurrency: 1 }).finally(() => delete process.env.ASYNCFLOW_LOG_LEVEL);
    try {
      const flow = await engine({ backend: queued({ queue: "logged" }) });
      const fail = flow.functionTask(tasks.fail, { module: new URL("./fixtures/tasks.ts", import.meta.url), name: "fail" });
      await fail("no").catch(() => undefined);
    } finally {
      await local.close();
    }
    expect(err.text()).toMatch(/asyncflow DEBUG task\.000001 fail: job \w+\.000001\.1 started \(delivery 1\)\n[^]*asyncflow DEBUG task\.000001 fail: job \S+ failed/);
  });

  it("cancelling a running task aborts its body's signal on the worker that holds it", async () => {
    const local = await localWorker({ queue: "cancel", concurrency: 1 });
    try {
      const flow = await engine({ backend: queued({ queue: "cancel" }) });
      const wait = untilAbortedTask(flow);
      const f = wait();
      await running(f);
      f.cancel("enough");
      // the body resolves once its signal aborts, and the worker counts the job done
      await until(() => local.processed > 0, 2000);
      expect(local.processed).toBe(1);
      expect(f.state).toBe("CANCELLED");
      // the body's signal carries the engine's reason, as on the other backends (this worker runs in this process)
      const seen: { name: string; message: string; reason?: string }[] = [];
      (globalThis as { seenReasons?: typeof seen }).seenReasons = seen;
      const waiter = flow.functionTask(
        () =>
          new Promise<string>((resolve) => {
            const { signal } = taskContext();
            signal.addEventListener("abort", () => {
              (globalThis as unknown as { seenReasons: unknown[] }).seenReasons.push(signal.reason);
              resolve("aborted");
            });
          }),
        { name: "waiter" },
      );
      const g = waiter();
      await running(g);
      g.cancel("stop please");
      await until(() => seen.length > 0, 5000);
      expect(seen[0]).toMatchObject({ name: "TaskCancelledError", message: `${g.uid} (waiter) was cancelled: stop please`, reason: "stop please" });
    } finally {
      await local.close();
    }
  });

  describe("a worker that dies holding a job", () => {
    /**
     * Runs a task that kills the worker process running it (CRASH_ME is set there only); resolves with its future
     * once that worker is dead and the engine has read the job's start (which can come after the death: the start
     * is an event of the queue's stream, the death a signal of this process).
     */
    async function crashOn(queue: string): Promise<{ f: TaskFuture<string>; flow: WorkflowEngine }> {
      const dying = await startWorker(["--redis", redis.url, "--queue", queue, "--lock-duration", "500", "--allow-source", "--secret-file", TEST_SECRET_FILE], { CRASH_ME: "1" });
      const flow = await engine({ backend: queued({ queue }) });
      const crash = flow.functionTask(
        () => {
          if (process.env.CRASH_ME === "1") process.exit(3);
          return `survived in ${process.pid}`;
        },
        { name: "crash" },
      );
      const exited = new Promise<number | null>((r) => dying.child.once("exit", r));
      const f = crash();
      expect(await exited).toBe(3);
      await running(f);
      return { f, flow }; // wrapped: an async function returning the future itself would wait for it
    }

    /** The engine's warning that the worker running task.000001's job was lost. */
    const lost = /WARN task\.000001 QueueBackend "queue": crash: the worker running job \S+\.000001\.1 was lost \(it died, or its event loop was blocked past lockDuration\): the job goes back to the queue/;

    it("its job goes back to the queue and another worker runs it (BullMQ's stall detection)", async () => {
      const err = captureStderr();
      const { f } = await crashOn("crash-retry");
      const rescuer = await localWorker({ queue: "crash-retry", lockDuration: 500, concurrency: 1 });
      try {
        expect(await f).toBe(`survived in ${process.pid}`);
        expect(err.text()).toMatch(lost);
        expect(err.text()).toMatch(/WARN task\.000001 QueueBackend "queue": crash: job \S+\.000001\.1 delivered again \(delivery 2[,)].*: the body may have run before/);
      } finally {
        await rescuer.close();
      }
    });

    it("past maxStalledCount its task fails with WorkerCrashError", async () => {
      const log = captureStderr();
      const { f, flow } = await crashOn("crash-fail");
      const events: FlowEvent[] = [];
      flow.subscribe((e) => events.push(e));
      const watcher = await localWorker({ queue: "crash-fail", lockDuration: 500, maxStalledCount: 0, concurrency: 1 });
      try {
        const err = await f.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkerCrashError);
        expect((err as Error).message).toMatch(/task\.000001 \(crash\): its worker died: Error: .*stalled/);
        expect(log.text()).toMatch(lost);
        // BullMQ hands the job to a worker once more only to fail it there unrun: not a delivery
        expect(log.text()).not.toMatch(/delivered again/);
        expect(events.filter((e) => e.type.startsWith("Task")).map((e) => e.type)).toEqual(["TaskFailed"]);
      } finally {
        await watcher.close();
      }
    });
  });
});

describe("asyncflow-worker", () => {
  it("--help prints the usage; an unknown option exits 2 naming it", async () => {
    const help = await startWorker(["--help"]);
    expect([help.code, help.output]).toEqual([0, expect.stringMatching(/^usage: asyncflow worker \[--connection URL/)]);
    const bad = await startWorker(["--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/Unknown option '--bogus'\nusage:/);
    const typo = await startWorker(["--concurency", "2"]);
    expect([typo.code, typo.output]).toEqual([2, expect.stringMatching(/Unknown option '--concurency' \(did you mean --concurrency\?\)/)]);
    // a URL given where none is expected is echoed without its password
    const stray = await startWorker(["redis://u:s3cretpw@127.0.0.1:1"]);
    expect(stray.code).toBe(2);
    expect(stray.output).toMatch(/Unexpected argument 'redis:\/\/u:\*\*\*@127\.0\.0\.1:1'/);
    expect(stray.output).not.toContain("s3cretpw");
  });

  it("without --connection (or ASYNCFLOW_REDIS_URL) exits 2 with the usage", async () => {
    const r = await startWorker([], { ASYNCFLOW_REDIS_URL: "" });
    expect(r.serving).toBe(false);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/no Redis: give --connection URL, --connection-file FILE or ASYNCFLOW_REDIS_URL\nusage: asyncflow worker/);
    // the usage's placeholder is not a URL with a password to hide
    expect(r.output).toContain("redis://[user:password@]host:port");
  });

  it("an unreachable Redis: exits 2 saying where it tried", async () => {
    const r = await startWorker(["--redis", "redis://127.0.0.1:1", "--connect-timeout", "500"]);
    expect(r.serving).toBe(false);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it("a second SIGTERM kills running commands and exits 1 at once", async () => {
    const r = await startWorker(["--redis", redis.url, "--queue", "kill", "--concurrency", "1", "--allow-exec", "--secret-file", TEST_SECRET_FILE]);
    expect(r.serving).toBe(true);
    const flow = await engine({ backend: queued({ queue: "kill" }) });
    const marker = join(mkdtempSync(join(tmpdir(), "af-kill-")), "started");
    const f = flow.executableTask((m: string) => `touch ${m}; sleep 30`)(marker);
    await until(() => existsSync(marker), 10_000); // the command runs
    let output = "";
    r.child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((res) => r.child.once("exit", res));
    const t0 = performance.now();
    r.child.kill("SIGTERM");
    await until(() => output.includes("asyncflow worker: stopping"), 10_000); // the first signal is taken
    r.child.kill("SIGTERM");
    expect(await exited).toBe(1);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(output).toContain("asyncflow worker: killed");
    expect(output).not.toContain("stopped after");
    await expect(f).rejects.toThrow(/command ".*sleep 30" was killed by SIG(TERM|KILL)/);
  });

  it("a secret shorter than 16 characters is refused as the engine refuses it, naming where it came from and never showing it", async () => {
    await expect(startQueueWorker({ connection: redis.url, secret: "option" })).rejects.toThrow(/^startQueueWorker: option `secret`: expected at least 16 characters, got `\*\*\*` \(string\)$/);
    const short = "s3cr3t-q";
    const fromEnv = await startWorker(["--redis", redis.url], { ASYNCFLOW_QUEUE_SECRET: short });
    expect([fromEnv.serving, fromEnv.code]).toEqual([false, 2]);
    expect(fromEnv.output).toMatch(/^asyncflow worker: ASYNCFLOW_QUEUE_SECRET: the secret must be at least 16 characters, it has 8$/m);
    const file = join(mkdtempSync(join(tmpdir(), "af-secret-")), "secret");
    writeFileSync(file, `${short}\n`, { mode: 0o600 });
    const fromFile = await startWorker(["--redis", redis.url, "--secret-file", file]);
    expect([fromFile.serving, fromFile.code]).toEqual([false, 2]);
    expect(fromFile.output).toContain(`asyncflow worker: --secret-file ${file}: the secret must be at least 16 characters, it has 8\n`);
    expect(fromEnv.output + fromFile.output).not.toContain(short);
  });

  it("a worker that can run nothing says so as it starts (no module, nothing allowed); one with a module does not", async () => {
    const refuse = /it registers no functions \(--module, `modules`\) and allows nothing else \(--allow-source, --allow-modules, --allow-exec\): it will refuse every job/;
    const idle = await startWorker(["--redis", redis.url, "--queue", "nothing", "--secret-file", TEST_SECRET_FILE]);
    const useful = await startWorker(["--redis", redis.url, "--queue", "nothing", "--secret-file", TEST_SECRET_FILE, "--module", TASKS_MODULE]);
    try {
      expect([idle.serving, useful.serving]).toEqual([true, true]);
      expect(idle.output).toMatch(refuse);
      expect(useful.output).not.toMatch(refuse);
    } finally {
      await Promise.all([stopWorkerProcess(idle.child), stopWorkerProcess(useful.child)]);
    }
  });

  it("a bad option value exits 2 naming the option", async () => {
    const r = await startWorker(["--redis", redis.url, "--concurrency", "zero"]);
    expect(r.serving).toBe(false);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/^asyncflow worker: --concurrency: expected a number, got "zero"$/m);
    // a password in a URL of the wrong scheme is not shown either
    const http = await startWorker(["--connection", "http://u:httppw@127.0.0.1:1"]);
    expect(http.code).toBe(2);
    expect(http.output).toMatch(/got `http:\/\/u:\*\*\*@127\.0\.0\.1:1`/);
    expect(http.output).not.toContain("httppw");
  });
});
