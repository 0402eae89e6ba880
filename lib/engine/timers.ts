/**
 * One timer for every task's time limit and retry delay. Entries of the same
 * duration are due in the order they were added (the clock only moves
 * forward), so each duration keeps its entries in a FIFO linked through the
 * entries themselves, and a binary min-heap orders the durations by their
 * first entry's due time, under a single `setTimeout` armed for the earliest:
 * Node's own timer lists, over one Node timer. Adding and removing an entry
 * is O(1) and allocates nothing when its duration already has a list (100,000
 * tasks with one `timeout` value: one list, one heap slot, one timer); only
 * a list's first entry moves the heap, at O(log d) for d distinct durations.
 *
 * The timer is ref'd while any entry waits: a task in its retry delay must
 * keep the process alive for the caller awaiting it. With no entry left it
 * stays armed but unref'd (it cannot hold the process), so that a chain of
 * tasks, each alone in turn, re-arms it only when it fires, not once per task.
 */
import { MAX_DELAY } from "../contract/delay.js";

/** An entry: `due` (performance.now() ms), linked in its duration's list while scheduled. */
export class TimerEntry {
  due = 0;
  /** @internal */ _list: TimerList | null = null;
  /** @internal */ _prev: TimerEntry | null = null;
  /** @internal */ _next: TimerEntry | null = null;

  /** Whether it waits in the timers. */
  get scheduled(): boolean {
    return this._list !== null;
  }
}

/** The entries of one duration, oldest (earliest due) first; `index` is its heap slot, -1 while empty. */
class TimerList {
  head: TimerEntry | null = null;
  tail: TimerEntry | null = null;
  index = -1;
  constructor(readonly ms: number) {}
}

// Past MAX_DELAY, a later entry wakes the timer early, which re-arms.
// Empty lists are kept for reuse (a chain of tasks empties and refills its list at each task), up to this many:
// retry delays with jitter are all different, and their lists are dropped once empty.
const KEPT_LISTS = 32;

export class Timers<E extends TimerEntry> {
  /** Non-empty lists by their head's due time. */
  readonly #heap: TimerList[] = [];
  readonly #lists = new Map<number, TimerList>();
  /** The list used last: most adds are of the duration before (one `timeout` for many tasks), without a lookup. */
  #recent: TimerList | null = null;
  readonly #onDue: (entry: E) => void;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;

  /** `onDue(entry)` runs once the entry is due; the entry is out of the timers by then. */
  constructor(onDue: (entry: E) => void) {
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#size;
  }

  /** Schedules `entry` `ms` from now (moving it if it was scheduled). */
  add(entry: E, ms: number): void {
    if (entry._list !== null) this.remove(entry);
    entry.due = performance.now() + ms;
    let list = this.#recent;
    if (list === null || list.ms !== ms) {
      list = this.#lists.get(ms) ?? null;
      if (list === null) this.#lists.set(ms, (list = new TimerList(ms)));
      this.#recent = list;
    }
    entry._list = list;
    this.#size++;
    const tail = list.tail;
    list.tail = entry;
    if (tail !== null) {
      tail._next = entry;
      entry._prev = tail;
    } else {
      list.head = entry;
      list.index = this.#heap.length;
      this.#heap.push(list);
      this.#up(list.index);
    }
    if (entry.due < this.#armedFor) this.#arm();
    else this.#timer!.ref(); // armed earlier than this entry: it wakes in time, and re-arms for what remains
  }

  /** Takes `entry` out; a no-op when it is not scheduled. */
  remove(entry: E): void {
    const list = entry._list;
    if (list === null) return;
    const { _prev: prev, _next: next } = entry;
    entry._list = entry._prev = entry._next = null;
    this.#size--;
    if (next !== null) next._prev = prev;
    else list.tail = prev;
    if (prev !== null) return void (prev._next = next);
    // It was the list's first: the list is due later now, or empty.
    list.head = next;
    if (next !== null) this.#down(list.index);
    else this.#drop(list);
    if (this.#size === 0) this.#timer?.unref();
  }

  /** Drops every entry and the timer. */
  clear(): void {
    for (const list of this.#heap) {
      for (let e = list.head; e !== null; ) {
        const next = e._next;
        e._list = e._prev = e._next = null;
        e = next;
      }
    }
    this.#heap.length = 0;
    this.#lists.clear();
    this.#recent = null;
    this.#size = 0;
    this.#disarm();
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#armedFor = Infinity;
    const heap = this.#heap;
    // 1 ms of slack: a timer may fire a little before the time it was set for.
    const now = performance.now() + 1;
    while (heap.length > 0 && heap[0]!.head!.due <= now) {
      const e = heap[0]!.head! as E;
      this.remove(e);
      this.#onDue(e);
    }
    if (heap.length > 0 && this.#timer === null) this.#arm();
  };

  /** An emptied list leaves the heap, and the map too once many are kept. */
  #drop(list: TimerList): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last !== list) {
      heap[list.index] = last;
      last.index = list.index;
      this.#up(last.index);
      this.#down(last.index);
    }
    list.index = -1;
    list.tail = null;
    if (this.#lists.size > KEPT_LISTS) {
      this.#lists.delete(list.ms);
      if (this.#recent === list) this.#recent = null;
    }
  }

  #arm(): void {
    const due = this.#heap[0]!.head!.due;
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
    const l = heap[i]!;
    const due = l.head!.due;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.head!.due <= due) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = l;
    l.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const l = heap[i]!;
    const due = l.head!.due;
    for (;;) {
      const a = 2 * i + 1;
      if (a >= n) break;
      const b = a + 1;
      const c = b < n && heap[b]!.head!.due < heap[a]!.head!.due ? b : a;
      const child = heap[c]!;
      if (child.head!.due >= due) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = l;
    l.index = i;
  }
}
