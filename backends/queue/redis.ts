/** Reaching the Redis server: connection options as ioredis and BullMQ take them, messages that never show a password, a connect that gives up. */
import type { ConnectionOptions as TlsOptions } from "node:tls";
import type { z } from "zod";
import type { redisConnectionSchema, tlsSchema } from "./options.js";
import { AsyncflowError, BackendUnreachableError, InvalidOptionsError } from "../../lib/contract/errors.js";

const DISCONNECT_TIMEOUT_MS = 200;

/** Where the Redis server is: a `redis://[user:password@]host:port[/db]` or `rediss://` URL, or its parts. */
export type RedisConnection = z.input<typeof redisConnectionSchema>;

/** TLS material for Redis, as the `tls` option takes it. */
export type RedisTls = z.input<typeof tlsSchema>;

/** The ioredis options a connection resolves to. */
export interface RedisOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: TlsOptions;
  maxRetriesPerRequest: null;
  disconnectTimeout: number;
}

/** The connection given, else `ASYNCFLOW_REDIS_URL`. @throws InvalidOptionsError when neither is there. */
export function connectionOf(given: RedisConnection | undefined, who: string): RedisConnection {
  const c = given ?? process.env.ASYNCFLOW_REDIS_URL;
  if (c === undefined || c === "") throw new InvalidOptionsError(`${who}: no Redis to connect to: give the \`connection\` option or set ASYNCFLOW_REDIS_URL`);
  return c;
}

/**
 * ioredis options for a connection. `maxRetriesPerRequest: null` is what
 * BullMQ needs for blocking commands. `disconnectTimeout`: a client
 * disconnected while Redis is unreachable waits that long for its socket to
 * close (ioredis's default, 2 s, held the process that long after shutdown).
 * A URL's user and password are percent-decoded; `rediss://` or `tls` turn TLS on.
 */
export function redisOptions(c: RedisConnection, tls?: RedisTls): RedisOptions {
  const base = { maxRetriesPerRequest: null, disconnectTimeout: DISCONNECT_TIMEOUT_MS } as const;
  let o: RedisOptions;
  let secure = false;
  if (typeof c !== "string") {
    o = { host: c.host ?? "127.0.0.1", port: c.port ?? 6379, ...defined({ username: c.username, password: c.password, db: c.db }), ...base };
  } else {
    const url = new URL(c);
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new InvalidOptionsError(`expected a redis:// or rediss:// URL, got ${redact(c)}`);
    secure = url.protocol === "rediss:";
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
    if (db !== undefined && !Number.isInteger(db)) throw new InvalidOptionsError(`the URL's path must be a database number, got ${redact(c)}`);
    o = {
      host: url.hostname || "127.0.0.1",
      port: url.port === "" ? 6379 : Number(url.port),
      ...defined({ username: decoded(url.username, "user", c), password: decoded(url.password, "password", c), db }),
      ...base,
    };
  }
  if (secure || (tls !== undefined && tls !== false)) o.tls = typeof tls === "object" ? tlsOptions(tls) : {};
  return o;
}

/** A URL's user or password, percent-decoded; an InvalidOptionsError (never showing the password) when it is not valid percent-encoding. */
function decoded(part: string, what: string, url: string): string | undefined {
  if (part === "") return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidOptionsError(`the URL's ${what} is not valid percent-encoding (a % must start %XX; write % itself as %25), in ${redact(url)}`);
  }
}

function tlsOptions(t: Exclude<RedisTls, boolean>): TlsOptions {
  const pem = (x: string | Uint8Array | undefined): string | Buffer | undefined => (x === undefined || typeof x === "string" ? x : Buffer.from(x));
  return defined({ ca: pem(t.ca), cert: pem(t.cert), key: pem(t.key), servername: t.servername, rejectUnauthorized: t.rejectUnauthorized });
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** `redis[s]://[user@]host:port[/db]`, never the password: how messages name a server. */
export function describeRedis(c: RedisConnection, tls?: RedisTls): string {
  const o = redisOptions(c, tls);
  return `${o.tls ? "rediss" : "redis"}://${o.username === undefined ? "" : `${encodeURIComponent(o.username)}@`}${o.host}:${o.port}${o.db === undefined ? "" : `/${o.db}`}`;
}

/** `text` with the password of any URL in it replaced by `***` (whatever its scheme: a mistyped `http://user:pw@...` too). */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
}

