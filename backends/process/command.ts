import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { runInContext } from "../../lib/contract/context.js";
import { ExecutableError, InvalidTaskError, describe, type TaskLabel } from "../../lib/contract/errors.js";
import { TaskTimeoutError } from "../../lib/contract/contract-errors.js";
import { after } from "../../lib/contract/delay.js";
import { carrierEnv } from "../../lib/contract/tracecontext.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { Command, ExecutableTaskOptions } from "../../lib/contract/task.js";

/** How to run one command: an executable task's options, resolved where the process runs. */
export interface CommandOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Milliseconds before the process group is killed and the attempt fails with TaskTimeoutError. */
  readonly timeout?: number;
  /** Write stdout and stderr to `<dir>/<uid>.stdout|.stderr`; the result is then the stdout file's path. */
  readonly captureDir?: string;
  /** Kills the process (its whole group) when aborted. */
  readonly signal: AbortSignal;
  /** Where the running child is kept, so that a shutdown can kill it. */
  readonly children?: Set<ChildProcess>;
  /** Told once the process is spawned: the moment the task's body (the command) starts. */
  readonly onSpawn?: (pid: number | undefined) => void;
}

/** An executable task's options that say how to run its command. */
export type ExecOptions = Pick<ExecutableTaskOptions, "cwd" | "env" | "timeout" | "captureStdio">;

/**
 * How to run a command with an executable task's options, where the process
 * runs: `workDir` is the working directory when `cwd` is absent, and captured
 * stdio goes under `<workDir>/<session>/`.
 */
export function commandOptions(
  o: ExecOptions,
  at: { readonly workDir: string; readonly session: string },
  signal: AbortSignal,
  children: Set<ChildProcess>,
  trace?: Readonly<Record<string, string>>,
): CommandOptions {
  return {
    cwd: o.cwd ?? at.workDir,
    // With OpenTelemetry on, the command continues its task's trace (the task's own `env` has the last word).
    env: trace === undefined ? o.env : { ...carrierEnv(trace), ...o.env },
    timeout: o.timeout,
    captureDir: o.captureStdio === true ? join(at.workDir, at.session) : undefined,
    signal,
    children,
  };
}

/** How long a command stopped with SIGTERM (a timeout, a cancel) has to end before its group gets SIGKILL. */
export const KILL_GRACE_MS = 2000;

/**
 * Runs `command` (a shell string, or an argv array run without a shell) in
 * its own process group and resolves with its stdout, or rejects with an
 * ExecutableError that carries everything needed to see why. Shared by every
 * place that runs processes: the local ProcessRunner and queue workers.
 */
