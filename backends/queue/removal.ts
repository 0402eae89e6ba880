/**
 * Finished jobs the engine has read need not wait in Redis for BullMQ's own
 * sweep (`keepFinished`): they are removed in batches, one round trip each.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** Removed this many at a time, or this long after the first of a batch. */
const BATCH = 1000;
const AFTER_MS = 100;

export class FinishedJobs {
  readonly #redis: Redis;
  readonly #queue: Queue;
  #ids: string[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(redis: Redis, queue: Queue) {
    this.#redis = redis;
    this.#queue = queue;
  }

  /** A job read to its end: removed with the next batch. */
  add(id: string): void {
    // In batches: a round trip a job once cost a chain a tenth of each hop. On a timer, so that a removal goes after
    // the adds that follow (unless a batch fills first).
    const n = this.#ids.push(id);
    if (n >= BATCH) this.flush();
    else if (n === 1) this.#timer = setTimeout(() => this.flush(), AFTER_MS).unref();
  }

  /** Removes the batch now. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const ids = this.#ids;
    if (ids.length === 0) return;
    this.#ids = [];
    const queue = this.#queue;
    const p = this.#redis.pipeline();
    p.del(...ids.map((id) => queue.toKey(id)));
    p.zrem(queue.keys.completed!, ...ids);
    void p.exec().catch(() => undefined); // what stays is removed by BullMQ after keepFinished
  }
}
