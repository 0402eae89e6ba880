/**
 * How a cancel reaches the worker running the job: the engine names the job
 * on a pub/sub channel (a message names one job or more, one per line, each
 * with the cancel's reason as `\t{"name","message","reason"}` JSON), and
 * records it in a sorted set (job id -> time) for an hour. A worker whose
 * subscription dropped (a network blip, a Redis failover) missed the
 * messages sent meanwhile: once subscribed again, it looks its running jobs
 * up in the set. Both names start with the queue's prefix, as BullMQ's keys do.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { deserializeError, parseJson } from "../../lib/contract/codec.js";

/** Where cancels of a queue go: the pub/sub channel, and the sorted set of recent cancels (member = job id, score = when). */
export interface CancelKeys {
  readonly channel: string;
  readonly cancelled: string;
}

export const keys = (prefix: string, queue: string): CancelKeys => ({ channel: `${prefix}:${queue}:af:cancel`, cancelled: `${prefix}:${queue}:af:cancelled` });
/** How long a cancel is remembered for a worker that was away; the set itself expires that long after the last cancel. */
export const CANCEL_MEMORY_MS = 3_600_000;

/**
 * Engine side: the cancels of one burst (a failure cascading, a shutdown)
 * go out together: each waiting job removed, all of them recorded in one
 * ZADD and named in one message (ids one per line). Recording comes before
 * announcing, on one connection, which keeps the order.
 */
export class CancelSender {
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #keys: CancelKeys;
  /** Redis refused to record or announce a burst (out of memory, say): workers may miss those cancels. */
  readonly #onError: (e: Error) => void;
  #ids: string[] = [];
  #lines: string[] = [];
  readonly #sending = new Set<Promise<unknown>>();

  constructor(queue: Queue, redis: Redis, keys: CancelKeys, onError: (e: Error) => void) {
    this.#queue = queue;
    this.#keys = keys;
    this.#redis = redis;
    this.#onError = onError;
  }

  /** Cancels `jobId`; the body's signal is aborted with `reason` (the error's name, message and `reason`), else a generic one. */
  send(jobId: string, reason?: unknown): void {
    this.#lines.push(reason instanceof Error ? `${jobId}\t${encodeReason(reason)}` : jobId);
    if (this.#ids.push(jobId) === 1) queueMicrotask(this.#flush);
  }

  /** Sends what is pending now, and resolves once Redis has answered every cancel sent so far. */
  settled(): Promise<unknown> {
    this.#flush();
    return Promise.allSettled([...this.#sending]);
  }

  readonly #flush = (): void => {
    const ids = this.#ids;
    if (ids.length === 0) return;
    const lines = this.#lines;
    this.#ids = [];
    this.#lines = [];
    const now = Date.now();
    const key = this.#keys.cancelled;
    const members = ids.flatMap((id) => [now, id]);
    const recorded = this.#redis
      .pipeline()
      .zadd(key, ...members)
      .zremrangebyscore(key, "-inf", now - CANCEL_MEMORY_MS)
      .pexpire(key, CANCEL_MEMORY_MS)
      .publish(this.#keys.channel, lines.join("\n"))
      .exec()
      .then((replies) => {
        const refused = replies?.find(([error]) => error !== null)?.[0];
        if (refused) this.#onError(refused);
      });
    const sent = Promise.allSettled([recorded, ...ids.map((id) => this.#queue.remove(id))]);
    this.#sending.add(sent);
    void sent.then(() => this.#sending.delete(sent));
  };
}

/**
 * Worker side: calls `onCancel(jobId)` for each job the engine cancels.
 * `subscriber` must be a connection of its own (it enters subscriber mode);
 * `lookup` is another connection, for catching up. Resolves once subscribed.
 */
export async function receiveCancels(
  subscriber: Redis,
  lookup: () => Redis,
  keys: CancelKeys,
  running: () => string[],
  onCancel: (jobId: string, reason?: Error) => void,
  onError: (e: Error) => void,
): Promise<void> {
  const channel = keys.channel;
  subscriber.on("message", (_channel: string, message: string) => {
    for (const line of message.split("\n")) {
      const tab = line.indexOf("\t");
      if (tab < 0) onCancel(line);
      else onCancel(line.slice(0, tab), decodeReason(line.slice(tab + 1)));
    }
  });
  await subscriber.subscribe(channel);
  // 'ready' again is a reconnect. ioredis resubscribes right after emitting it; subscribing here first
  // and waiting for Redis to confirm means every cancel is either after the subscription (a message)
  // or recorded before the lookup below (the engine records before it publishes).
  subscriber.on("ready", () => {
    const catchUp = async (): Promise<void> => {
      await subscriber.subscribe(channel);
      const ids = running();
      if (ids.length === 0) return;
      const found = (await lookup().pipeline(ids.map((id) => ["zscore", keys.cancelled, id])).exec()) ?? [];
      const refused = found.find(([error]) => error !== null)?.[0];
      if (refused) throw refused;
      ids.forEach((id, i) => {
        const score = found[i]?.[1];
        if (score !== null && score !== undefined) onCancel(id);
      });
    };
    catchUp().catch((e: unknown) => onError(new Error(`could not look up the cancels missed while disconnected: ${e instanceof Error ? e.message : String(e)}`)));
  });
}

// Only the name, the message and a TaskCancelledError's `reason` travel (no stack, no cause, no other
// fields): the channel is not signed, so what a worker makes of a message is kept to plain strings.
function encodeReason(error: Error): string {
  const reason = (error as { reason?: unknown }).reason;
  return JSON.stringify({ name: error.name, message: error.message, ...(typeof reason === "string" ? { reason } : {}) });
}

function decodeReason(text: string): Error | undefined {
  const o = parseJson(text);
  const { name, message, reason } = (typeof o === "object" && o !== null ? o : {}) as Record<string, unknown>;
  if (typeof name !== "string" || typeof message !== "string") return undefined;
  return deserializeError({ name, message, ...(typeof reason === "string" ? { fields: { reason } } : {}) });
}
