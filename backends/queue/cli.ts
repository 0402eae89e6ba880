#!/usr/bin/env node
/**
 * asyncflow-worker: serves a QueueBackend's jobs from this machine.
 *
 *   asyncflow-worker --redis redis://host:6379 [--queue asyncflow] [--concurrency N] [--connect-timeout MS] [--lock-duration MS]
 *
 * SIGINT or SIGTERM lets the jobs it holds finish, then exits 0; a second
 * one kills running commands (their tasks fail with the signal) and exits 1
 * at once; a function job it held goes back to the queue once its lock expires.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startQueueWorker } from "./worker.js";

const usage = "usage: asyncflow-worker --redis redis://host:port[/db] [--queue NAME] [--concurrency N] [--connect-timeout MS] [--lock-duration MS]";

/** Runs the worker with command-line arguments `argv`; `asyncflow worker` calls it too. */
export async function main(argv: string[]): Promise<void> {
  let values: { redis?: string; queue?: string; concurrency?: string; "connect-timeout"?: string; "lock-duration"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        redis: { type: "string" },
        queue: { type: "string" },
        concurrency: { type: "string" },
        "connect-timeout": { type: "string" },
        "lock-duration": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return fail(`${(error as Error).message}\n${usage}`);
  }
  if (values.help === true) return void console.log(usage);
  if (values.redis === undefined) return fail(`--redis is required\n${usage}`);
  const number = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const worker = await startQueueWorker({
    connection: values.redis,
    queue: values.queue,
    concurrency: number(values.concurrency),
    connectTimeout: number(values["connect-timeout"]),
    lockDuration: number(values["lock-duration"]),
  });
  console.log(`asyncflow-worker: serving queue "${worker.queue}" with concurrency ${worker.concurrency} (pid ${process.pid})`);
  let signals = 0;
  const stop = (): void => {
    if (++signals > 1) {
      console.log("asyncflow-worker: killed");
      void worker.kill().finally(() => process.exit(1));
      return;
    }
    void worker.close().then(() => {
      if (signals > 1) return; // killed meanwhile: that exit stands
      console.log(`asyncflow-worker: stopped after ${worker.processed} jobs`);
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function fail(message: string): void {
  console.error(`asyncflow-worker: ${message}`);
  process.exitCode = 2;
}

// Run when executed as the asyncflow-worker bin (npm links it: compare real paths), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    fail(error instanceof Error ? error.message : String(error));
    process.exit(2);
  });
}
