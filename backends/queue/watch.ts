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
  /** The same wait, with workers listed (busy with other jobs): not a missing worker; said at debug level. */
  readonly #busy: (idleMs: number, jobs: number, workers: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #lastStart = 0;
  #warned = false;

  constructor(
    afterMs: number,
    jobsOut: () => number,
    workers: () => Promise<number>,
    warn: (idleMs: number, jobs: number) => void,
    busy: (idleMs: number, jobs: number, workers: number) => void,
  ) {
    this.#afterMs = afterMs;
    this.#jobsOut = jobsOut;
    this.#workers = workers;
    this.#warn = warn;
    this.#busy = busy;
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

  /** No job of this engine is left in Redis: the next jobs are a new wait, worth a warning of their own. */
  drained(): void {
    this.stop();
    this.#lastStart = 0;
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
    if (jobs === 0) return this.drained();
    const idle = performance.now() - this.#lastStart;
    if (idle < this.#afterMs) return this.#arm(this.#afterMs - idle);
    this.#arm(this.#afterMs);
    if (this.#warned) return;
    // Workers busy with other engines' jobs are not a problem to report.
    const workers = await this.#workers().catch(() => -1);
    if (this.#timer === null || this.#warned) return; // stopped, or drained, meanwhile
    if (workers === 0) {
      this.#warned = true;
      this.#warn(idle, jobs);
    } else if (workers > 0) this.#busy(idle, jobs, workers);
  }
}
