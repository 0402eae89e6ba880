/**
 * The worker side of ThreadBackend: runs one task or a batch of small ones
 * (through the shared remote executor) and returns the result, or throws a
 * ThreadFailure.
 */
import { parentPort, threadId } from "node:worker_threads";
import { move } from "piscina";
import { serializeError } from "../../lib/contract/codec.js";
import { checkResult } from "../remote/clone.js";
import { executeRemote } from "../remote/execute.js";
import type { RemoteTask } from "../remote/protocol.js";
import type { ThreadBatch, ThreadFailure, ThreadOutcome, ThreadResult, ThreadStarted } from "./protocol.js";

// Cancelling a thread task terminates its worker, so the signal a body sees here never fires.
const control = { signal: new AbortController().signal };

export default async function runThreadTask(work: RemoteTask | ThreadBatch): Promise<unknown> {
  const first = "batch" in work ? work.batch[0]! : work;
  parentPort?.postMessage({ asyncflowStarted: first.uid, thread: threadId } satisfies ThreadStarted);
  if (!("batch" in work)) {
    const value = await runOne(work);
    return work.transfer ? value : ({ value, thread: threadId } satisfies ThreadResult);
  }
  const outcomes: ThreadOutcome[] = [];
  for (const task of work.batch) {
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
  let value: unknown;
  try {
    value = await executeRemote(task, control);
    checkResult(task, value, "a worker thread");
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- plain data survives the crossing whole
    throw fail(error);
  }
  return task.transfer && (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) ? move(value) : value;
}

function fail(error: unknown): ThreadFailure {
  return { asyncflowFailure: serializeError(error), thread: threadId };
}
