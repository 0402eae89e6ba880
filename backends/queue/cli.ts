#!/usr/bin/env node
/**
 * `asyncflow worker` (alias `asyncflow-worker`): serves a QueueBackend's jobs
 * from this machine. See `usage` below.
 *
 * SIGINT or SIGTERM lets the jobs it holds finish, then exits 0; a second
 * one kills running commands (their tasks fail with the signal) and exits 1
 * at once, whatever Redis is doing; a function job it held goes back to the
 * queue once its lock expires.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CommandLineError } from "../../lib/contract/errors.js";
import { withFlagHint } from "../../lib/contract/suggest.js";
import { redact } from "./redis.js";
import { MIN_SECRET_LENGTH } from "./sign.js";
import { startQueueWorker, type QueueWorkerOptions } from "./worker.js";

const usage = `usage: asyncflow worker [--connection URL | --connection-file FILE] --module PATH|PACKAGE ... [options]

  --connection, --redis URL   redis://[user:password@]host:port[/db] or rediss:// (default: $ASYNCFLOW_REDIS_URL)
  --connection-file FILE      read the URL from FILE (keeps the password out of ps)
  --queue NAME                the queue to serve (default asyncflow)
  --prefix NAME               key prefix, as the engine's \`prefix\` (default bull)
  --module PATH|PACKAGE       run the functions it exports, by task name (repeatable)
  --allow-source              also run functions whose source a job carries
  --allow-modules PREFIX      also import a module a job names under this path prefix or package (repeatable)
  --allow-exec                also run executable tasks' commands
  --secret-file FILE          sign and check jobs and results with this shared secret (default: $ASYNCFLOW_QUEUE_SECRET)
  --tls                       TLS with the system's CAs (rediss:// turns it on too)
  --tls-ca FILE, --tls-cert FILE, --tls-key FILE, --tls-servername NAME
  --concurrency N             jobs at once (default: the number of CPUs)
  --lock-duration MS          a dead worker's jobs go elsewhere after this (default 5000)
  --stalled-interval MS       how often lost jobs are looked for (default lock-duration / 2)
  --max-stalled-count N       times a job may be lost before it fails (default 1)
  --connect-timeout MS, --unreachable-timeout MS, --id NAME`;

const KILL_WAIT_MS = 1000;

const flags = {
  connection: { type: "string" },
  redis: { type: "string" },
  "connection-file": { type: "string" },
  queue: { type: "string" },
  prefix: { type: "string" },
  module: { type: "string", multiple: true },
  "allow-source": { type: "boolean" },
  "allow-modules": { type: "string", multiple: true },
  "allow-exec": { type: "boolean" },
  "secret-file": { type: "string" },
  tls: { type: "boolean" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-servername": { type: "string" },
  concurrency: { type: "string" },
  "lock-duration": { type: "string" },
  "stalled-interval": { type: "string" },
  "max-stalled-count": { type: "string" },
  "connect-timeout": { type: "string" },
  "unreachable-timeout": { type: "string" },
  id: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs the worker CLI with `argv` (the arguments after the subcommand); resolves once the worker serves, or sets a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof flags }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: flags }));
  } catch (error) {
    return fail(withFlagHint(error, flags), usage);
  }
  if (values.help === true) return void console.log(usage);
  let options: QueueWorkerOptions;
  try {
    options = optionsOf(values);
  } catch (error) {
    return fail((error as Error).message, error instanceof CommandLineError ? error.usage : undefined);
  }
  const worker = await startQueueWorker(options).catch((error: unknown) => error as Error);
  if (worker instanceof Error) return fail(worker.message);
  console.log(`asyncflow worker: serving queue "${worker.queue}" as ${worker.id} with concurrency ${worker.concurrency}`);
  let signals = 0;
  const stop = (): void => {
    if (++signals > 1) {
      console.log("asyncflow worker: killed");
      // The commands are killed now; their failures reach Redis if it answers within a moment, and the process ends then whatever Redis does.
      void Promise.race([worker.kill(), new Promise((r) => setTimeout(r, KILL_WAIT_MS))]).finally(() => process.exit(1));
      return;
    }
    console.log(`asyncflow worker: stopping: the jobs running here finish first (a second signal kills them)`);
    void worker.close().then(() => {
      if (signals > 1) return; // killed meanwhile: that exit stands
      console.log(`asyncflow worker: stopped after ${worker.processed} jobs`);
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function optionsOf(v: Record<string, string | boolean | string[] | undefined>): QueueWorkerOptions {
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const num = (k: string): number | undefined => {
    const x = str(k);
    if (x === undefined) return undefined;
    if (x.trim() === "" || !Number.isFinite(Number(x))) throw new Error(`--${k}: expected a number, got "${x}"`);
    return Number(x);
  };
  const file = (k: string): string | undefined => (str(k) === undefined ? undefined : read(k, str(k)!));
  const connection = str("connection-file") !== undefined ? file("connection-file")!.trim() : (str("connection") ?? str("redis") ?? process.env.ASYNCFLOW_REDIS_URL);
  if (connection === undefined || connection === "") throw new CommandLineError("no Redis: give --connection URL, --connection-file FILE or ASYNCFLOW_REDIS_URL", usage);
  const secret = str("secret-file") !== undefined ? file("secret-file")!.trim() : process.env.ASYNCFLOW_QUEUE_SECRET || undefined;
  // Said here, naming where it came from; the engine refuses the same secrets (options.ts, shared).
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`${str("secret-file") !== undefined ? `--secret-file ${str("secret-file")}` : "ASYNCFLOW_QUEUE_SECRET"}: the secret must be at least ${MIN_SECRET_LENGTH} characters, it has ${secret.length}`);
  }
  const tlsFiles = { ca: file("tls-ca"), cert: file("tls-cert"), key: file("tls-key"), servername: str("tls-servername") };
  const tls = Object.values(tlsFiles).some((x) => x !== undefined) ? Object.fromEntries(Object.entries(tlsFiles).filter(([, x]) => x !== undefined)) : v.tls === true ? true : undefined;
  const given: Record<string, unknown> = {
    connection,
    tls,
    secret,
    queue: str("queue"),
    prefix: str("prefix"),
    modules: v.module,
    allowSource: v["allow-source"],
    allowModules: v["allow-modules"],
    allowExec: v["allow-exec"],
    concurrency: num("concurrency"),
    lockDuration: num("lock-duration"),
    stalledInterval: num("stalled-interval"),
    maxStalledCount: num("max-stalled-count"),
    connectTimeout: num("connect-timeout"),
    unreachableTimeout: num("unreachable-timeout"),
    id: str("id"),
  };
  return Object.fromEntries(Object.entries(given).filter(([, x]) => x !== undefined));
}

function read(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`--${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

// Every message goes through redact: a command line or a file may hold a URL with its password (`Unexpected argument 'redis://u:pw@...'`).
// The usage is ours, and is not: its placeholder `redis://[user:password@]host` would read `[user:***@]`.
function fail(message: string, usageText?: string): void {
  console.error(`asyncflow worker: ${redact(message)}${usageText === undefined ? "" : `\n${usageText}`}`);
  process.exitCode = 2;
}

// Run as a bin (`asyncflow-worker`), not when imported by `asyncflow worker`.
if (import.meta.url === `file://${process.argv[1]}` || /asyncflow-worker$|backends\/queue\/cli\.[jt]s$/.test(process.argv[1] ?? "")) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    fail(error instanceof Error ? error.message : String(error));
    process.exit(2);
  });
}