export async function runCommand(task: TaskLabel & { readonly attempt?: number }, command: Command, o: CommandOptions): Promise<string> {
  const capture = o.captureDir === undefined ? null : await captureFiles(o.captureDir, task.uid);
  const [file, args] = typeof command === "string" ? ["/bin/sh", ["-c", command]] : [command[0]!, command.slice(1)];
  // A start that fails says why, as an ExecutableError (some failures come as "error", others are thrown here: E2BIG, ENOTDIR).
  const cannotStart = (error: unknown): ExecutableError =>
    new ExecutableError(task, { command, exitCode: null, signal: null, stdout: "", stderr: "", why: `could not start: ${startFailure(error, o.cwd)}`, cause: error });
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: o.cwd,
      env: o.env === undefined ? process.env : { ...process.env, ...o.env },
      // Its own process group, so that cancelling `sh -c "a | b"` stops a and b too.
      detached: true,
      stdio: ["ignore", capture?.stdout.fd ?? "pipe", capture?.stderr.fd ?? "pipe"],
    });
  } catch (error) {
    if (capture !== null) await Promise.allSettled([capture.stdout.close(), capture.stderr.close()]);
    throw cannotStart(error);
  }
  o.children?.add(child);
  o.onSpawn?.(child.pid);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => err.push(b));
  let timedOut = false;
  let kill: NodeJS.Timeout | undefined;
  // SIGTERM lets a command clean up; a group still there KILL_GRACE_MS later (one that ignores it) gets SIGKILL, so that a
  // timeout or a cancel always ends it. The whole group, whether or not its leader is gone: until "close" clears the timer,
  // something still holds the command's output open. That may be a process that left the group (`setsid`, a daemon): once
  // the leader is gone, or the grace is over, its output is not waited for any longer.
  const letGo = (): void => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const stop = (): void => {
    signalGroup(child, "SIGTERM");
    if (child.exitCode !== null || child.signalCode !== null) letGo();
    kill ??= setTimeout(() => {
      signalGroup(child, "SIGKILL");
      letGo();
    }, KILL_GRACE_MS).unref();
  };
  const cancelTimer =
    o.timeout === undefined
      ? undefined
      : after(o.timeout, () => {
          timedOut = true;
          stop();
        });
  const onAbort = stop;
  o.signal.addEventListener("abort", onAbort, { once: true });
  if (o.signal.aborted) onAbort(); // aborted while the capture files were opened, or before this was called
  try {
    const [exitCode, signal, spawnError] = await new Promise<[number | null, NodeJS.Signals | null, Error | null]>((resolve) => {
      child.once("error", (e) => resolve([null, null, e]));
      child.once("close", (code, sig) => resolve([code, sig, null]));
    });
    if (exitCode === 0 && !timedOut) return capture === null ? Buffer.concat(out).toString() : capture.paths[0];
    const stdout = capture === null ? Buffer.concat(out).toString() : await readFile(capture.paths[0], "utf8");
    const stderr = capture === null ? Buffer.concat(err).toString() : await readFile(capture.paths[1], "utf8");
    const failure =
      spawnError !== null && !timedOut
        ? cannotStart(spawnError)
        : new ExecutableError(task, { command, exitCode, signal, stdout, stderr, why: timedOut ? `timed out after ${o.timeout} ms` : undefined });
    throw timedOut ? new TaskTimeoutError(task, { what: "attempt", ms: o.timeout!, attempt: task.attempt ?? 1, cause: failure }) : failure;
  } finally {
    cancelTimer?.();
    clearTimeout(kill);
    o.signal.removeEventListener("abort", onAbort);
    o.children?.delete(child);
    if (capture !== null) await Promise.allSettled([capture.stdout.close(), capture.stderr.close()]);
  }
}

async function captureFiles(dir: string, uid: string) {
  await mkdir(dir, { recursive: true });
  const paths = [join(dir, `${uid}.stdout`), join(dir, `${uid}.stderr`)] as const;
  const [stdout, stderr] = await Promise.all(paths.map((p) => open(p, "w")));
  return { paths, stdout: stdout!, stderr: stderr! };
}

/** Signals the child's whole process group (it was spawned detached), if its leader is still there. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child, signal);
}

/** Signals the child's process group, whether or not its leader has exited (the rest of the group may not have). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone already; the child may not be
  }
}

/** Why a command could not start, in the user's terms: a missing working directory reads as ENOENT of the program. */
function startFailure(error: unknown, cwd: string): string {
  if (!existsSync(cwd)) return `its working directory ${cwd} does not exist`;
  return describe(error);
}

/** Kills every process in `children`, each with its whole group. */
export function killAll(children: Iterable<ChildProcess>): void {
  for (const child of children) killGroup(child, "SIGKILL");
}

/** The command an executable task's function returns for this run (called in its context), checked. */
export async function commandOf(run: TaskRun): Promise<Command> {
  return checkCommand(run, await runInContext(run, run.fn as (...a: unknown[]) => unknown, run.args));
}

/** The command an executable task's function returned, checked. @throws InvalidTaskError naming the task. */
export function checkCommand(task: TaskLabel, command: unknown): Command {
  if (typeof command === "string") {
    if (command.trim() === "") throw new InvalidTaskError(task.name, `${task.uid} returned an empty command`);
    if (command.includes("\0")) throw new InvalidTaskError(task.name, `${task.uid} returned a command that holds a NUL byte (no program can be given one)`);
    return command;
  }
  if (Array.isArray(command)) {
    if (command.length === 0 || command[0] === "") throw new InvalidTaskError(task.name, `${task.uid} returned an empty command`);
    const bad = command.findIndex((a) => typeof a !== "string");
    if (bad >= 0) throw new InvalidTaskError(task.name, `${task.uid} returned a command whose argv[${bad}] is a ${typeof command[bad]}, not a string`);
    const nul = command.findIndex((a) => (a as string).includes("\0"));
    if (nul >= 0) throw new InvalidTaskError(task.name, `${task.uid} returned a command whose argv[${nul}] holds a NUL byte (no program can be given one)`);
    return command as string[];
  }
  throw new InvalidTaskError(task.name, `${task.uid} must return a command (a string, or an argv array of strings), got ${command === null ? "null" : typeof command}`);
}
