import { TaskState } from "../contract/states.js";
import type { TaskFuture } from "./future.js";

/** What the watch tells the session about. */
export interface StallListener {
  /** Tasks are unfinished and none completed (nor was reported on) for `stalledMs`. */
  stalled(stalledMs: number): void;
  /** `f` has run longer than its `warnAfter`. */
  slow(f: TaskFuture, runningMs: number): void;
}

/**
 * Stall detection (`stallTimeout`) and slow tasks (`warnAfter`) on one
 * unref'd timer, armed only while it has something to watch: unfinished
 * tasks with `stallTimeout` set, or a running task with `warnAfter`. The hot
 * path only stamps `lastProgress` (when `stallTimeout` is set); the timer,
 * not each completion, decides. A body that blocks the event loop blocks
 * this timer too: only a body on another thread can be seen stalling.
 */
export class StallWatch {
  /** When a task last completed or was reported on, or the flow went from idle to busy (performance.now()). */
  lastProgress = 0;
  readonly stallMs: number | undefined;
  readonly #busy: () => boolean;
  readonly #listener: StallListener;
  /** Running tasks with `warnAfter` not yet reported. */
  readonly #slow = new Set<TaskFuture>();
  /** Tasks warned about: a retry that runs long again is not news. Weak: a finished task is not held. */
  readonly #warned = new WeakSet<TaskFuture>();
  #timer: NodeJS.Timeout | null = null;
  #due = Infinity;
  /** lastProgress when the current stall was reported: one warning per stall. */
  #reportedAt = -1;

  constructor(stallMs: number | undefined, busy: () => boolean, listener: StallListener) {
    this.stallMs = stallMs;
    this.#busy = busy;
    this.#listener = listener;
  }

  /** The flow went from idle to busy: the clock starts. */
  busy(now: number): void {
    if (this.stallMs === undefined) return;
    this.lastProgress = now;
    this.#arm(now + this.stallMs);
  }

  /** `f`, which has a `warnAfter`, started. */
  started(f: TaskFuture, warnAfter: number): void {
    if (this.#warned.has(f)) return; // once a task, not once an attempt
    this.#slow.add(f);
    this.#arm(f._started + warnAfter);
  }

  /**
   * `f`, which has a `warnAfter`, is final: it is let go at once (not held
   * with its result until the timer looks), and without `stallTimeout` the
   * timer goes with the last such task.
   */
  ended(f: TaskFuture): void {
    if (this.#slow.delete(f) && this.#slow.size === 0 && this.stallMs === undefined) this.#disarm();
  }

  stop(): void {
    this.#disarm();
    this.#slow.clear();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#due = Infinity;
  }

  #arm(at: number): void {
    if (at >= this.#due) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#due = at;
    this.#timer = setTimeout(this.#tick, Math.max(1, at - performance.now())).unref();
  }

  readonly #tick = (): void => {
    this.#timer = null;
    this.#due = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const f of this.#slow) {
      const warnAfter = f._def.options.warnAfter ?? Infinity;
      if (f._state !== TaskState.RUNNING) this.#slow.delete(f);
      else if (now - f._started >= warnAfter) {
        this.#slow.delete(f);
        this.#warned.add(f);
        this.#listener.slow(f, now - f._started);
      } else next = Math.min(next, f._started + warnAfter);
    }
    const stallMs = this.stallMs;
    if (stallMs !== undefined && this.#busy()) {
      const stalledMs = now - this.lastProgress;
      if (stalledMs < stallMs) next = Math.min(next, this.lastProgress + stallMs);
      else {
        if (this.#reportedAt !== this.lastProgress) {
          this.#reportedAt = this.lastProgress;
          this.#listener.stalled(stalledMs);
        }
        // Still stalled: look again a timeout later, to notice progress (and the next stall).
        next = Math.min(next, now + stallMs);
      }
    }
    if (next !== Infinity) this.#arm(next);
  };
}
