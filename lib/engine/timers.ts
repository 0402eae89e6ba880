/**
 * One timer for every task's time limit and retry delay: a binary min-heap of
 * entries ordered by when they are due, and a single `setTimeout` armed for
 * the earliest. Adding or removing an entry is O(log n) with no allocation
 * (the entry is the caller's object, reused across attempts), so 100,000 tasks
 * with a `timeout` cost 100,000 heap entries, not 100,000 timers.
 *
 * The timer is ref'd while any entry waits: a task in its retry delay must
 * keep the process alive for the caller awaiting it. With no entry left it
 * stays armed but unref'd (it cannot hold the process), so that a chain of
 * tasks, each alone in the heap in turn, re-arms it only when it fires, not
 * once per task.
 */

/** An entry: `due` (performance.now() ms) and its place in the heap, -1 when not in it. */
export class TimerEntry {
  due = 0;
  index = -1;
}

// setTimeout's delay is a signed 32-bit number of ms; a later entry wakes the timer early, which re-arms.
const MAX_DELAY = 2 ** 31 - 1;

export class Timers<E extends TimerEntry> {
  readonly #heap: E[] = [];
  readonly #onDue: (entry: E) => void;
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;

  /** `onDue(entry)` runs once the entry is due; the entry is out of the heap by then. */
  constructor(onDue: (entry: E) => void) {
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `entry` `ms` from now (moving it if it was scheduled). */
  add(entry: E, ms: number): void {
    if (entry.index >= 0) this.remove(entry);
    entry.due = performance.now() + ms;
    const heap = this.#heap;
    entry.index = heap.length;
    heap.push(entry);
    this.#up(entry.index);
    if (entry.due < this.#armedFor) this.#arm();
    else this.#timer!.ref(); // armed earlier than this entry: it wakes in time, and re-arms for what remains
  }

  /** Takes `entry` out; a no-op when it is not scheduled. */
  remove(entry: E): void {
    const i = entry.index;
    if (i < 0) return;
    entry.index = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last !== entry) {
      heap[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
    if (heap.length === 0) this.#timer?.unref();
  }

  /** Drops every entry and the timer. */
  clear(): void {
    for (const e of this.#heap) e.index = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#armedFor = Infinity;
    const heap = this.#heap;
    // 1 ms of slack: a timer may fire a little before the time it was set for.
    const now = performance.now() + 1;
    while (heap.length > 0 && heap[0]!.due <= now) {
      const e = heap[0]!;
      this.remove(e);
      this.#onDue(e);
    }
    if (heap.length > 0 && this.#timer === null) this.#arm();
  };

  #arm(): void {
    const due = this.#heap[0]!.due;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = setTimeout(this.#fire, Math.min(MAX_DELAY, Math.max(0, due - performance.now())));
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Infinity;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const e = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.due <= e.due) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.due < heap[l]!.due ? r : l;
      const child = heap[c]!;
      if (child.due >= e.due) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}