/** Where a client reports connection failures while it retries. */
export interface ErrorSource {
  on(event: "error", cb: (e: Error) => void): unknown;
  off(event: "error", cb: (e: Error) => void): unknown;
}

// Redis's own refusals of a login say more than the "Connection is closed" that follows them.
const AUTH_REFUSAL = /^(WRONGPASS|NOAUTH|NOPERM|ERR AUTH|ERR invalid password)/;

/**
 * Waits for `ready` (a connect, a subscribe, a client's readiness) at most
 * `ms`: Redis clients retry forever, so a wrong address would otherwise hang
 * the caller. Either failure, the timeout or `ready` rejecting, becomes
 * BackendUnreachableError `<who>: cannot reach Redis at <address>: ...`,
 * with the last connection error `errors` reported meanwhile (Redis's
 * refusal of the login first, when there was one).
 */
export async function connectWithin(ready: Promise<unknown>, who: string, address: string, ms: number, errors: ErrorSource): Promise<void> {
  const unreachable = `${who}: cannot reach Redis at ${address}`;
  let last: Error | null = null;
  let refused: Error | null = null;
  const onError = (e: Error): void => {
    last = e;
    if (AUTH_REFUSAL.test(e.message)) refused = e;
  };
  errors.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AsyncflowError(`no connection after ${ms} ms${last === null ? "" : ` (${(refused ?? last).message})`}`)), ms);
      }),
    ]);
  } catch (error) {
    // Redis's refusal of the login, else the last connection error (more than the "Connection is closed" a connect rejects with)
    // A refused login reached Redis: say so, rather than "cannot reach".
    if (refused !== null) throw new BackendUnreachableError(redact(`${who}: Redis at ${address} refused the login: ${(refused as Error).message}`), address, { cause: refused });
    const why = (last ?? (error instanceof Error ? error : new Error(String(error)))).message;
    throw new BackendUnreachableError(redact(`${unreachable}: ${why}`), address, { cause: error });
  } finally {
    clearTimeout(timer);
    errors.off("error", onError);
  }
}

/**
 * Reports a Redis connection's errors without repeating them: while Redis is
 * away, a client retries several times a second and fails the same way each
 * time. Each distinct failure is reported once, then nothing until the
 * connection is ready again, which is reported once too. `down` tells since
 * when the connection has been failing (null: it is fine).
 */
export class ErrorReport {
  readonly #report: (line: string, recovered: boolean) => void;
  readonly #seen = new Set<string>();
  #since = 0;

  constructor(report: (line: string, recovered: boolean) => void) {
    this.#report = report;
  }

  get downSince(): number | null {
    return this.#seen.size === 0 ? null : this.#since;
  }

  error(line: string): void {
    if (this.#seen.has(line)) return;
    if (this.#seen.size === 0) this.#since = performance.now();
    if (this.#seen.size < 100) this.#seen.add(line);
    this.#report(redact(line), false);
  }

  /** A connection is ready again. */
  ready(): void {
    if (this.#seen.size === 0) return;
    this.#seen.clear();
    this.#report(`connected again, after ${((performance.now() - this.#since) / 1000).toFixed(1)} s of errors`, true);
  }
}

/**
 * The options error with every secret given (the URL's password, a password,
 * the secret) replaced by `***` where the error shows it: in a URL, and as the
 * value it received (``got `<value>` (string)``, as parseOptions writes it).
 * Only there: a secret too short to be accepted ("abc") may well occur in the
 * rest of the message or the stack, which must stay as it is.
 */
export function redactError(error: unknown, given: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const o = (given ?? {}) as Record<string, unknown>;
  const secrets = [o.secret, typeof o.connection === "object" && o.connection !== null ? (o.connection as Record<string, unknown>).password : undefined].filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  const clean = (text: string): string => secrets.reduce((t, s) => t.split(`got \`${s}\` (string)`).join("got `***` (string)"), redact(text));
  error.message = clean(error.message);
  if (error.stack !== undefined) error.stack = clean(error.stack);
  return error;
}
