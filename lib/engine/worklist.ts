/**
 * A FIFO drained by one loop: items pushed while it drains (a task that
 * completes synchronously releasing its dependents, a failure cascading down
 * a chain) are handled by the same loop, so any length of chain runs in
 * constant stack. Dispatch and settle both drain through one of these.
 */
export class WorkList<T> {
  readonly #items: (T | undefined)[] = [];
  readonly #each: (item: T) => void;
  #draining = false;

  constructor(each: (item: T) => void) {
    this.#each = each;
  }

  /** Whether a drain is under way (an item pushed now is handled by it). */
  get draining(): boolean {
    return this.#draining;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Handles every item in order, those pushed meanwhile too; a nested call
   * returns at once. An item that throws (a bug) does not cost the items
   * behind it their turn (their futures would never settle): they are handled,
   * then the first error is thrown.
   */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const items = this.#items;
    let failed = false;
    let first: unknown;
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        items[i] = undefined; // dropped as handled: a long drain holds no finished task
        try {
          this.#each(item);
        } catch (error) {
          if (!failed) [failed, first] = [true, error];
        }
      }
    } finally {
      items.length = 0;
      this.#draining = false;
    }
    if (failed) throw first;
  }
}
