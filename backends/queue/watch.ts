/**
 * The most common way a queue workflow hangs is that no worker serves the
 * queue (none started, or one started on another queue name or Redis). Jobs
 * then wait in Redis, legitimately, for as long as it takes: this says so
 * once, in the log, instead of leaving the tasks PENDING in silence.
 */
export class IdleQueueWatch {
  readonly #afterMs: number;
  /** Jobs of this engine in Redis. */
  readonly #jobsOut: () => number;
  /** Workers Redis lists for the queue. */
  readonly #workers: () => Promise<number>;
  readonly #warn: (idleMs: number, jobs: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #lastStart = 0;
  #warned = false;

  constructor(afterMs: number, jobsOut: () => number, workers: () => Promise<number>, warn: (idleMs: number, jobs: number) => void) {
    this.#afterMs = afterMs;
    this.#jobsOut = jobsOut;
    this.#workers = workers;
    this.#warn = warn;
  }

  /** Jobs went out: watch, unless already watching. */
  sent(): void {
    if (this.#timer !== null || this.#afterMs === 0) return;
    if (this.#lastStart === 0) this.#lastStart = performance.now();
    this.#arm(this.#afterMs);
  }

  /** A job of this engine started: a worker serves the queue. */
  started(): void {
    this.#lastStart = performance.now();
    this.#warned = false;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => void this.#check(), ms).unref();
  }

  async #check(): Promise<void> {
    this.#timer = null;
    const jobs = this.#jobsOut();
    if (jobs === 0) {
      // all done (or cancelled): the next jobs are a new wait, worth a warning of their own
      this.#lastStart = 0;
      this.#warned = false;
      return;
    }
    const idle = performance.now() - this.#lastStart;
    if (idle < this.#afterMs) return this.#arm(this.#afterMs - idle);
    this.#arm(this.#afterMs);
    if (this.#warned) return;
    // Workers busy with other engines' jobs are not a problem to report.
    const workers = await this.#workers().catch(() => -1);
    if (workers === 0 && this.#timer !== null && !this.#warned) {
      this.#warned = true;
      this.#warn(idle, jobs);
    }
  }
}
