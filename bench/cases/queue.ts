/**
 * The queue case: QueueBackend against raw BullMQ on one private
 * redis-server, each served by a worker process of the same concurrency
 * (asyncflow-worker vs. a bare BullMQ Worker).
 */
import type { ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { QueueBackend, WorkflowEngine, type TaskFuture } from "../../lib/index.js";
import { startRedis, type RedisServer } from "../../test/redis.js";
import { startWorkerProcess, stopWorkerProcess } from "../../test/worker-process.js";
import { alternate, interleave, pairedRatio, sample, summarize, type Row, type Sample, type Settings } from "../harness.js";
import { tasksPerSecond } from "../runners.js";
import { Signer } from "../../backends/queue/sign.js";

const CONCURRENCY = 8;
const MAX_EVENTS = 100_000;

async function serve(command: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  const started = await startWorkerProcess(command, env);
  if (!started.serving) throw new Error(`${command.join(" ")} exited with ${started.code}: ${started.output}`);
  return started.child;
}

interface Side {
  /** The worker process serving this side. */
  readonly worker: number;
  /** tasks/s for `count` independent no-op jobs */
  throughput(): Promise<number>;
  /** ms per hop: one job after another, each waiting for the last */
  hop(): Promise<number>;
  close(): Promise<void>;
}

/** Raw BullMQ: bulk add, completions counted from QueueEvents; one job at a time, from add to its completed event. */
async function raw(redis: RedisServer, count: number, hops: number): Promise<Side> {
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue("raw", { connection, streams: { events: { maxLen: MAX_EVENTS } } });
  const events = new QueueEvents("raw", { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const worker = await serve([new URL("../fixtures/bullmq-worker.mjs", import.meta.url).pathname, redis.url, "raw", String(CONCURRENCY)]);
  let waiting: ((jobId: string) => void) | null = null;
  events.on("completed", ({ jobId }) => waiting?.(jobId));
  return {
    worker: worker.pid!,
    async throughput() {
      let left = count;
      const done = new Promise<void>((resolve) => (waiting = () => void (--left === 0 && resolve())));
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { i }, opts: { removeOnComplete: true } })));
      await done;
      return count / ((performance.now() - t0) / 1000);
    },
    async hop() {
      const t0 = performance.now();
      for (let i = 0; i < hops; i++) {
        // The completed event can be read before add's reply: it is kept until the id is known (once lost, it hung the run).
        let id: string | null = null;
        const early = new Set<string>();
        const done = new Promise<void>((resolve) => (waiting = (jobId) => void (jobId === id ? resolve() : id === null && early.add(jobId))));
        id = (await queue.add("noop", { i }, { removeOnComplete: true })).id!;
        if (!early.has(id)) await done;
      }
      return (performance.now() - t0) / hops;
    },
    async close() {
      await stopWorkerProcess(worker);
      await Promise.all([events.close(), queue.close()]);
    },
  };
}

/** QueueBackend: `count` independent no-op tasks; a chain of `hops` tasks awaited at its end. With `secret`, jobs and results are signed. */
async function ours(redis: RedisServer, count: number, hops: number, secret?: string): Promise<Side> {
  const cli = new URL("../../backends/queue/cli.ts", import.meta.url).pathname;
  const queue = secret === undefined ? "ours" : "ours-signed";
  const worker = await serve(["--import", "tsx", cli, "--redis", redis.url, "--queue", queue, "--concurrency", String(CONCURRENCY), "--allow-source", "--id", queue], secret === undefined ? {} : { ASYNCFLOW_QUEUE_SECRET: secret });
  const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: new QueueBackend({ connection: redis.url, queue, maxEvents: MAX_EVENTS, ...(secret === undefined ? {} : { secret }) }) });
  const noop = flow.functionTask((i: number) => i, { name: "noop" });
  return {
    worker: worker.pid!,
    throughput: () => tasksPerSecond(noop, count),
    async hop() {
      const t0 = performance.now();
      let f: TaskFuture<number> = noop(0);
      for (let i = 1; i < hops; i++) f = noop(f);
      await f;
      return (performance.now() - t0) / hops;
    },
    async close() {
      await flow.shutdown();
      await stopWorkerProcess(worker);
    },
  };
}

