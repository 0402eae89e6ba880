/**
 * What a QueueBackend tells `flow.inspect()` about a run: held in the engine
 * for a `maxInFlight` slot, waiting in Redis (for a worker, or for none:
 * NO_WORKER), or taken by a worker that is gone (STALLED). `describe` is
 * synchronous, so what only Redis knows (the workers listed for the queue,
 * the jobs waiting there) is read in the background and answered from the
 * last reading; each describe asks for a fresh one, at most one at a time.
 */
import type { RunDescription } from "../../lib/contract/backend.js";
import type { TaskRun } from "../../lib/contract/run.js";

/** What Redis said last: worker names (as they named themselves) and jobs waiting in the queue. */
export interface QueueReading {
  readonly workers: readonly string[];
  readonly waiting: number;
}

/** Readings younger than this are answered without asking Redis again. */
const FRESH_MS = 250;

export class QueueView {
  readonly #read: () => Promise<QueueReading>;
  readonly #queue: string;
  readonly #startCommand: string;
  #last: QueueReading | null = null;
  #at = -Infinity;
  #reading: Promise<QueueReading> | null = null;

  constructor(queue: string, startCommand: string, read: () => Promise<QueueReading>) {
    this.#queue = queue;
    this.#startCommand = startCommand;
    this.#read = read;
  }

  /** A fresh reading (the no-worker watch uses it too, so both share one round trip). */
  reading(): Promise<QueueReading> {
    return (this.#reading ??= this.#read()
      .then((r) => {
        this.#last = r;
        this.#at = performance.now();
        return r;
      })
      .finally(() => (this.#reading = null)));
  }

  /** A run held in the engine: `places` are the backlog's, 1 for the next to get a slot. */
  held(run: TaskRun, places: ReadonlyMap<TaskRun, number>, slots: number): RunDescription {
    return { reason: "QUEUED", position: places.get(run), length: places.size, capacity: slots, where: `engine, for one of ${slots} slots (maxInFlight) of queue "${this.#queue}"` };
  }

  /**
   * A run whose job is in Redis: taken by a worker (`started`, by the worker
   * named `worker` when known), or not; `lost`: its worker died and the queue
   * took it back (BullMQ's stall detection).
   */
  sent(started: boolean, lost: boolean, worker?: string): RunDescription | undefined {
    if (performance.now() - this.#at > FRESH_MS) void this.reading().catch(() => undefined);
    const last = this.#last;
    const none = last !== null && last.workers.length === 0;
    // BullMQ names a worker's connection `<prefix>:<queue>:w:<name>`: one that Redis no longer lists is gone.
    const gone = none || (last !== null && worker !== undefined && !last.workers.some((w) => w.endsWith(`:w:${worker}`)));
    if (lost) return { reason: "STALLED", where: `queue "${this.#queue}"`, hint: `its worker was lost; the job waits for another${none ? `, and no worker serves the queue: start one with ${this.#startCommand}` : ""}` };
    if (!started) {
      if (none) return { reason: "NO_WORKER", where: `queue "${this.#queue}"`, hint: `no worker serves it: start one with ${this.#startCommand}` };
      return { reason: "QUEUED", length: last?.waiting, where: `queue "${this.#queue}"` };
    }
    // Running: on the worker Redis named, when known (else the engine tells what the start reported).
    if (!gone) return worker === undefined ? undefined : { reason: "RUNNING", where: `worker ${worker}` };
    return {
      reason: "STALLED",
      where: `queue "${this.#queue}"`,
      hint: `the worker running it is gone; the job goes to the next worker once its lock expires (lockDuration): start one with ${this.#startCommand}`,
    };
  }
}
