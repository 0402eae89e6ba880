import { describe } from "../contract/errors.js";
import type { FlowEvent, FlowListener } from "../contract/events.js";
import type { Logger } from "../contract/log.js";

/**
 * The listeners of one session's lifecycle events (subscribers, the trace
 * file, the OpenTelemetry bridge). The lifecycle tests `active`, one branch
 * per transition, and builds an event only when it holds.
 *
 * Also the session's clock. While someone listens, every reading is exact;
 * otherwise readings within one synchronous burst share one reading, taken
 * at its first request and dropped at the next microtask, so the timestamps
 * futures keep for `inspect()` cost one branch per task, not a clock call.
 */
export class Observers {
  /** Whether anyone listens: tested before any event is built. */
  active = false;
  #listeners: FlowListener[] = [];
  readonly #log: Logger;
  readonly #sessionId: string;
  // Null when expired: a field that holds null as well as numbers stays tagged, so the reading is one
  // number shared by every future stamped in the burst (see TaskFuture._created).
  #stamp: number | null = null;

  constructor(sessionId: string, log: Logger) {
    this.#sessionId = sessionId;
    this.#log = log;
  }

  /** Adds `listener`; the function returned removes it (once; calling it again does nothing). */
  subscribe(listener: FlowListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    this.active = true;
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.active = this.#listeners.length > 0;
    };
  }

  /** Tells every listener, in the order they subscribed; one that throws is logged and the rest still hear. */
  emit(event: FlowEvent): void {
    // A listener that unsubscribes while hearing replaces the array, so this walk stays whole.
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        const task = "taskId" in event ? event : undefined;
        this.#log.error(task?.taskId ?? this.#sessionId, `an event listener threw on ${event.type}: ${describe(error)}`, task?.workflowId);
      }
    }
  }

  /** `performance.now()`: exact while anyone listens, else shared by a synchronous burst (see the class comment). */
  now(): number {
    if (this.active) return performance.now();
    let stamp = this.#stamp;
    if (stamp === null) {
      stamp = this.#stamp = performance.now();
      queueMicrotask(this.#expire);
    }
    return stamp;
  }

  readonly #expire = (): void => {
    this.#stamp = null;
  };
}

/** Milliseconds since the epoch, sub-millisecond, of a `performance.now()` reading. */
export const epoch = (t: number): number => performance.timeOrigin + t;
