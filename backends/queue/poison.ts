/**
 * A job whose stored data or options are not JSON (written by hand, or by a
 * broken client) makes BullMQ's worker throw while taking it, before any
 * processor sees it: the job stays active, is taken back by the next stall
 * check and taken again, forever, logged without its id. Here such a job
 * reaches the processor instead, with its data replaced by a marker and its
 * options by `removeOnFail`, so that it is failed, with its id, and removed.
 */
import type { Worker } from "bullmq";

export const UNPARSABLE = "$asyncflow.unparsable";

// BullMQ's moveToActive and moveToFinished return [job hash as a flat array, job id, ...].
type Raw = [unknown[] | null | undefined, ...unknown[]];

function sanitize(raw: unknown): void {
  if (!Array.isArray(raw) || !Array.isArray((raw as Raw)[0])) return;
  const fields = (raw as Raw)[0]!;
  let bad: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== "data" && fields[i] !== "opts") continue;
    try {
      JSON.parse(String(fields[i + 1]));
    } catch (error) {
      bad = `its stored ${String(fields[i])} is not JSON (${(error as Error).message})`;
    }
  }
  if (bad === null) return;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "data") fields[i + 1] = JSON.stringify({ [UNPARSABLE]: bad });
    if (fields[i] === "opts") fields[i + 1] = JSON.stringify({ removeOnFail: true });
  }
}

/** Makes `worker` hand unparsable jobs to its processor (see above). */
export function passUnparsable(worker: Worker): void {
  const backend = worker.getBackend() as unknown as { execCommand: (client: unknown, name: string, args: unknown[]) => Promise<unknown> };
  const exec = backend.execCommand.bind(backend);
  backend.execCommand = async (client, name, args) => {
    const raw = await exec(client, name, args);
    if (name === "moveToActive" || name === "moveToFinished") sanitize(raw);
    return raw;
  };
}