/** Resolves once `queue` holds `count` waiting jobs. */
async function waitingJobs(queue: Queue, count: number): Promise<void> {
  while ((await queue.getWaitingCount()) < count) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Shutting down with `count` jobs waiting and no worker: the engine removes
 * each job and records and announces the cancels. The floor is removing the
 * same jobs with raw BullMQ, one `remove` each, all at once.
 */
async function shutdownRow(redis: RedisServer, s: Settings, count: number): Promise<Row> {
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  let round = 0;
  const rawRemove = async (): Promise<number> => {
    const queue = new Queue(`raw-idle-${round++}`, { connection });
    try {
      const jobs = await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { i } })));
      const t0 = performance.now();
      await Promise.all(jobs.map((j) => queue.remove(j.id!)));
      return performance.now() - t0;
    } finally {
      await queue.close();
    }
  };
  const ourShutdown = async (): Promise<number> => {
    const name = `idle-${round++}`;
    const queue = new Queue(name, { connection });
    const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: new QueueBackend({ connection: redis.url, queue: name, noWorkerWarning: 0 }) });
    try {
      const noop = flow.functionTask((i: number) => i, { name: "noop" });
      for (let i = 0; i < count; i++) noop(i).catch(() => undefined);
      await waitingJobs(queue, count);
      const t0 = performance.now();
      await flow.shutdown();
      return performance.now() - t0;
    } finally {
      await queue.close();
    }
  };
  const [base, mine] = [await sample({ ...s, warmup: 1 }, rawRemove, 5), await sample({ ...s, warmup: 1 }, ourShutdown, 5)];
  const ratio = mine.median / base.median;
  return {
    case: `queue: shutdown, ${count.toLocaleString("en")} jobs waiting`,
    metric: "ms",
    ours: mine,
    baselineName: "raw remove of each job",
    baseline: base,
    ratio,
    peers: {},
    target: "- (no target; the figure behind the CHANGELOG)",
    pass: null,
  };
}

/**
 * One signature as the queue makes four a job: the Signer (two one-shot
 * hashes over key blocks made once) against createHmac given the key's bytes
 * at each call, which Node 24 imports into OpenSSL every time.
 */
async function signingRow(s: Settings): Promise<Row> {
  const n = s.quick ? 1_000 : 100_000;
  const secret = randomBytes(32).toString("hex");
  const signer = new Signer(secret);
  const key = Buffer.from(secret);
  const parts = ["q1a2b3c4.000001.1", "asyncflow.session.1a2b3c4d", JSON.stringify({ kind: "function", uid: "task.000001", name: "noop", attempt: 1, args: [1] })];
  const perSignature = async (sign: () => string): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sign();
    return ((performance.now() - t0) * 1000) / n;
  };
  const [ours, bytes] = await alternate(
    s,
    () => perSignature(() => signer.sign(...parts)),
    () => perSignature(() => createHmac("sha256", key).update(parts.join("\0")).digest("base64url")),
  );
  const ratio = ours.median / bytes.median;
  return { case: "queue: one job signature (HMAC-SHA256)", metric: "us", ours, baselineName: "createHmac with the key's bytes", baseline: bytes, ratio, peers: {}, target: "no slower than the raw key's (<= 1.1x)", pass: ratio <= 1.1 };
}

/** CPU time used so far, in us: this process (engine or raw client), a worker process (from /proc), and Redis (INFO). */
type Cpu = readonly [engine: number, worker: number, redis: number];

