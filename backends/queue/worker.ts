import type { ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { availableParallelism } from "node:os";
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { serializeError, toWire } from "../../lib/contract/codec.js";
import { Logger } from "../../lib/contract/log.js";
import { parseBackendOptions } from "../../lib/contract/options.js";
import { describe } from "../../lib/contract/errors.js";
import { keys, receiveCancels } from "./cancels.js";
import type { JobControl } from "./job.js";
import { OwnedConnections } from "./connections.js";
import type { queueWorkerOptionsSchema } from "./options.js";
import { OUTCOME_FIELD, reply, type JobOutcome, type ReplyEnvelope } from "./protocol.js";
import { ErrorReport, connectWithin, connectionOf, describeRedis, redactError, redisOptions, type ErrorSource } from "./redis.js";
import { Signer } from "./sign.js";
import { forgetOldest } from "../remote/bounded.js";
import { LazySignal } from "../remote/signal.js";

/** Options of `startQueueWorker` (and of `asyncflow worker`, flag for flag). */
export type QueueWorkerOptions = z.input<typeof queueWorkerOptionsSchema>;

/** A running queue worker; `close()` lets the jobs it holds finish, then disconnects. */
export interface QueueWorker {
  readonly queue: string;
  readonly concurrency: number;
  /** How it names itself: `<host>:<pid>` unless given. */
  readonly id: string;
  /** Jobs this worker has finished (a body's failure counts: it is reported, not retried). */
  readonly processed: number;
  close(): Promise<void>;
  /** Stops at once: kills running commands (their tasks fail), and leaves function jobs it holds to go back to the queue once their locks expire. */
  kill(): Promise<void>;
}

const EARLY_CANCELS = 10_000;
/** How many jobs' unrecordable outcomes are remembered, so that each is said once. */
const SAID_ONCE = 1_000;
const cancelled = (id: string): Error => new Error(`job ${id} was cancelled by the engine`);

/**
 * Serves a QueueBackend's jobs: the body of `asyncflow worker`, usable in
 * process too. Each job is checked (envelope, signature, schema) and runs
 * only what this worker trusts (trust.ts); its result or error goes back as
 * the job's reply, signed when there is a secret.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const opts = await parseBackendOptions("startQueueWorker", async () => (await import("./options.js")).queueWorkerOptionsSchema, options).catch((e: unknown) => {
    throw redactError(e, options);
  });
  const connection = connectionOf(opts.connection, "startQueueWorker");
  const address = describeRedis(connection, opts.tls);
  const concurrency = opts.concurrency ?? availableParallelism();
  const id = opts.id ?? `${hostname()}:${process.pid}`;
  const signer = opts.secret === undefined ? null : new Signer(opts.secret);
  // Loaded here, not at import: the executor sets worker globals (`taskContext`), which an engine's process must not get.
  const [{ Worker, UnrecoverableError }, { Redis: RedisClient }, { runJob }, { killAll }, { readJob }, { Trust, registry }, { WatchedChildren }, { passUnparsable, UNPARSABLE }] = await Promise.all([
    import("bullmq"),
    import("ioredis"),
    import("./job.js"),
    import("../process/command.js"),
    import("./schema.js"),
    import("./trust.js"),
    import("../process/watchdog.js"),
    import("./poison.js"),
  ]);
  const trust = new Trust(await registry(opts.modules), opts, id);
  const log = new Logger();
  if (opts.modules.length === 0 && !trust.opensCode) {
    log.warn(id, `asyncflow worker: it registers no functions (--module, \`modules\`) and allows nothing else (--allow-source, --allow-modules, --allow-exec): it will refuse every job`);
  }
  if (trust.opensCode && signer === null) {
    log.warn(id, `asyncflow worker: runs ${[opts.allowSource && "shipped source", opts.allowModules.length > 0 && "modules jobs name", opts.allowExec && "commands"].filter(Boolean).join(", ")} without a secret: anyone who can write to Redis at ${address} can run code here (give it --secret-file, and the engine the same \`secret\`)`);
  }
  const connections = new OwnedConnections();
  const ioredis = connections.options(redisOptions(connection, opts.tls));
  const k = keys(opts.prefix, opts.queue);
  let processed = 0;
  /** Jobs named for cancelling that were not running here, with the reason if sent: the most recent EARLY_CANCELS of them. */
  const early = new Map<string, Error | undefined>();
  // Processes of command jobs running here: killed by `kill()`, and by the watchdog if this process dies.
  const children = new WatchedChildren();
  // Jobs running here, each with what its body is given (its AbortController made only when the body reads the signal or it is cancelled).
  const running = new Map<string, Control>();
  /** kill() was called: see the processor. */
  let killed = false;
  const stopAll = (why: string): void => {
    // Abort first, so that a command about to start is killed as it starts.
    for (const [jobId, control] of running) control.abort(new Error(`job ${jobId}: ${why}`));
    killAll(children);
  };
  // The engine names a job to cancel on a channel; the worker holding it aborts the body's signal.
  // Subscribed before the worker starts, so that no cancel falls between the two.
  const cancels = connections.own(new RedisClient(ioredis)); // connects now, retrying until the subscribe below gives up
  // For looking up, after a reconnect, the cancels sent while the subscription was down.
  let lookup: Redis | null = null;
  const disconnect = (): void => {
    connections.close();
    children.close();
  };
  let ready = false;
  // Failures before the worker is ready make startQueueWorker reject; after, they are warnings, each said once while Redis is away.
  const errorReport = (who: string): ErrorReport => new ErrorReport((line) => process.emitWarning(`asyncflow queue worker${who}: ${line}`));
  const cancelErrors = errorReport(" (cancel channel)");
  const warnCancel = (e: Error): void => {
    if (ready) cancelErrors.error(e.message);
  };
  cancels.on("error", warnCancel);
  cancels.on("ready", () => cancelErrors.ready());
  const onCancel = (jobId: string, reason?: Error): void => {
    const control = running.get(jobId);
    if (control !== undefined) {
      const why = reason ?? cancelled(jobId);
      control.abort(why);
      return control.release?.({ error: toWire(serializeError(why)) });
    }
    // Not running here (yet): kept a while, in case this worker is the one about to start it.
    early.set(jobId, reason);
    forgetOldest(early, EARLY_CANCELS);
  };
  const connected = (ready: Promise<unknown>, errors: ErrorSource): Promise<void> => connectWithin(ready, "queue worker", address, opts.connectTimeout, errors);
  try {
    const lookupClient = (): Redis => (lookup ??= connections.own(new RedisClient(ioredis)).on("error", warnCancel));
    const subscribed = receiveCancels(cancels, lookupClient, k, () => [...running.keys()], onCancel, warnCancel);
    await connected(subscribed, cancels);
  } catch (error) {
    disconnect();
    throw error;
  }
  const worker: Worker<unknown, ReplyEnvelope> = new Worker<unknown, ReplyEnvelope>(
    opts.queue,
    async (job: Job<unknown, ReplyEnvelope>) => {
      const jobId = job.id!;
      const data = job.data as Record<string, unknown> | null;
      let checked: ReturnType<typeof readJob>;
      try {
        if (data !== null && typeof data === "object" && UNPARSABLE in data) throw new UnrecoverableError(`malformed job ${jobId}: ${String(data[UNPARSABLE])}`);
        checked = readJob(jobId, data, signer);
      } catch (error) {
        // Nothing of it ran; it fails (no retry) with the reason, and the reason is logged with its id.
        log.error(id, `asyncflow worker: ${(error as Error).message}`);
        throw new UnrecoverableError((error as Error).message);
      }
      const { session, payload } = checked;
      // BullMQ's count of the job's starts (what the reply reports); with the engine's resends, the delivery.
      const starts = Math.max(1, job.attemptsStarted);
      const delivery = starts + (payload.resent ?? 0);
      const control = new Control(session, delivery, children);
      running.set(jobId, control);
      if (log.debugOn) log.debug(payload.uid, `${payload.name}: job ${jobId} started (delivery ${delivery})`);
      try {
        let out: JobOutcome;
        if (early.has(jobId)) {
          // Cancelled while BullMQ was handing it to us: its body never runs (the engine settled it already).
          out = { error: toWire(serializeError(early.get(jobId) ?? cancelled(jobId))) };
          early.delete(jobId);
        } else {
          // runJob never rejects; a cancel resolves the same promise first.
          out = await new Promise<JobOutcome>((resolve) => {
            control.release = resolve;
            void runJob(payload, checked.args, trust, control).then(resolve);
          });
        }
        // Killed (a second signal): a function body the kill stopped is not its task's failure. Its job is left unfinished,
        // and goes back to the queue once its lock expires, as if this process had died; a command's failure is its task's.
        if (killed && payload.kind !== "command") return await new Promise<never>(() => undefined);
        processed++;
        if (log.debugOn) log.debug(payload.uid, `${payload.name}: job ${jobId} ${"value" in out ? "done" : "failed"}`);
        const { reply: r, big } = reply(jobId, out, signer, { w: id, d: starts });
        // Kept in the job's hash, not in the event stream; sent on the connection BullMQ finishes the job on, so it lands first.
        if (big !== null) void ((await worker.getBackend().client) as unknown as Redis).hset(job.queueQualifiedName + ":" + jobId, OUTCOME_FIELD, big).catch((e: unknown) => log.error(id, `job ${jobId}: its result could not be stored: ${describe(e)}`));
        return r;
      } finally {
        running.delete(jobId);
      }
    },
    {
      connection: ioredis,
      prefix: opts.prefix,
      name: id,
      concurrency,
      lockDuration: opts.lockDuration,
      stalledInterval: opts.stalledInterval ?? Math.max(1, Math.floor(opts.lockDuration / 2)),
      maxStalledCount: opts.maxStalledCount,
    },
  );
  passUnparsable(worker as Worker);
  const workerErrors = errorReport("");
  /** The most recent jobs whose outcome could not be recorded, said once each. */
  const unfinished = new Set<string>();
  worker.on("error", (e) => {
    if (!ready) return;
    // A job's own failure to finish is not the connection's: said once with its job, in an operator's terms, and kept out of
    // the outage report (whose "connected again" it would otherwise claim).
    const lost = unfinishable(e.message);
    if (lost === null) return workerErrors.error(e.message);
    // BullMQ reports it more than once for one job.
    if (unfinished.has(lost)) return;
    unfinished.add(lost);
    forgetOldest(unfinished, SAID_ONCE);
    log.warn(id, `asyncflow worker: ${lost}`);
  });
  // BullMQ's worker has two connections, both reporting through its 'error': either being ready again lets the next error be said.
  const backend = worker.getBackend();
  for (const c of [backend.connection, backend.blockingConnection]) c?.on("ready", () => workerErrors.ready());
  // An outage is a connection of the worker's that is not ready, not any error BullMQ reports (a job's own, such as its
  // lock gone when it finishes, leaves Redis reachable): it starts when one closes and ends when all are ready again.
  // Past unreachableTimeout the bodies running here could not report anyway, and their jobs go to another worker once
  // their locks expire.
  const links: { readonly status: string; on(event: "close" | "ready", listener: () => void): unknown }[] = [];
  // The outage's timer while it runs; "said" once it has fired, until every connection is ready again: each failed
  // reconnect closes a connection again, and the outage is said once, not once per unreachableTimeout.
  let outage: NodeJS.Timeout | "said" | null = null;
  let closing = false;
  const linksChanged = (): void => {
    if (links.every((c) => c.status === "ready")) {
      if (outage !== null && outage !== "said") clearTimeout(outage);
      outage = null;
    } else if (!closing) {
      outage ??= setTimeout(() => {
        outage = "said";
        const n = running.size;
        if (n > 0) stopAll(`Redis at ${address} unreachable for ${opts.unreachableTimeout} ms`);
        log.error(id, `asyncflow worker: Redis at ${address} unreachable for ${(opts.unreachableTimeout / 1000).toFixed(1)} s${n > 0 ? `: stopped the ${n} job(s) running here (they go back to the queue once Redis is back)` : ""}`);
      }, opts.unreachableTimeout).unref();
    }
  };
  try {
    await connected(worker.waitUntilReady(), worker);
    for (const client of [backend.client, backend.blockingClient]) if (client !== undefined) links.push(connections.own(await client));
    for (const c of links) {
      c.on("close", linksChanged);
      c.on("ready", linksChanged);
    }
  } catch (error) {
    disconnect();
    await worker.close(true).catch(() => undefined);
    throw error;
  }
  ready = true;
  return {
    queue: opts.queue,
    concurrency,
    id,
    get processed() {
      return processed;
    },
    close: async () => {
      closing = true;
      await worker.close();
      disconnect();
    },
    kill: async () => {
      closing = true;
      killed = true;
      stopAll("the worker was killed");
      // With Redis gone, BullMQ's close can wait for it forever: give it a moment, not more.
      await Promise.race([worker.close(true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
      disconnect();
    },
  };
}

/**
 * BullMQ's "Missing lock|key for job X. moveToFinished" (a job whose outcome
 * had nowhere to go), said as what happened; null for any other error.
 */
function unfinishable(message: string): string | null {
  const m = /^Missing (lock|key) for job (\S+)\. (\w+)/.exec(message);
  if (m === null) return null;
  const why =
    m[1] === "lock"
      ? "Redis no longer holds its lock (the engine cancelled the job, Redis lost it, or the lock expired: the job ran past lockDuration without renewal, e.g. a body blocking the event loop, and may run again elsewhere)"
      : "the job is gone from Redis (cancelled, removed, or lost with Redis's data)";
  return `job ${m[2]}: its outcome was not recorded: ${why} (BullMQ: ${m[3]})`;
}

/** What a job's body is given: its signal (made only when read), and what a command needs. */
class Control extends LazySignal implements JobControl {
  /** Ends the job's handler at once with an outcome: a cancelled job does not hold a slot while a body that ignores its signal runs on. */
  release: ((outcome: JobOutcome) => void) | null = null;
  constructor(
    readonly session: string,
    readonly delivery: number,
    readonly children: Set<ChildProcess>,
  ) {
    super();
  }
}
