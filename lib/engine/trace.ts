import { closeSync, openSync, writeSync } from "node:fs";
import { InvalidOptionsError, describe } from "../contract/errors.js";
import type { FlowEvent } from "../contract/events.js";
import type { Logger } from "../contract/log.js";

/** Flush at least this often while events arrive: a SIGKILL loses at most about this much. */
const FLUSH_MS = 1000;
/**
 * Or as soon as this many characters wait (about 300 lines). Under V8's
 * large-object size (128 KiB), so the batch, flattened for the write, is
 * made and dropped in the young generation: measured on `npm run bench --
 * events`, 64 KiB batches cost a third less CPU per line than 20,000 lines.
 */
const FLUSH_CHARS = 1 << 16;

/**
 * A trace file: every event as one JSON line, appended. Lines are buffered
 * as one string and written with one synchronous `write` per flush (every
 * second while events arrive, every 64 KiB, at close, at process exit), so a
 * flush is always whole lines, several sessions can append to one file
 * (O_APPEND), and an exit or a signal handler can flush without waiting for
 * the event loop.
 */
export class TraceFile {
  readonly path: string;
  readonly #fd: number;
  readonly #log: Logger;
  readonly #sessionId: string;
  #text = "";
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
    if (this.#closed || this.#failed) return;
    // Appending to one string (a rope, flattened once by the write) beats an array joined into a Buffer.
    const text = (this.#text += JSON.stringify(event) + "\n");
    if (text.length >= FLUSH_CHARS) this.flush();
    else this.#timer ??= setTimeout(this.flush, FLUSH_MS).unref();
  };

  /** Writes what is buffered. Synchronous: safe in an `exit` handler. */
  readonly flush = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const text = this.#text;
    if (text === "") return;
    this.#text = "";
    try {
      const written = writeSync(this.#fd, text);
      // A short write (a signal, a full disk) is finished from where it stopped, in bytes.
      if (written < Buffer.byteLength(text)) {
        const bytes = Buffer.from(text);
        for (let at = written; at < bytes.length; ) at += writeSync(this.#fd, bytes, at);
      }
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