function cpuMeter(admin: Redis): (worker: number) => Promise<Cpu> {
  const ticks = (pid: number): number => {
    // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  };
  return async (worker) => {
    const info = await admin.info("cpu");
    const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
    const { user, system } = process.cpuUsage();
    return [user + system, ticks(worker), (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6];
  };
}

/**
 * Wraps a side's throughput run to record the CPU each of its three processes
 * used a job: two cores carry three processes, so the total, not any one of
 * them, is what throughput follows. Warm-up runs are not kept.
 */
function metered(side: Side, read: (worker: number) => Promise<Cpu>, count: number, into: Cpu[]): (measured: boolean) => Promise<number> {
  return async (measured) => {
    const before = await read(side.worker);
    const rate = await side.throughput();
    const after = await read(side.worker);
    if (measured) into.push([(after[0] - before[0]) / count, (after[1] - before[1]) / count, (after[2] - before[2]) / count]);
    return rate;
  };
}

/** "engine 107 + worker 66 + Redis 82 = 255 us", medians of each. */
function cpuText(cpu: readonly Cpu[]): string {
  const med = (i: 0 | 1 | 2): number => summarize(cpu.map((c) => c[i])).median;
  const [e, w, r] = [med(0), med(1), med(2)];
  return `${e.toFixed(0)} + ${w.toFixed(0)} + ${r.toFixed(0)} = ${(e + w + r).toFixed(0)} us`;
}

export async function queueCase(s: Settings): Promise<Row[]> {
  const count = s.quick ? 200 : 10_000;
  const hops = s.quick ? 10 : 500;
  const redis = await startRedis();
  const sides: Side[] = [];
  let admin: Redis | null = null;
  try {
    const base = await raw(redis, count, hops);
    sides.push(base);
    const unsigned = await ours(redis, count, hops);
    sides.push(unsigned);
    const signed = await ours(redis, count, hops, randomBytes(32).toString("hex"));
    sides.push(signed);
    // Raw and both of ours in turns within each round: the raw side's own rate drifts over a run (by 10-15% between
    // the rows of one run when each of ours was measured against it in rows of its own), and all three must see the same.
    // Twelve rounds: a round of 10,000 jobs swings by 10% with how three processes share two cores, and the order of
    // turns (turnOrder) repeats every six, each side after each other one twice.
    const rounds = { ...s, repeats: s.quick ? s.repeats : 12 };
    admin = new Redis(redis.url);
    const read = cpuMeter(admin);
    const cpu = { raw: [] as Cpu[], unsigned: [] as Cpu[], signed: [] as Cpu[] };
    const rates = await interleave(rounds, {
      raw: { run: metered(base, read, count, cpu.raw) },
      unsigned: { run: metered(unsigned, read, count, cpu.unsigned) },
      signed: { run: metered(signed, read, count, cpu.signed) },
    });
    const hopTimes = await interleave(rounds, { raw: { run: base.hop }, unsigned: { run: unsigned.hop }, signed: { run: signed.hop } });
    const rows: Row[] = [];
    for (const side of ["unsigned", "signed"] as const) {
      const [rawRate, ourRate, rawHop, ourHop] = [measured(rates.raw), measured(rates[side]), measured(hopTimes.raw), measured(hopTimes[side])];
      // Each round's own ratio (its three sides in turns, moments apart), not the ratio of two medians; both are printed.
      const speed = pairedRatio(ourRate, rawRate);
      const latency = pairedRatio(ourHop, rawHop);
      const ofMedians = (a: Sample, b: Sample): string => `ratio: the median of the rounds' own (of the medians: ${(a.median / b.median).toFixed(2)})`;
      const signing = side === "unsigned" ? "unsigned" : "signed (HMAC-SHA256)";
      rows.push(
        {
          case: `queue: ${count.toLocaleString("en")} no-op jobs, ${signing}`,
          metric: "tasks/s",
          ours: ourRate,
          baselineName: "raw BullMQ",
          baseline: rawRate,
          ratio: speed,
          peers: {},
          target: ">= 0.8 of raw BullMQ",
          pass: speed >= 0.8,
          note: `worker processes, concurrency ${CONCURRENCY}; CPU a job (engine or client + worker + Redis, medians): ours ${cpuText(cpu[side])}, raw ${cpuText(cpu.raw)}; ${ofMedians(ourRate, rawRate)}`,
        },
        { case: `queue: chain of ${hops}, ${signing}`, metric: "ms/hop", ours: ourHop, baselineName: "raw add->completed", baseline: rawHop, ratio: latency, peers: {}, target: "<= 1.3x raw round trip", pass: latency <= 1.3, note: ofMedians(ourHop, rawHop) },
      );
    }
    rows.push(await shutdownRow(redis, s, count), await signingRow(s));
    return rows;
  } finally {
    for (const side of sides) await side.close();
    await admin?.quit();
    await redis.stop();
  }
}

function measured(x: Sample | Error): Sample {
  if (x instanceof Error) throw x;
  return x;
}
