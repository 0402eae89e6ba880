/**
 * The worker side of ThreadBackend: runs one task or a batch of small ones
 * (through the shared remote executor) and returns the result, or throws a
 * ThreadFailure.
 */
import { BroadcastChannel, parentPort, threadId } from "node:worker_threads";
import { move, workerData } from "piscina";
import { deserializeError, serializeError } from "../../lib/contract/codec.js";
import { checkResult } from "../remote/clone.js";
import { executeRemote } from "../remote/execute.js";
import type { RemoteTask } from "../remote/protocol.js";
import { forgetOldest } from "../remote/bounded.js";
import { LazySignal } from "../remote/signal.js";
import { startKey, type ThreadAbort, type ThreadBatch, type ThreadFailure, type ThreadOutcome, type ThreadResult, type ThreadStarted } from "./protocol.js";

/** The run in this thread: its uid and attempt (a retry has the same uid), and its body's signal. */
class Running extends LazySignal {
  constructor(
    readonly uid: string,
    readonly attempt: number,
  ) {
    super();
  }
}

// A thread runs one body at a time: Piscina hands a thread its next pool task once the last has ended (one task per
// thread, its default), and a batch runs its bodies in turn.
let running: Running | null = null;
/** Aborts of runs not running here when they came (a batch's later members; or runs of other threads), the most recent EARLY of them. */
const early = new Map<string, ThreadAbort>();
const EARLY = 1_000;
// The engine names a run it cancelled or timed out on the pool's channel, to every thread: the one running it aborts the
// body's signal. (A thread blocked in a synchronous body never reads it: the engine terminates that thread after a grace.)
const aborts = new BroadcastChannel((workerData as { asyncflow: { aborts: string } }).asyncflow.aborts);
aborts.unref();
aborts.onmessage = (event: unknown) => {
  for (const abort of (event as { data: ThreadAbort[] }).data) {
    if (running !== null && running.uid === abort.uid && running.attempt === abort.attempt) running.abort(deserializeError(abort.reason));
    else early.set(abort.uid, abort);
  }
  forgetOldest(early, EARLY);
};

export default async function runThreadTask(work: RemoteTask | ThreadBatch): Promise<unknown> {
  const first = "batch" in work ? work.batch[0]! : work;
  parentPort?.postMessage({ asyncflowStarted: startKey(first), thread: threadId } satisfies ThreadStarted);
  if (!("batch" in work)) {
    const value = await runOne(work);
    return work.transfer ? value : ({ value, thread: threadId } satisfies ThreadResult);
  }
  const outcomes: ThreadOutcome[] = [];
  for (let i = 0; i < work.batch.length; i++) {
    const task = work.batch[i]!;
    // How many members began: if the thread dies (or is terminated, blocked in one), the engine knows which one it was.
    Atomics.store(work.progress, 0, i + 1);
    try {
      const value = await runOne(task);
      outcomes.push({ value });
    } catch (failure) {
      outcomes.push({ error: (failure as ThreadFailure).asyncflowFailure });
    }
  }
  return { outcomes, thread: threadId } satisfies ThreadResult;
}

async function runOne(task: RemoteTask): Promise<unknown> {
  if (early.size > 0) {
    // Cancelled before it started (a batch's later member): its body never runs. The engine settled it already.
    const abort = early.get(task.uid);
    if (abort?.attempt === task.attempt) {
      early.delete(task.uid);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- plain data survives the crossing whole
      throw { asyncflowFailure: abort.reason, thread: threadId } satisfies ThreadFailure;
    }
  }
  let value: unknown;
  const control = (running = new Running(task.uid, task.attempt));
  try {
    value = await executeRemote(task, control);
    checkResult(task, value, "a worker thread");
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- plain data survives the crossing whole
    throw fail(error);
  } finally {
    running = null;
  }
  return task.transfer && (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) ? move(value) : value;
}

function fail(error: unknown): ThreadFailure {
  return { asyncflowFailure: serializeError(error), thread: threadId };
}
