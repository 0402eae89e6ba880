import { open, readFile, rename, type FileHandle } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import { fromWire, toWire } from "../contract/codec.js";
import { InvalidOptionsError, describe } from "../contract/errors.js";
import type { Logger } from "../contract/log.js";
import { lockFile } from "./lock.js";
import type { CheckpointStore } from "./store.js";

const HEADER = '{"asyncflow":"checkpoint","format":1}\n';
const HEADER_BYTES = Buffer.from(HEADER);
const NEWLINE = 0x0a;
/** Characters per write at most: a burst of records together past V8's longest string (~512 MiB) would not join into one. */
const BATCH_CHARS = 64 * 1024 * 1024;

interface Record {
  readonly line: string;
  readonly wire: unknown;
  /** Used by this run: kept by compaction. A flag, not a second map: a rerun of 100,000 hits pays no insert each. */
  kept: boolean;
}

/**
 * The checkpoint as an append-only file of JSON lines, `{"k": key, "v": value}`,
 * values through the codec (`toWire`). Puts made while a write is under way
 * are gathered and go out together: one write and one fsync per burst, so the
 * cost per task falls as the load rises. A last line torn by a crash is
 * ignored and cut off. Locked against a second engine (see `lock.ts`).
 */
export class FileStore implements CheckpointStore {
  readonly path: string;
  readonly #sync: boolean;
  readonly #compact: boolean;
  readonly #fh: FileHandle;
  readonly #release: () => void;
  readonly #log: Logger;
  /** What earlier runs recorded. */
  readonly #previous: Map<string, Record>;
  /** Records this run wrote. */
  readonly #written = new Map<string, string>();
  /** How many earlier records this run used. */
  #used = 0;
  #lines: number;
  /** Where the next write goes: the end of the last whole line. */
  #offset = 0;
  #queue: string[] = [];
  #waiting: { resolve(): void; reject(e: unknown): void }[] = [];
  #writing: Promise<void> | null = null;
  #closed: Promise<void> | null = null;

  private constructor(path: string, o: { sync: boolean; compact: boolean }, fh: FileHandle, release: () => void, log: Logger, previous: Map<string, Record>, lines: number) {
    this.path = path;
    this.#sync = o.sync;
    this.#compact = o.compact;
    this.#fh = fh;
    this.#release = release;
    this.#log = log;
    this.#previous = previous;
    this.#lines = lines;
  }

