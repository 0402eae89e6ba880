/**
 * The engine's watch on its event stream while jobs are out: once a second,
 * whether events it had not read were trimmed (see reconcile.ts); if so, the
 * backend reads its jobs' states from Redis.
 */
import type { Redis } from "ioredis";
import { mayHaveLostEvents, streamIdAfter, streamMark, type StreamMark } from "./reconcile.js";

const CHECK_MS = 1000;

export class GapWatch {
  readonly #redis: Redis;
  readonly #stream: string;
  /** Whether jobs are out (the watch stops when none are). */
  readonly #jobsOut: () => boolean;
  readonly #reconcile: (why: string) => Promise<void>;
  /** The furthest event read. */
  #last: string;
  /** The last event read when the previous check ran, and the stream as that check saw it. */
  #readAtCheck: string;
  #markAtCheck: StreamMark;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  /** `mark`: the stream when the engine started reading it, from its last entry on (no job of this engine is older). */
  constructor(redis: Redis, stream: string, mark: StreamMark, jobsOut: () => boolean, reconcile: (why: string) => Promise<void>) {
    this.#redis = redis;
    this.#stream = stream;
    this.#markAtCheck = mark;
    this.#last = this.#readAtCheck = mark.last ?? "0-0";
    this.#jobsOut = jobsOut;
    this.#reconcile = reconcile;
  }

  /** The furthest event read; at attach, the stream's end, where reading starts. */
  get start(): string {
    return this.#last;
  }

  /** An event was read: the reader hands them over in the stream's order, so it is the furthest read. */
  read(eventId: string): void {
    this.#last = eventId;
  }

  /** Jobs went out: checks every CHECK_MS while any are out. */
  arm(): void {
    if (this.#timer !== null || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#check().finally(() => {
        if (this.#jobsOut()) this.arm();
      });
    }, CHECK_MS).unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #check(): Promise<void> {
    // Entries newer than what was read at the previous check, and older than the stream's first entry now, were trimmed
    // before this engine read them, or read in between (then the reconciliation finds nothing to do). Compared with the
    // previous check, not with the last event read now: once the engine is free again (after a long synchronous stretch,
    // say), its reader skips what was trimmed and reads on, and the gap no longer shows against its position.
    const since = this.#readAtCheck;
    const before = this.#markAtCheck;
    const now = await streamMark(this.#redis, this.#stream).catch(() => null);
    if (now === null) return;
    this.#readAtCheck = this.#last;
    this.#markAtCheck = now;
    if (!mayHaveLostEvents(since, before, now)) return;
    // What was lost is reconciled now: the next check starts from the stream's first entry, or from the furthest read if
    // the reader is past it (starting behind it, any later trim of events already read looked like a gap again).
    if (streamIdAfter(now.first!, this.#last)) this.#readAtCheck = now.first!;
    await this.#reconcile("events trimmed from the queue's stream before they were read");
  }
}
