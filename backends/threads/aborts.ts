/**
 * Cancels reaching the threads: the engine cancels a run, or its attempt
 * times out, and the thread running that attempt aborts its body's signal
 * with the engine's reason. They travel on a BroadcastChannel of the pool's
 * (opened at the first cancel of a running run), the aborts of one burst of
 * cancels as one message: a batch's member the thread starts right after
 * another's abort then finds its own abort already there (see the worker's
 * `early`), instead of starting before it arrives.
 */
import { BroadcastChannel } from "node:worker_threads";
import { serializeError } from "../../lib/contract/codec.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { ThreadAbort } from "./protocol.js";

/** Names each pool's channel (channels are per process). */
let channels = 0;

export class AbortSender {
  /** The channel's name, given to the pool's threads. */
  readonly channel = `asyncflow.threads.${process.pid}.${++channels}`;
  #port: BroadcastChannel | null = null;
  /** Aborts due, sent together at the end of the burst. */
  #outbox: ThreadAbort[] = [];
  #closed = false;

  /** Aborts `run`'s body in the thread that runs it, with the reason of its signal. */
  send(run: TaskRun): void {
    if (this.#outbox.push({ uid: run.uid, attempt: run.attempt, reason: serializeError(run.signal.reason) }) === 1) queueMicrotask(this.#flush);
  }

  close(): void {
    this.#closed = true;
    this.#port?.close();
  }

  readonly #flush = (): void => {
    const unsent = this.#outbox;
    this.#outbox = [];
    // Shut down since (the engine cancels what runs, then shuts its backends down): the threads are gone, and the channel closed.
    if (this.#closed) return;
    // Unref'd: a cancel must not keep the process alive.
    if (this.#port === null) (this.#port = new BroadcastChannel(this.channel)).unref();
    this.#port.postMessage(unsent satisfies ThreadAbort[]);
  };
}
