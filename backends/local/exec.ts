import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type PQueue from "p-queue";
import { runInContext } from "../../lib/context.js";
import { ExecutableError, InvalidTaskError, describe } from "../../lib/errors.js";
import type { TaskRun } from "../../lib/run.js";
import type { Command } from "../../lib/task.js";
import type { BackendEnvironment, ReportState } from "../backend.js";

/**
 * Runs executable tasks as child processes, at most `maxProcesses` at a time:
 * calls the task's function (in its context) for the command, spawns it, and
 * reports the stdout, or an ExecutableError with everything needed to see why.
 * Shared by every backend that runs processes on this machine.
 */
export class ProcessRunner {
  readonly #queue: PQueue;
  readonly #report: ReportState;
  readonly #env: BackendEnvironment;
  readonly #children = new Set<ChildProcess>();

  private constructor(queue: PQueue, report: ReportState, env: BackendEnvironment) {
    this.#queue = queue;
    this.#report = report;
    this.#env = env;
  }

  // p-queue is loaded here, not at import, to keep `import "asyncflow"` light.
  static async create(maxProcesses: number, report: ReportState, env: BackendEnvironment): Promise<ProcessRunner> {
    const { default: Queue } = await import("p-queue");
    return new ProcessRunner(new Queue({ concurrency: maxProcesses }), report, env);
  }

  submit(run: TaskRun): void {
    // A run cancelled while queued is dropped by p-queue (the add rejects with an AbortError).
    this.#queue.add(() => this.#run(run), { signal: run.signal }).catch(() => undefined);
  }

  /** Kills every process still running and drops the queued ones. */
  shutdown(): void {
    this.#queue.clear();
    for (const child of this.#children) killGroup(child, "SIGKILL");
  }

  async #run(run: TaskRun): Promise<void> {
    const report = this.#report;
    report(run, "RUNNING");
    try {
      const command = checkCommand(run, await runInContext(run, run.fn as (...a: unknown[]) => unknown, run.args));
      if (run.signal.aborted) return;
      report(run, "DONE", await this.#spawn(run, command));
    } catch (error) {
      report(run, "FAILED", error);
    }
  }

  async #spawn(run: TaskRun, command: Command): Promise<string> {
    const opts = run.options;
    const capture = opts.captureStdio === true ? await this.#captureFiles(run) : null;
    const [file, args] = typeof command === "string" ? ["/bin/sh", ["-c", command]] : [command[0]!, command.slice(1)];
    const child = spawn(file, args, {
      cwd: opts.cwd ?? this.#env.workDir,
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
      // Its own process group, so that cancelling `sh -c "a | b"` stops a and b too.
      detached: true,
      stdio: ["ignore", capture?.stdout.fd ?? "pipe", capture?.stderr.fd ?? "pipe"],
    });
    this.#children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer =
      opts.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child, "SIGTERM");
          }, opts.timeout);
    const onAbort = (): void => killGroup(child, "SIGTERM");
    run.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const [exitCode, signal, spawnError] = await new Promise<[number | null, NodeJS.Signals | null, Error | null]>((resolve) => {
        child.once("error", (e) => resolve([null, null, e]));
        child.once("close", (code, sig) => resolve([code, sig, null]));
      });
      if (exitCode === 0 && !timedOut) return capture === null ? Buffer.concat(out).toString() : capture.paths[0];
      const stdout = capture === null ? Buffer.concat(out).toString() : await readFile(capture.paths[0], "utf8");
      const stderr = capture === null ? Buffer.concat(err).toString() : await readFile(capture.paths[1], "utf8");
      const why = timedOut
        ? `timed out after ${opts.timeout} ms`
        : spawnError !== null
          ? `could not start: ${describe(spawnError)}`
          : undefined;
      throw new ExecutableError(run, { command, exitCode, signal, stdout, stderr, why, cause: spawnError ?? undefined });
    } finally {
      clearTimeout(timer);
      run.signal.removeEventListener("abort", onAbort);
      this.#children.delete(child);
      if (capture !== null) await Promise.allSettled([capture.stdout.close(), capture.stderr.close()]);
    }
  }

  async #captureFiles(run: TaskRun) {
    const dir = join(this.#env.workDir, this.#env.sessionUid);
    await mkdir(dir, { recursive: true });
    const paths = [join(dir, `${run.uid}.stdout`), join(dir, `${run.uid}.stderr`)] as const;
    const [stdout, stderr] = await Promise.all(paths.map((p) => open(p, "w")));
    return { paths, stdout: stdout!, stderr: stderr! };
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone already; the child may not be
  }
}

/** The command an executable task's function returned, checked. @throws InvalidTaskError naming the task. */
export function checkCommand(run: TaskRun, command: unknown): Command {
  if (typeof command === "string") {
    if (command.trim() === "") throw new InvalidTaskError(run.name, `${run.uid} returned an empty command`);
    return command;
  }
  if (Array.isArray(command)) {
    if (command.length === 0 || command[0] === "") throw new InvalidTaskError(run.name, `${run.uid} returned an empty command`);
    const bad = command.findIndex((a) => typeof a !== "string");
    if (bad >= 0) throw new InvalidTaskError(run.name, `${run.uid} returned a command whose argv[${bad}] is a ${typeof command[bad]}, not a string`);
    return command as string[];
  }
  throw new InvalidTaskError(run.name, `${run.uid} must return a command (a string, or an argv array of strings), got ${command === null ? "null" : typeof command}`);
}
