import { closeSync, openSync, writeSync } from "node:fs";
import { InvalidOptionsError, describe } from "../contract/errors.js";
import type { FlowEvent } from "../contract/events.js";
import type { Logger } from "../contract/log.js";

/** Flush at least this often while events arrive: a SIGKILL loses at most about this much. */
const FLUSH_MS = 1000;
/** Or as soon as this many lines wait, so a burst does not grow the buffer without bound. */
const MAX_LINES = 20_000;

/**
 * A trace file: every event as one JSON line, appended. Lines are buffered
 * and written with one synchronous `write` per flush (every second while
 * events arrive, at close, at process exit), so a flush is always whole
 * lines, several sessions can append to one file (O_APPEND), and an exit
 * or a signal handler can flush without waiting for the event loop.
 */
export class TraceFile {
  readonly path: string;
  readonly #fd: number;
  readonly #log: Logger;
  readonly #sessionId: string;
  #lines: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #failed = false;

  /** @throws InvalidOptionsError naming the file when it cannot be opened for appending. */
  constructor(path: string, sessionId: string, log: Logger) {
    try {
      this.#fd = openSync(path, "a");
    } catch (error) {
      throw new InvalidOptionsError(`WorkflowEngine.create: option \`trace\`: cannot open ${JSON.stringify(path)} for appending: ${describe(error)}`, { cause: error });
    }
    this.path = path;
    this.#log = log;
    this.#sessionId = sessionId;
    if (open.size === 0) process.on("exit", flushAll);
    open.add(this);
  }

  /** The listener: buffers `event` as one line. */
  readonly write = (event: FlowEvent): void => {
    if (this.#closed) return;
    if (this.#lines.push(JSON.stringify(event)) >= MAX_LINES) this.flush();
    else this.#timer ??= setTimeout(this.flush, FLUSH_MS).unref();
  };

  /** Writes what is buffered. Synchronous: safe in an `exit` handler. */
  readonly flush = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#lines.length === 0 || this.#failed) return;
    const bytes = Buffer.from(this.#lines.join("\n") + "\n");
    this.#lines = [];
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.#fd, bytes, at);
    } catch (error) {
      // One line in the log, then the trace stops: a full disk must not fail the flow.
      this.#failed = true;
      this.#log.error(this.#sessionId, `trace file ${this.path}: write failed, tracing stops: ${describe(error)}`);
    }
  };

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    open.delete(this);
    if (open.size === 0) process.off("exit", flushAll);
    closeSync(this.#fd);
  }
}

// One `exit` listener for every open trace file of the process, however many engines trace.
const open = new Set<TraceFile>();
function flushAll(): void {
  for (const t of open) t.flush();
}
