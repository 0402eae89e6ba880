/**
 * The Redis connections that one QueueBackend or one worker owns, closed
 * for good together. ioredis reconnects forever, on a ref'd timer; and
 * BullMQ's recovery of a blocking read that Redis stopped answering (its
 * watchdog on QueueEvents' XREAD and on the worker's BZPOPMIN) waits for the
 * connection to come back and calls `connect()` again on one it finds ended,
 * even one its owner has just disconnected (RedisConnection.reconnect(); only
 * its 5.x line guards that). After `shutdown()` with Redis gone, that
 * connection then retried forever and held the process (one run in five).
 * Once `close()` has run, these connections never retry, and one that
 * connects all the same (Redis came back at that moment) is dropped at once.
 */

/** What is needed of a client (ioredis's, or BullMQ's wrapper of it). */
export interface Closable {
  on(event: "connect", listener: () => void): unknown;
  disconnect(): void;
}

/** ioredis's own pace (50 ms more each time, at most 2 s), for every connection, BullMQ's too (its own grows to 20 s). */
const retryDelay = (times: number): number => Math.min(times * 50, 2000);

export class OwnedConnections {
  #closed = false;
  readonly #clients = new Set<Closable>();

  /** ioredis options for a connection of this owner: it retries while the owner is open, never after. */
  options<O extends object>(o: O): O & { retryStrategy: (times: number) => number | null } {
    return { ...o, retryStrategy: (times: number) => (this.#closed ? null : retryDelay(times)) };
  }

  /** Disconnected by `close()`; connected again after it, dropped at once. */
  own<C extends Closable>(client: C): C {
    this.#clients.add(client);
    client.on("connect", () => {
      if (this.#closed) client.disconnect();
    });
    if (this.#closed) client.disconnect();
    return client;
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#clients) c.disconnect();
  }
}
