import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A queue worker process as the tests and benchmarks start it. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** It printed that it serves its queue (false: it exited first). */
  readonly serving: boolean;
  /** Its exit code when it exited before serving. */
  readonly code: number | null;
  /** What it printed so far, stdout and stderr together (read again for what came since). */
  readonly output: string;
}

/** Runs `node <args>` (an `asyncflow-worker` or a raw BullMQ worker) and resolves once it serves, or with its exit code and output. */
export function startWorkerProcess(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let output = "";
  const made = (serving: boolean, code: number | null): WorkerProcess => ({
    child,
    serving,
    code,
    get output() {
      return output;
    },
  });
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("serving queue")) resolve(made(true, null));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => resolve(made(false, code)));
  });
}

/** Lets it finish its jobs (SIGTERM) and waits for it to exit. */
export async function stopWorkerProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  child.kill("SIGTERM");
  return exited;
}

/** Starts `asyncflow worker` from the sources (under tsx) with `args`. */
export function startAsyncflowWorker(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  return startWorkerProcess(["--import", "tsx", new URL("../backends/queue/cli.ts", import.meta.url).pathname, ...args], env);
}

/** Starts a worker as the queue tests use one: on `connection`, signing with TEST_SECRET, the fixtures' tasks registered, and `flags`. */
export function startTestWorker(connection: string, flags: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  return startAsyncflowWorker(["--connection", connection, "--secret-file", TEST_SECRET_FILE, "--module", TASKS_MODULE, ...flags], env);
}

/** The secret the queue tests give engines and workers (so that signing is on throughout), and a file holding it for `--secret-file`. */
export const TEST_SECRET = "asyncflow-test-secret-0123456789";
export const TEST_SECRET_FILE = join(mkdtempSync(join(tmpdir(), "af-secret-")), "secret");
writeFileSync(TEST_SECRET_FILE, `${TEST_SECRET}\n`, { mode: 0o600 });

/** What the tests' task modules are: registered on workers with `--module`. */
export const TASKS_MODULE = new URL("./fixtures/tasks.ts", import.meta.url).pathname;
export const FIXTURES_DIR = new URL("./fixtures/", import.meta.url).pathname;
