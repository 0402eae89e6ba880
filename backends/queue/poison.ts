/**
 * A job whose stored data or options are not JSON (written by hand, or by a
 * broken client) makes BullMQ's worker throw while taking it, before any
 * processor sees it: the job stays active, is taken back by the next stall
 * check and taken again, forever, logged without its id. Here such a job
 * reaches the processor instead, with its data replaced by a marker and its
 * options by `removeOnFail`, so that it is failed, with its id, and removed.
 *
 * BullMQ parses a job's options while reading its hash and its data when it
 * makes the Job: the options (short) are checked before BullMQ reads them,
 * the data only where BullMQ's own parse of it fails, so that a sound job's
 * data is parsed once.
 */
import type { Job, Worker } from "bullmq";

export const UNPARSABLE = "$asyncflow.unparsable";

// BullMQ's moveToActive and moveToFinished return [job hash as a flat array, job id, ...].
type Raw = [unknown[] | null | undefined, ...unknown[]];

function notJson(text: unknown): string | null {
  try {
    JSON.parse(String(text));
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const marked = (why: string): string => JSON.stringify({ [UNPARSABLE]: why });

/** Where `key`'s value is in a hash read as [field, value, ...], or -1. */
function valueAt(fields: unknown[], key: string): number {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === key) return i + 1;
  return -1;
}

function sanitizeOptions(raw: unknown): void {
  if (!Array.isArray(raw) || !Array.isArray((raw as Raw)[0])) return;
  const fields = (raw as Raw)[0]!;
  const opts = valueAt(fields, "opts");
  const bad = opts === -1 ? null : notJson(fields[opts]);
  if (bad === null) return;
  fields[opts] = JSON.stringify({ removeOnFail: true });
  const data = valueAt(fields, "data");
  const why = marked(`its stored opts is not JSON (${bad})`);
  if (data === -1) fields.push("data", why);
  else fields[data] = why;
}

type JobJson = { data: string; opts: Record<string, unknown> };
type Internals = {
  execCommand: (client: unknown, name: string, args: unknown[]) => Promise<unknown>;
};

/** Makes `worker` hand unparsable jobs to its processor (see above). */
export function passUnparsable(worker: Worker): void {
  const backend = worker.getBackend() as unknown as Internals;
  const exec = backend.execCommand.bind(backend);
  backend.execCommand = (client, name, args) => {
    const raw = exec(client, name, args);
    return name === "moveToActive" || name === "moveToFinished" ? raw.then((r) => (sanitizeOptions(r), r)) : raw;
  };
  const w = worker as unknown as { createJob: (data: JobJson, jobId: string) => Job };
  const create = w.createJob.bind(worker);
  w.createJob = (data, jobId) => {
    try {
      return create(data, jobId);
    } catch (error) {
      const bad = notJson(data.data);
      if (bad === null) throw error;
      return create({ ...data, data: marked(`its stored data is not JSON (${bad})`), opts: { removeOnFail: true } }, jobId);
    }
  };
}
