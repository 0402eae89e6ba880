/** The bench's side of the clean child process: start it once, ask it for runs, interleaved with ours. */
import { fork, type ChildProcess } from "node:child_process";
import type { Workload } from "./workloads.js";

interface Reply {
  readonly id: number;
  readonly value?: number;
  readonly error?: string;
}

export class CleanProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { ok(v: number): void; fail(e: Error): void }>();
  #lastId = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (r: Reply) => {
      const w = this.#waiting.get(r.id);
      this.#waiting.delete(r.id);
      if (r.error !== undefined) w?.fail(new Error(`clean process: ${r.error}`));
      else w?.ok(r.value!);
    });
    child.on("exit", (code) => {
      for (const w of this.#waiting.values()) w.fail(new Error(`clean process exited with ${code}`));
      this.#waiting.clear();
    });
  }

  /** Forks the child with the same Node and flags as this process (the bench runs with --expose-gc under tsx). */
  static async start(): Promise<CleanProcess> {
    const child = fork(new URL("./child.ts", import.meta.url).pathname, [], {
      execArgv: ["--expose-gc", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const clean = new CleanProcess(child);
    await new Promise<number>((ok, fail) => clean.#waiting.set(0, { ok, fail }));
    return clean;
  }

  /** One measured run in the clean process. */
  run(workload: Workload): Promise<number> {
    const id = ++this.#lastId;
    return new Promise<number>((ok, fail) => {
      this.#waiting.set(id, { ok, fail });
      this.#child.send({ id, workload });
    });
  }

  close(): void {
    this.#child.disconnect();
  }
}

let shared: Promise<CleanProcess> | null = null;

/** The one clean process of a bench run, started on first use. */
export function cleanProcess(): Promise<CleanProcess> {
  return (shared ??= CleanProcess.start());
}

/** Lets the bench exit: closes the clean process if one was started. */
export async function closeCleanProcess(): Promise<void> {
  if (shared !== null) (await shared).close();
  shared = null;
}
