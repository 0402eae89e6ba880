import type { TaskRun } from "../../lib/contract/run.js";
import type { Payload } from "./protocol.js";

/** A job of this engine: its run and payload (kept to send it again if Redis loses it), what became of it so far. */
export interface Sent {
  readonly id: string;
  readonly run: TaskRun;
  payload: Payload;
  /** Its add went to Redis (false while it waits to be sent, or sent again). */
  added: boolean;
  /** A worker took it (the engine reported RUNNING, or is about to). */
  started: boolean;
  /** Deliveries counted so far (workers that took it). */
  deliveries: number;
  /** The name of the worker that took it last, when Redis said. */
  worker?: string;
}

/**
 * Flow control for a QueueBackend: this engine's jobs in Redis, by job id, at
 * most `max` (`maxInFlight`), and the ready runs beyond that, waiting here
 * in FIFO order for a slot. Admitting and releasing are O(1).
 */
export class Slots {
  readonly #max: number;
  /** Called when a run gets a slot: the job goes out. */
  readonly #send: (job: Sent) => void;
  readonly #jobs = new Map<string, Sent>();
  readonly #waiting: (Sent | undefined)[] = [];
  #head = 0;

  constructor(max: number, send: (job: Sent) => void) {
    this.#max = max;
    this.#send = send;
  }

  /** Jobs in Redis. */
  get size(): number {
    return this.#jobs.size;
  }

  /** Runs waiting for a slot, not counting those cancelled meanwhile. */
  get waiting(): number {
    let n = 0;
    for (let i = this.#head; i < this.#waiting.length; i++) if (this.#waiting[i]?.run.aborted === false) n++;
    return n;
  }

  get(id: string): Sent | undefined {
    return this.#jobs.get(id);
  }

  jobs(): Sent[] {
    return [...this.#jobs.values()];
  }

  /** A ready run: its job goes out now if a slot is free, else when one frees. */
  admit(id: string, run: TaskRun, payload: Payload): void {
    this.#take({ id, run, payload, added: false, started: false, deliveries: 0 });
  }

  #take(job: Sent): void {
    if (this.#jobs.size >= this.#max) {
      this.#waiting.push(job);
      return;
    }
    this.#jobs.set(job.id, job);
    this.#send(job);
  }

  /**
   * The job left Redis (or will never be read back): its slot goes to the
   * oldest waiting run. A run cancelled while waiting is skipped then.
   * @returns false when `id` held no slot.
   */
  release(id: string): boolean {
    if (!this.#jobs.delete(id)) return false;
    const waiting = this.#waiting;
    while (this.#head < waiting.length && this.#jobs.size < this.#max) {
      const next = waiting[this.#head]!;
      waiting[this.#head++] = undefined;
      if (!next.run.aborted) this.#take(next);
    }
    if (this.#head === waiting.length) {
      waiting.length = 0;
      this.#head = 0;
    }
    return true;
  }

  /** Places of the runs waiting for a slot, 1 for the next; O(backlog). */
  places(): Map<TaskRun, number> {
    const places = new Map<TaskRun, number>();
    for (let i = this.#head; i < this.#waiting.length; i++) {
      const run = this.#waiting[i]?.run;
      if (run !== undefined && !run.aborted) places.set(run, places.size + 1);
    }
    return places;
  }

  clear(): void {
    this.#jobs.clear();
    this.#waiting.length = 0;
    this.#head = 0;
  }
}
