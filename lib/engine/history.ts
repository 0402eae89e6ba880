import { depKeys, depUid, type DepKeys, type TaskFuture } from "./future.js";
import type { FinalState, TaskKind, TaskState } from "../contract/states.js";
import type { TaskDefinition } from "./future.js";

/** What the engine keeps of a task after it finished: a few fields, no arguments, no result. */
export interface TaskRecord {
  readonly uid: string;
  readonly name: string;
  readonly kind: TaskKind;
  readonly state: TaskState;
  /** The task's `label` and `description` options, when given. */
  readonly label: string | undefined;
  readonly description: string | undefined;
  /** uids of the task's dependencies */
  readonly dependencies: readonly string[];
}

// Mutable so that a full ring overwrites its oldest record instead of
// allocating one per finished task (records live long enough to be promoted,
// so fresh ones would cost old-generation collections at a steady rate).
class FinishedTask implements TaskRecord {
  #key = 0;
  #deps: DepKeys = null;
  #def: TaskDefinition | null = null;
  state: FinalState = "DONE";

  set(f: TaskFuture, state: FinalState): this {
    this.#key = f._key;
    this.#deps = f._deps;
    this.#def = f._def;
    this.state = state;
    return this;
  }
  get name(): string {
    return this.#def!.name;
  }
  get kind(): TaskKind {
    return this.#def!.kind;
  }
  get label(): string | undefined {
    return this.#def!.options.label;
  }
  get description(): string | undefined {
    return this.#def!.options.description;
  }
  get uid(): string {
    return depUid(this.#key);
  }
  get dependencies(): string[] {
    return depKeys(this.#deps).map(depUid);
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
    this.#ring[this.#next] = (this.#ring[this.#next] ?? new FinishedTask()).set(f, state);
    this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1;
  }

  /** Oldest first. Records are reused as tasks finish: read them before the next task does. */
  *records(): Generator<TaskRecord> {
    for (let i = 0; i < this.#capacity; i++) {
      const r = this.#ring[(this.#next + i) % this.#capacity];
      if (r !== undefined) yield r;
    }
  }
}
