/**
 * How a cancel reaches the worker running the job: the engine names the job
 * on a pub/sub channel, and records it in a sorted set (job id -> time) for
 * an hour. A worker whose subscription dropped (a network blip, a Redis
 * failover) missed the messages sent meanwhile: once subscribed again, it
 * looks its running jobs up in the set.
 */
import type { Redis } from "ioredis";

/** The pub/sub channel on which the engine names jobs to cancel. */
export const cancelChannel = (queue: string): string => `asyncflow:cancel:${queue}`;
/** The sorted set of recent cancels: member = job id, score = when. */
export const cancelledKey = (queue: string): string => `asyncflow:cancelled:${queue}`;
/** How long a cancel is remembered for a worker that was away. */
export const CANCEL_MEMORY_MS = 3_600_000;

/** Engine side: record, then announce (one connection keeps the order), and forget cancels older than CANCEL_MEMORY_MS. */
export function sendCancel(redis: Redis, queue: string, jobId: string): Promise<unknown> {
  const now = Date.now();
  const key = cancelledKey(queue);
  return redis.pipeline().zadd(key, now, jobId).zremrangebyscore(key, "-inf", now - CANCEL_MEMORY_MS).publish(cancelChannel(queue), jobId).exec();
}

/**
 * Worker side: calls `onCancel(jobId)` for each job the engine cancels.
 * `subscriber` must be a connection of its own (it enters subscriber mode);
 * `lookup` is another connection, for catching up. Resolves once subscribed.
 */
export async function receiveCancels(
  subscriber: Redis,
  lookup: () => Redis,
  queue: string,
  running: () => string[],
  onCancel: (jobId: string) => void,
  onError: (e: Error) => void,
): Promise<void> {
  const channel = cancelChannel(queue);
  subscriber.on("message", (_channel: string, jobId: string) => onCancel(jobId));
  await subscriber.subscribe(channel);
  // 'ready' again is a reconnect. ioredis resubscribes right after emitting it; subscribing here first
  // and waiting for Redis to confirm means every cancel is either after the subscription (a message)
  // or recorded before the lookup below (the engine records before it publishes).
  subscriber.on("ready", () => {
    const catchUp = async (): Promise<void> => {
      await subscriber.subscribe(channel);
      const ids = running();
      if (ids.length === 0) return;
      const found = await lookup().pipeline(ids.map((id) => ["zscore", cancelledKey(queue), id])).exec();
      ids.forEach((id, i) => {
        const [error, score] = found?.[i] ?? [null, null];
        if (error === null && score !== null) onCancel(id);
      });
    };
    catchUp().catch((e: unknown) => onError(new Error(`could not look up the cancels missed while disconnected: ${e instanceof Error ? e.message : String(e)}`)));
  });
}
