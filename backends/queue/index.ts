import { randomBytes } from "node:crypto";
import type { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { Attachment, oncePerBurst, type BackendEnvironment, type ExecutionBackend, type ReportState, type RunDescription, type TaskDescription } from "../../lib/contract/backend.js";
import { AsyncflowError, BackendUnreachableError, JobRefusedError, WorkerCrashError, describe } from "../../lib/contract/errors.js";
import { toWire } from "../../lib/contract/codec.js";
import { parseBackendOptions } from "../../lib/contract/options.js";
import type { TaskRun } from "../../lib/contract/run.js";
import { commandOf } from "../process/command.js";
import { uncloneableArgument } from "../remote/clone.js";
import { CancelSender, keys } from "./cancels.js";
import { OwnedConnections } from "./connections.js";
import type { queueBackendOptionsSchema } from "./options.js";
import { commandPayload, envelope, isBig, ranAt, readReply, OUTCOME_FIELD, type FunctionPayload } from "./protocol.js";
import { FinishedJobs } from "./removal.js";
import { GapWatch } from "./gap.js";
import { routeJobEvents } from "./job-events.js";
import { OutageWatch } from "./outage.js";
import { readJobs, readStarts, streamMark } from "./reconcile.js";
import { connectWithin, connectionOf, describeRedis, redactError, redisOptions, type ErrorSource } from "./redis.js";
import type { QueueRefs } from "./refs.js";
import { Signer } from "./sign.js";
import { Slots, type Sent } from "./slots.js";
import { Starts } from "./starts.js";
import { IdleQueueWatch } from "./watch.js";
import { QueueView } from "./describe.js";

/** QueueBackend's options, as given (see the schema in `options.ts` for each one's default). */
export type QueueBackendOptions = z.input<typeof queueBackendOptionsSchema>;
type Resolved = z.output<typeof queueBackendOptionsSchema>;

let readJobPrefix: (b: QueueBackend) => string;

/**
 * Job ids of the engine `b` is attached to are `<jobPrefix>.<task number>.<attempt>`
 * (`k3x9f2a.000123.1` for task.000123): the prefix is a nonce made when the
 * engine started. For tests; not part of the package's API.
 * @internal
 */
export function jobPrefixOf(b: QueueBackend): string {
  return readJobPrefix(b);
}

const CLOSE_WAIT_MS = 1500;
/** Jobs an add at most (a pipeline of BullMQ's add script): see #flush. */
const ADD_CHUNK = 500;
const EVENT_READ_BLOCK_MS = 1000;

/**
 * Runs tasks as jobs of a BullMQ queue on Redis, served by workers
 * (`asyncflow worker`, or `startQueueWorker`) on this or other machines. A
 * function task is named: workers run the function they registered under
 * its name (its module and, when self-contained, its source travel too, for
 * workers that allow them). An executable task's command is made here and
 * run by workers that allow commands. Arguments and results keep their types
 * (JSON where it is exact, V8's serializer otherwise), errors travel whole;
 * with a `secret`, jobs and results are signed and checked.
 *
 * Completion arrives as events (one blocking read of the queue's event
 * stream for all jobs), never by polling a job; a gap in the stream, or a
 * reconnect, makes the engine read its jobs' states from Redis. Jobs are
 * added in bulk, one round trip per 500 jobs of a burst of ready tasks.
 */
export class QueueBackend implements ExecutionBackend {
  readonly name: string;
  readonly #given: QueueBackendOptions;
  readonly #attachment: Attachment;
  #o: Resolved | null = null;
  #address = "";
  #signer: Signer | null = null;
  #redis: Redis | null = null;
  #connections = new OwnedConnections();
  #queue: Queue | null = null;
  #events: QueueEvents | null = null;
  #refs: QueueRefs | null = null;
  /** Runs in the queue by job id, and those waiting for a slot. */
  #slots: Slots = new Slots(0, () => undefined);
  /** Jobs to send, from `#outboxHead` on (a large burst goes out in chunks). */
  #outbox: Sent[] = [];
  #outboxHead = 0;
  #starts: Starts | null = null;
  #finished: FinishedJobs | null = null;
  #gap: GapWatch | null = null;
  #outage: OutageWatch | null = null;
  #cancels: CancelSender | null = null;
  /** The reconciliation running, if any (the next waits for it). */
  #reconciling: Promise<void> = Promise.resolve();
  /** Adds not yet answered by Redis: a reconciliation waits for them. */
  readonly #adding = new Set<Promise<unknown>>();
  #sessionUid = "";
  #jobPrefix = "";
  #closed = false;
  #watch: IdleQueueWatch | null = null;
  #view: QueueView | null = null;

  constructor(options: QueueBackendOptions) {
    this.#given = options;
    this.name = typeof options?.name === "string" ? options.name : "queue";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    const load = async () => (await import("./options.js")).queueBackendOptionsSchema;
    const o = (this.#o = await parseBackendOptions("QueueBackend", load, this.#given).catch((e: unknown) => {
      throw redactError(e, this.#given);
    }));
    const connection = connectionOf(o.connection, `QueueBackend "${this.name}"`);
    this.#address = describeRedis(connection, o.tls);
    this.#signer = o.secret === undefined ? null : new Signer(o.secret);
    this.#attachment.set(report, env);
    this.#sessionUid = env.sessionUid;
    // Job ids are short (long ones cost Redis ~10% of its throughput here) and start with a nonce of
    // this engine start, so that no other engine, nor a rerun with the same `uid`, meets them (BullMQ
    // keeps failed jobs, and silently drops an add whose id exists).
    this.#jobPrefix = randomBytes(5).readUIntBE(0, 5).toString(36);
    this.#slots = new Slots(o.maxInFlight, (job) => this.#toSend(job));
    const [{ Queue, QueueEvents }, { Redis }, { queueRefs }] = await Promise.all([import("bullmq"), import("ioredis"), import("./refs.js")]);
    const connections = (this.#connections = new OwnedConnections());
    const ioredis = connections.options(redisOptions(connection, o.tls));
    const redis = (this.#redis = connections.own(new Redis({ ...ioredis, lazyConnect: true })));
    redis.on("error", () => undefined); // reported by the connect below, then by the queue (logged) and the commands that fail
    const within = async (ready: Promise<unknown>, errors: ErrorSource): Promise<void> => {
      try {
        await connectWithin(ready, `QueueBackend "${this.name}"`, this.#address, o.connectTimeout, errors);
      } catch (error) {
        connections.close();
        void this.#events?.disconnect().catch(() => undefined);
        throw error;
      }
    };
    await within(redis.connect(), redis);
    const queue = (this.#queue = new Queue(o.queue, { connection: redis, prefix: o.prefix, streams: { events: { maxLen: o.maxEvents } } }));
    this.#finished = new FinishedJobs(redis, queue);
    const read = (ids: string[]) => readStarts(redis, (id) => queue.toKey(id), ids);
    this.#starts = new Starts(this.name, this.#slots, this.#attachment, read, () => this.#watch?.started());
    const outage = (this.#outage = new OutageWatch(o.unreachableTimeout, this.#address, (why) => this.#failAll(why)));
    const errorReport = (who: string) => outage.report((line, recovered) => env.log[recovered ? "warn" : "error"](env.sessionUid, `QueueBackend "${this.name}"${who}: ${line}`));
    const errors = errorReport("");
    this.#cancels = new CancelSender(queue, redis, keys(o.prefix, o.queue), (e) => errors.error(`cancels not recorded (workers that were disconnected will not see them): ${describe(e)}`));
    // 'ready' again means Redis came back: jobs it lost (a restart without persistence) are sent again.
    redis.on("ready", () => {
      errors.ready();
      void this.#reconcile("a reconnect");
    });
    queue.on("error", (e) => errors.error(describe(e)));
    // Read events from the stream's current end: no job of ours is older, and none can be missed.
    const mark = await streamMark(redis, queue.keys.events!);
    const gap = (this.#gap = new GapWatch(redis, queue.keys.events!, mark, () => this.#slots.size > 0, (why) => this.#reconcile(why)));
    const events = (this.#events = new QueueEvents(o.queue, {
      connection: ioredis,
      prefix: o.prefix,
      lastEventId: gap.start,
      // Events arrive at once whatever this is; it bounds how long an idle read blocks, and so how long
      // BullMQ's watchdog on that read (this + 1 s) can hold the process after shutdown() when Redis is gone.
      blockingTimeout: EVENT_READ_BLOCK_MS,
    }));
    const eventErrors = errorReport(" events");
    events.on("error", (e) => eventErrors.error(describe(e)));
    events.getBackend().connection.on("ready", () => eventErrors.ready());
    routeJobEvents(events, {
      active: (jobId, id) => this.#active(jobId, id),
      completed: (jobId, returned, id) => this.#completed(jobId, returned, id),
      failed: (jobId, reason, id) => this.#failed(jobId, reason, id),
      stalled: (jobId, id) => this.#stalled(jobId, id),
    });
    await within(events.waitUntilReady(), events);
    connections.own(await events.getBackend().client);
    this.#refs = await queueRefs();
    const startOne = `asyncflow worker --connection ${this.#address} --queue ${o.queue} --module <your tasks>`;
    const view = (this.#view = new QueueView(o.queue, startOne, async () => {
      const [workers, waiting] = await Promise.all([queue.getWorkers(), queue.getWaitingCount()]);
      return { workers: workers.map((w) => w.rawname ?? w.name ?? ""), waiting };
    }));
    this.#watch = new IdleQueueWatch(
      o.noWorkerWarning,
      () => this.#slots.size,
      async () => (await view.reading()).workers.length,
      (idleMs, jobs) =>
        env.log.warn(
          env.sessionUid,
          `QueueBackend "${this.name}": ${jobs} job(s) waiting, none started for ${(idleMs / 1000).toFixed(1)} s, and Redis lists no worker for queue "${o.queue}" at ${this.#address}. ` +
            `Start one: ${startOne}`,
        ),
      (idleMs, jobs, workers) => {
        if (env.log.debugOn) env.log.debug(env.sessionUid, `QueueBackend "${this.name}": no job started for ${(idleMs / 1000).toFixed(1)} s, ${jobs} in Redis; Redis lists ${workers} worker(s) for queue "${o.queue}" (busy): not reported`);
      },
    );
  }

  static {
    readJobPrefix = (b) => b.#jobPrefix;
  }

  /** Jobs of this engine now in Redis (waiting for or running on a worker), at most `maxInFlight`. Public: it shows flow control at work. */
  get inQueue(): number {
    return this.#slots.size;
  }

  /** Ready runs held here until a slot frees (beyond `maxInFlight`). Public: it shows flow control at work. */
  get backlog(): number {
    return this.#slots.waiting;
  }

  describe(run: TaskRun, started: boolean): RunDescription | undefined {
    const view = this.#view;
    if (view === null) return undefined;
    const job = this.#slots.get(this.#jobId(run));
    // Not in Redis: held for a slot (or its command is still being made).
    if (job === undefined) return view.held(run, this.#places(), this.#o!.maxInFlight);
    this.#starts!.place(job);
    // A job whose worker was lost and that the queue took back has been delivered, and is not started.
    return view.sent(started && job.started, job.deliveries > 0 && !job.started, job.worker);
  }

  readonly #places = oncePerBurst(() => this.#slots.places());

  validate(task: TaskDescription): void {
    if (task.kind === "function") this.#refs!.validate(task.fn, task.name, task.options);
  }

  submit(run: TaskRun): void {
    this.#attachment.admit(run);
    if (run.kind === "executable") return void this.#submitCommand(run);
    const bad = uncloneableArgument(run, "a queue worker");
    if (bad !== null) return this.#attachment.report(run, "FAILED", bad);
    const ref = this.#refs!.of(run.fn, run.name, run.options);
    // One shape for every payload (absent parts undefined, which JSON leaves out): spreads made each a new shape, per job.
    const uid = run.uid;
    const payload: FunctionPayload = { kind: "function", uid, name: run.name, attempt: run.attempt, args: toWire(run.args), module: ref.module, source: ref.source, trace: run.trace };
    this.#slots.admit(this.#jobId(run, uid), run, payload);
  }

  // The command is made here, where the task was defined (its function may close over anything); the worker runs it.
  async #submitCommand(run: TaskRun): Promise<void> {
    let payload;
    try {
      payload = commandPayload(run, await commandOf(run));
    } catch (error) {
      return this.#attachment.report(run, "FAILED", error);
    }
    if (run.aborted || this.#closed) return;
    this.#slots.admit(this.#jobId(run), run, payload);
  }

  cancel(run: TaskRun): void {
    const id = this.#jobId(run);
    const job = this.#slots.get(id);
    // A run still in the backlog is skipped when its turn comes (its signal is aborted).
    if (!this.#release(id)) return;
    // Not sent yet, and never run anywhere: nothing in Redis or on a worker to tell (its turn to be sent skips it).
    if (job !== undefined && !job.added && job.deliveries === 0) return;
    // A waiting job is removed; the worker holding a running one aborts its body's signal, with the engine's reason.
    this.#cancels?.send(id, run.aborted ? run.signal.reason : undefined);
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#attachment.close();
    this.#closed = true;
    this.#watch?.stop();
    this.#gap?.stop();
    this.#outage?.close();
    this.#slots.clear();
    // The engine cancelled every run before this: let those cancels reach Redis (so that workers abort
    // the bodies), then close. With Redis gone, both can wait forever (ioredis queues commands, and gives
    // BullMQ's close no connection end while it is between reconnects): wait a while, not forever, then
    // drop every connection for good (connections.ts), so that no reconnect timer holds the process.
    this.#finished?.flush();
    const closed = Promise.resolve(this.#cancels?.settled()).then(() => Promise.allSettled([this.#events?.close(), this.#queue?.close()]));
    await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    this.#connections.close();
  }

  #jobId(run: TaskRun, uid = run.uid): string {
    // "k3x9f2a.000123.1" for task.000123, attempt 1
    return `${this.#jobPrefix}.${uid.slice(uid.indexOf(".") + 1)}.${run.attempt}`;
  }

  readonly #flush = (): void => {
    const all = this.#outbox;
    if (this.#closed) {
      this.#outbox = [];
      this.#outboxHead = 0;
      return;
    }
    // A large burst goes out a chunk per turn of the event loop: Redis and the workers start on the first chunk while
    // the next is made, instead of all three waiting for the engine to make the whole burst first.
    const from = this.#outboxHead;
    const to = Math.min(from + ADD_CHUNK, all.length);
    const chunk = all.slice(from, to);
    // The rest stays where it is (slicing it off at each chunk would copy a burst of n jobs n/ADD_CHUNK times).
    if (to < all.length) {
      this.#outboxHead = to;
      setImmediate(this.#flush);
    } else {
      this.#outbox = [];
      this.#outboxHead = 0;
    }
    // Runs settled since they were queued here (cancelled, or failed by an outage) are not sent: their slots are free.
    const outbox = chunk.filter((job) => this.#slots.get(job.id) === job);
    if (outbox.length === 0) return;
    const keep = { age: this.#o!.keepFinished };
    const jobs = outbox.map((job) => {
      job.added = true;
      const { id, run, payload } = job;
      return {
        name: run.name,
        data: envelope(id, this.#sessionUid, payload, this.#signer),
        opts: { jobId: id, removeOnComplete: keep, removeOnFail: keep },
      };
    });
    // One job alone (a chain's next hop) goes by a plain add: cheaper for Redis than a one-job MULTI.
    const queue = this.#queue!;
    const added: Promise<unknown> = jobs.length === 1 ? queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : queue.addBulk(jobs);
    this.#adding.add(added);
    this.#watch!.sent();
    this.#gap!.arm();
    void added.finally(() => this.#adding.delete(added)).catch(() => undefined);
    added.catch((error: unknown) => {
      // A bulk add Redis had partly answered when the connection dropped is aborted by ioredis, not sent again: its
      // jobs go again once the connection is back (BullMQ drops those Redis took already: their ids exist), but for
      // runs settled meanwhile, which the flush skips; an outage that lasts fails them as it fails every run out.
      if (abortedByClose(error) && !this.#closed) return outbox.forEach((job) => this.#toSend(job));
      for (const { run, id } of outbox) this.#settle(id, run, "FAILED", new AsyncflowError(`${run.uid} (${run.name}): could not be queued: ${describe(error)}`, { cause: error }));
    });
  };

  /** Releases the job's slot and reports; false when the job held none (settled already, or cancelled). */
  #settle(id: string, run: TaskRun, state: "DONE" | "FAILED", value: unknown): boolean {
    if (!this.#release(id)) return false;
    this.#attachment.report(run, state, value);
    return true;
  }

  /** Frees the job's slot; false when it held none. */
  #release(id: string): boolean {
    if (!this.#slots.release(id)) return false;
    if (this.#slots.size === 0) this.#watch?.drained();
    return true;
  }

  #active(jobId: string, eventId: string): void {
    this.#gap!.read(eventId);
    this.#starts!.active(jobId);
  }

  #completed(jobId: string, returned: unknown, eventId: string | null): void {
    if (eventId !== null) this.#gap!.read(eventId);
    const job = this.#slots.get(jobId);
    if (job === undefined) return;
    // Finished before its start was placed: the reply says where it ran.
    if (!job.started) this.#starts!.started(job, ranAt(returned));
    if (isBig(returned)) return void this.#fetchBig(job, returned);
    this.#read(job, returned, null);
  }

  async #fetchBig(job: Sent, returned: unknown): Promise<void> {
    const stored = await this.#redis!.hget(this.#queue!.toKey(job.id), OUTCOME_FIELD).catch(() => null);
    this.#read(job, returned, stored);
  }

  #read(job: Sent, returned: unknown, stored: string | null): void {
    const [state, value, rejected] = readReply(job.run, job.id, returned, this.#signer, stored);
    if (!this.#settle(job.id, job.run, state, value)) return;
    // A rejected result was not the job's: the job itself may still be running on a worker, which is told to stop.
    if (rejected) this.#cancels?.send(job.id);
    else this.#finished!.add(job.id);
  }

  // A body's own failure arrives as a completed job; a failed job means the worker could not run it: it refused it, or lost it past maxStalledCount.
  #failed(jobId: string, reason: string, eventId: string | null): void {
    if (eventId !== null) this.#gap!.read(eventId);
    const job = this.#slots.get(jobId);
    if (job === undefined) return;
    const { run } = job;
    const error = /stalled|lock/i.test(reason) ? new WorkerCrashError(run, new Error(reason)) : new JobRefusedError(`${run.uid} (${run.name}): a worker refused job ${jobId}: ${reason}`);
    this.#settle(jobId, run, "FAILED", error);
  }

  #stalled(jobId: string, eventId: string): void {
    this.#gap!.read(eventId);
    const job = this.#slots.get(jobId);
    if (job === undefined) return;
    // Its worker was lost while running it: the next worker to take it is a new delivery.
    job.started = false;
    this.#attachment.env.log.warn(job.run.uid, `QueueBackend "${this.name}": ${job.run.name}: the worker running job ${jobId} was lost (it died, or its event loop was blocked past lockDuration): the job goes back to the queue`, job.run.workflowId);
  }

  /** Reads the state of every job out and settles what its events did not: finished, failed, or gone from Redis (sent again). */
  #reconcile(why: string): Promise<void> {
    // One after another: two at once (a reconnect and a gap) could both read a job as gone and send it twice.
    return (this.#reconciling = this.#reconciling.then(() => this.#reconcileNow(why)));
  }

  async #reconcileNow(why: string): Promise<void> {
    const queue = this.#queue;
    const redis = this.#redis;
    if (queue === null || redis === null || this.#closed) return;
    const env = this.#attachment.env;
    try {
      // Jobs still waiting here to be sent are not in Redis, and not lost; those sent are read once Redis has taken them.
      const jobs = this.#slots.jobs().filter((job) => job.added);
      if (jobs.length === 0) return;
      await Promise.allSettled([...this.#adding]);
      const states = await readJobs(redis, (id) => queue.toKey(id), jobs.map((j) => j.id));
      let settled = 0;
      let resent = 0;
      jobs.forEach((job, i) => {
        const s = states[i]!;
        if (this.#slots.get(job.id) !== job) return; // settled meanwhile
        if (s.kind === "completed") {
          settled++;
          if (isBig(s.reply)) return void this.#fetchBig(job, s.reply);
          this.#completed(job.id, s.reply, null);
        } else if (s.kind === "failed") {
          settled++;
          this.#failed(job.id, s.reason, null);
        } else if (s.kind === "active" && !job.started) {
          this.#starts!.started(job, s);
        } else if (s.kind === "gone") {
          if (this.#resend(job)) resent++;
        }
      });
      if (settled + resent > 0) env.log.warn(env.sessionUid, `QueueBackend "${this.name}": after ${why}: ${settled} task(s) settled from their jobs' state, ${resent} job(s) lost by Redis sent again`);
      else if (env.log.debugOn) env.log.debug(env.sessionUid, `QueueBackend "${this.name}": after ${why}: read the state of ${jobs.length} job(s): none to settle or send again`);
    } catch (error) {
      env.log.error(env.sessionUid, `QueueBackend "${this.name}": reading the state of its jobs after ${why} failed: ${describe(error)}`);
    }
  }

  /** A job Redis lost: sent again if it had not started, or had started once (a new delivery); else its task fails. */
  #resend(job: Sent): boolean {
    const { run, id } = job;
    if (job.started) {
      if ((job.payload.resent ?? 0) >= 1) {
        this.#settle(id, run, "FAILED", new AsyncflowError(`${run.uid} (${run.name}): its job ${id} is gone from Redis a second time after it had started (the server restarted without persistence, or the job was deleted)`));
        return false;
      }
      job.payload = { ...job.payload, resent: (job.payload.resent ?? 0) + job.deliveries };
      job.started = false;
    }
    this.#toSend(job);
    return true;
  }

  /** Queues the job to be sent with the next chunk (a flush is scheduled whenever the outbox holds jobs). */
  #toSend(job: Sent): void {
    job.added = false;
    if (this.#outbox.push(job) === 1) queueMicrotask(this.#flush);
  }

  /** Redis was unreachable for `unreachableTimeout`: the runs it holds fail, saying `why`. */
  #failAll(why: string): void {
    for (const { id, run } of this.#slots.jobs()) {
      this.#settle(id, run, "FAILED", new BackendUnreachableError(`${run.uid} (${run.name}): ${why} (its job ${id} may still run once Redis is back; its result will be ignored)`, this.#address));
    }
  }
}

/** ioredis's abort of a pipeline cut by a connection close (its other errors, and Redis's own, are not). */
function abortedByClose(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError" && /connection close/i.test(error.message);
}
