import { depUid, type TaskFuture } from "./future.js";
import type { FinalState, TaskKind, TaskState } from "./states.js";

/** What the engine keeps of a task after it finished: a few fields, no arguments, no result. */
export interface TaskRecord {
  readonly uid: string;
  readonly name: string;
  readonly kind: TaskKind;
  readonly state: TaskState;
  /** uids of the task's dependencies */
  readonly dependencies: readonly string[];
}

class FinishedTask implements TaskRecord {
  readonly #key: number;
  readonly #deps: readonly number[] | null;
  readonly name: string;
  readonly kind: TaskKind;
  readonly state: FinalState;

  constructor(f: TaskFuture, state: FinalState) {
    this.#key = f._key;
    this.#deps = f._deps;
    this.name = f._def.name;
    this.kind = f._def.kind;
    this.state = state;
  }
  get uid(): string {
    return depUid(this.#key);
  }
  get dependencies(): string[] {
    return this.#deps === null ? [] : this.#deps.map(depUid);
  }
}

/**
 * A ring buffer of the last `capacity` finished tasks, so `graph()` can show
 * recent history while memory stays bounded however many tasks stream through.
 */
export class History {
  readonly #capacity: number;
  readonly #ring: (FinishedTask | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#ring = new Array<FinishedTask | undefined>(capacity);
  }

  record(f: TaskFuture, state: FinalState): void {
    if (this.#capacity === 0) return;
    this.#ring[this.#next] = new FinishedTask(f, state);
    this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1;
  }

  /** Oldest first. */
  *records(): Generator<TaskRecord> {
    for (let i = 0; i < this.#capacity; i++) {
      const r = this.#ring[(this.#next + i) % this.#capacity];
      if (r !== undefined) yield r;
    }
  }
}
