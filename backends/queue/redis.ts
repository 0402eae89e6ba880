/** Reaching the Redis server: connection options as ioredis and BullMQ take them, and a connect that gives up. */

import type { z } from "zod";
import { AsyncflowError, InvalidOptionsError } from "../../lib/contract/errors.js";
import type { redisConnectionSchema } from "./options.js";

const DISCONNECT_TIMEOUT_MS = 200;

/** Where the Redis server is: a `redis://[user:password@]host:port[/db]` URL, or its parts. */
export type RedisConnection = z.input<typeof redisConnectionSchema>;

/**
 * ioredis options for a connection. `maxRetriesPerRequest: null` is what
 * BullMQ needs for blocking commands. `disconnectTimeout`: a client
 * disconnected while Redis is unreachable waits that long for its socket to
 * close (ioredis's default, 2 s, held the process that long after shutdown).
 */
export function redisOptions(c: RedisConnection): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  maxRetriesPerRequest: null;
  disconnectTimeout: number;
} {
  if (typeof c !== "string") return { host: c.host ?? "127.0.0.1", port: c.port ?? 6379, ...pick(c), maxRetriesPerRequest: null, disconnectTimeout: DISCONNECT_TIMEOUT_MS };
  const url = new URL(c);
  if (url.protocol !== "redis:") throw new InvalidOptionsError(`expected a redis:// URL, got ${JSON.stringify(c)}`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    host: url.hostname || "127.0.0.1",
    port: url.port === "" ? 6379 : Number(url.port),
    ...pick({ username: url.username || undefined, password: url.password ? decodeURIComponent(url.password) : undefined, db }),
    maxRetriesPerRequest: null,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  };
}

function pick(c: { username?: string; password?: string; db?: number }): { username?: string; password?: string; db?: number } {
  const out: { username?: string; password?: string; db?: number } = {};
  if (c.username !== undefined) out.username = c.username;
  if (c.password !== undefined) out.password = c.password;
  if (c.db !== undefined) out.db = c.db;
  return out;
}

/** `redis://host:port/db` without the password, for messages. */
export function describeRedis(c: RedisConnection): string {
  const o = redisOptions(c);
  return `redis://${o.host}:${o.port}${o.db === undefined ? "" : `/${o.db}`}`;
}

/** Where a client reports connection failures while it retries. */
export interface ErrorSource {
  on(event: "error", cb: (e: Error) => void): unknown;
  off(event: "error", cb: (e: Error) => void): unknown;
}

/**
 * Waits for `ready` (a connect, a subscribe, a client's readiness) at most
 * `ms`: Redis clients retry forever, so a wrong address would otherwise hang
 * the caller. Either failure, the timeout or `ready` rejecting, becomes
 * `<who>: cannot reach Redis at <address>: ...`, with the last connection
 * error `errors` reported meanwhile.
 */
export async function connectWithin(ready: Promise<unknown>, who: string, connection: RedisConnection, ms: number, errors: ErrorSource): Promise<void> {
  const unreachable = `${who}: cannot reach Redis at ${describeRedis(connection)}`;
  let last: Error | null = null;
  const onError = (e: Error): void => void (last = e);
  errors.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AsyncflowError(`${unreachable}: no connection after ${ms} ms${last === null ? "" : ` (${last.message})`}`)), ms);
      }),
    ]);
  } catch (error) {
    throw error instanceof Error && error.message.startsWith(unreachable) ? error : new AsyncflowError(`${unreachable}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    errors.off("error", onError);
  }
}

/**
 * Reports a Redis connection's errors without repeating them: while Redis is
 * away, a client retries several times a second and fails the same way each
 * time. Each distinct failure is reported once, then nothing until the
 * connection is ready again, which is reported once too.
 */
export class ErrorReport {
  readonly #report: (line: string, recovered: boolean) => void;
  readonly #seen = new Set<string>();
  #since = 0;

  constructor(report: (line: string, recovered: boolean) => void) {
    this.#report = report;
  }

  error(line: string): void {
    if (this.#seen.has(line)) return;
    if (this.#seen.size === 0) this.#since = performance.now();
    if (this.#seen.size < 100) this.#seen.add(line);
    this.#report(line, false);
  }

  /** A connection is ready again. */
  ready(): void {
    if (this.#seen.size === 0) return;
    this.#seen.clear();
    this.#report(`connected again, after ${((performance.now() - this.#since) / 1000).toFixed(1)} s of errors`, true);
  }
}
