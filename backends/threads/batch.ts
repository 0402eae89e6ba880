/**
 * Batching of small thread tasks: a run whose function has been measured to
 * take well under a millisecond per round trip is grouped with the queued runs
 * behind it into one pool task, so a flood of tiny tasks pays one message
 * round trip per batch instead of per task. Long or unknown functions run one
 * per pool task, so they balance across threads and cancel individually.
 */

/** Below this mean round trip (ms) a function counts as small. */
const SMALL_MS = 0.5;
const MAX_BATCH = 64;
const WEIGHT = 0.3;

export class RunTimes {
  readonly #mean = new Map<string | number, number>();

  record(key: string | number, ms: number): void {
    const old = this.#mean.get(key);
    this.#mean.set(key, old === undefined ? ms : old + WEIGHT * (ms - old));
  }

  isSmall(key: string | number): boolean {
    const m = this.#mean.get(key);
    return m !== undefined && m < SMALL_MS;
  }
}

/** How many runs to group, given how many wait and how many threads share them. */
export function batchSize(waiting: number, threads: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(waiting / (threads * 2))));
}
