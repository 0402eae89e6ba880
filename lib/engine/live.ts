import type { TaskFuture } from "./future.js";

/**
 * The tasks not yet final, in registration order: an intrusive doubly linked
 * list through the futures' `_prev`/`_next`, so adding and removing are O(1)
 * with no allocation and no rehashing as a graph grows to millions of tasks.
 */
export class LiveTasks implements Iterable<TaskFuture> {
  #head: TaskFuture | null = null;
  #tail: TaskFuture | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(f: TaskFuture): void {
    f._prev = this.#tail;
    f._next = null;
    if (this.#tail === null) this.#head = f;
    else this.#tail._next = f;
    this.#tail = f;
    this.#size++;
  }

  /** Removes `f`, which must be in the list. */
  delete(f: TaskFuture): void {
    const { _prev: prev, _next: next } = f;
    if (prev === null) this.#head = next;
    else prev._next = next;
    if (next === null) this.#tail = prev;
    else next._prev = prev;
    f._prev = f._next = null;
    this.#size--;
  }

  /** A snapshot: safe to iterate while tasks finish. */
  toArray(): TaskFuture[] {
    const out = new Array<TaskFuture>(this.#size);
    let i = 0;
    for (let f = this.#head; f !== null; f = f._next) out[i++] = f;
    return out;
  }

  [Symbol.iterator](): Iterator<TaskFuture> {
    return this.toArray()[Symbol.iterator]();
  }
}