  /** Locks `path`, reads what it holds (creating it if absent) and opens it for appending. */
  static async open(path: string, o: { sync: boolean; compact: boolean }, log: Logger): Promise<FileStore> {
    const release = lockFile(path);
    try {
      // bytes, decoded line by line: the whole file as one string would stop at V8's longest string (~512 MiB)
      const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? Buffer.alloc(0) : Promise.reject(e)));
      const { records, lines, good } = parse(bytes, path, log);
      const fresh = good === 0; // absent, empty, or torn before its header was whole
      const fh = await open(path, fresh ? "w" : "r+");
      if (fresh) await fh.write(HEADER);
      else if (good < bytes.length) await fh.truncate(good); // a torn last record: cut off, so appends start on a line of their own
      const store = new FileStore(path, o, fh, release, log, records, lines);
      store.#offset = fresh ? Buffer.byteLength(HEADER) : good;
      return store;
    } catch (error) {
      release();
      throw error;
    }
  }

  get(key: string): { value: unknown } | undefined {
    const r = this.#previous.get(key);
    if (r === undefined) return undefined;
    let value: unknown;
    try {
      value = fromWire(r.wire);
      // JSON's parse is one object for every caller: each gets its own, as each call of a clean run does
      if (value === r.wire && typeof value === "object" && value !== null) value = structuredClone(value);
    } catch (error) {
      // Whole JSON, but not a value (edited by hand, or by a bug): a miss, so the task runs again and records it anew.
      this.#previous.delete(key);
      this.#log.warn(this.path, `checkpoint: a record cannot be read back (${describe(error)}): its task runs again`);
      return undefined;
    }
    if (!r.kept) {
      r.kept = true;
      this.#used++;
    }
    return { value };
  }

  put(key: string, value: unknown): Promise<void> | null {
    let line: string;
    try {
      const wire = toWire(value);
      // JSON carries `wire === value` exactly; a V8 serialization must give back an equal value (classes, functions do not)
      if (wire !== value && !isDeepStrictEqual(fromWire(JSON.parse(JSON.stringify(wire))), value)) return null;
      line = `${JSON.stringify({ k: key, v: wire })}\n`;
    } catch (error) {
      // Longer than a string can be: a record this store cannot write, so the task fails rather than settle unrecorded.
      if (tooLong(error)) return Promise.reject(error);
      return null;
    }
    this.#written.set(key, line);
    this.#queue.push(line);
    const done = new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#writing ??= this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const count = batchEnd(this.#queue, 0);
      const text = this.#queue.splice(0, count).join("");
      const waiting = this.#waiting.splice(0, count);
      try {
        await this.#append(Buffer.from(text));
        this.#lines += count;
        for (const w of waiting) w.resolve();
      } catch (error) {
        await this.#cutBack();
        for (const w of waiting) w.reject(error);
      }
    }
    this.#writing = null;
  }

  /** Writes `buf` at the end of the last whole line. */
  async #append(buf: Buffer): Promise<void> {
    await writeAll(this.#fh, buf, this.#offset);
    if (this.#sync) await this.#fh.datasync();
    this.#offset += buf.length;
  }

  /** After a failed write: the file ends at its last whole record again, so a later write does not follow a torn one. */
  async #cutBack(): Promise<void> {
    try {
      await this.#fh.truncate(this.#offset);
    } catch (error) {
      // the next write overwrites the torn bytes from the same offset; a rerun cuts off what stays past the last newline
      this.#log.warn(this.path, `checkpoint: a torn record could not be cut off after a failed write (${describe(error)})`);
    }
  }

  close(compact: boolean): Promise<void> {
    return (this.#closed ??= this.#close(compact));
  }

  async #close(compact: boolean): Promise<void> {
    try {
      while (this.#writing !== null) await this.#writing;
      await this.#fh.close();
      // Reruns of a program whose inputs change leave records nobody asks for: past twice what this run used, keep only those.
      const kept = this.#used + this.#written.size;
      if (compact && this.#compact && kept > 0 && this.#lines > 2 * kept) await this.#rewrite(kept);
    } catch (error) {
      this.#log.error(this.path, `checkpoint: closing failed: ${String(error)}`);
    } finally {
      this.#release();
    }
  }

  async #rewrite(kept: number): Promise<void> {
    const tmp = `${this.path}.compact-${process.pid}`;
    const fh = await open(tmp, "w");
    try {
      const lines = [HEADER];
      for (const [key, r] of this.#previous) if (r.kept && !this.#written.has(key)) lines.push(r.line);
      for (const line of this.#written.values()) lines.push(line);
      for (let i = 0, at = 0; i < lines.length; ) {
        const j = batchEnd(lines, i);
        const buf = Buffer.from(lines.slice(i, j).join(""));
        await writeAll(fh, buf, at);
        at += buf.length;
        i = j;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    this.#log.debug(this.path, `checkpoint compacted: ${this.#lines} records -> ${kept}`);
  }
}

/** Writes all of `buf` at `position`: a write may take only part (a full disk, a file-size limit). */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`the file took ${done} of ${buf.length} bytes and no more`);
    done += bytesWritten;
  }
}

/** Where the batch of `lines` starting at `from` ends: at least one line, else at most BATCH_CHARS characters. */
function batchEnd(lines: readonly string[], from: number): number {
  let end = from + 1;
  for (let chars = lines[from]!.length; end < lines.length && chars + lines[end]!.length <= BATCH_CHARS; end++) chars += lines[end]!.length;
  return end;
}

/** V8's "Invalid string length", or Node's refusal to make a string past that length of a buffer. */
function tooLong(error: unknown): error is Error {
  return error instanceof Error && ((error instanceof RangeError && error.message === "Invalid string length") || (error as NodeJS.ErrnoException).code === "ERR_STRING_TOO_LONG");
}

/** The records of a checkpoint file's bytes; `good` is the byte length up to the last whole line. */
function parse(bytes: Buffer, path: string, log: Logger): { records: Map<string, Record>; lines: number; good: number } {
  const records = new Map<string, Record>();
  const end = bytes.lastIndexOf(NEWLINE) + 1;
  // No whole line: a header torn by a crash is started afresh; anything else is someone's file.
  if (end === 0 && HEADER_BYTES.subarray(0, bytes.length).equals(bytes)) return { records, lines: 0, good: 0 };
  if (!bytes.subarray(0, HEADER_BYTES.length).equals(HEADER_BYTES)) throw new InvalidOptionsError(`checkpoint: ${path} is not an asyncflow checkpoint file (its first line is not ${HEADER.trimEnd()})`);
  let lines = 0;
  for (let start = HEADER_BYTES.length, n = 2; start < end; n++) {
    const stop = bytes.indexOf(NEWLINE, start);
    try {
      const line = bytes.toString("utf8", start, stop); // throws for a line past the longest string: not a record either
      const r = JSON.parse(line) as { k: string; v: unknown };
      records.set(r.k, { line: `${line}\n`, wire: r.v, kept: false });
      lines++;
    } catch {
      log.warn(path, `checkpoint: line ${n} is not a record, ignored`);
    }
    start = stop + 1;
  }
  if (end < bytes.length) log.debug(path, "checkpoint: a torn last record (a crash during a write) was ignored");
  return { records, lines, good: end };
}
