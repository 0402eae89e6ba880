/**
 * A job BullMQ cannot read (written by hand, or by a broken client: stored
 * data, options or progress that are not JSON, say) makes BullMQ's
 * worker throw while taking it, before any processor sees it: the job stays
 * active, is taken back by the next stall check and taken again, forever,
 * logged without its id. Here such a job reaches the processor instead, with
 * its data replaced by a marker and its options by `removeOnFail`, so that it
 * is failed, with its id, and removed.
 *
 * BullMQ reads a job in two steps: the hash a script returns (options and
 * progress parsed, among others), then the Job made from it (data parsed). The
 * first step's fields (short) are checked before BullMQ reads them; the
 * second step is caught where it fails, so that a sound job's data is parsed
 * once.
 */
import type { Job, Worker } from "bullmq";

export const UNPARSABLE = "$asyncflow.unparsable";

/** The scripts whose reply carries the next job, as [job hash as a flat array, job id, ...]. */
const TAKING = new Set(["moveToActive", "moveToFinished", "moveToDelayed"]);
/**
 * The hash fields BullMQ parses as JSON while reading the reply (an empty one it reads as absent). Not `parent`:
 * BullMQ's scripts in Redis decode that one too when they finish the job, which no guard here can reach.
 */
const PARSED = ["opts", "progress"] as const;

type Raw = [unknown[] | null | undefined, ...unknown[]];
type JobJson = { data: string; opts: Record<string, unknown> };

const marked = (why: string): string => JSON.stringify({ [UNPARSABLE]: why });
const FAIL_AND_REMOVE = JSON.stringify({ removeOnFail: true });

/** Where `key`'s value is in a hash read as [field, value, ...], or -1. */
function valueAt(fields: unknown[], key: string): number {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === key) return i + 1;
  return -1;
}

function parsed(text: string): { readonly value: unknown } | { readonly error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Why BullMQ could not read this hash, or null. */
function unreadable(fields: unknown[]): string | null {
  // BullMQ reads empty data as {}: no client of BullMQ stores it, so it is a job written by hand, failed as one that cannot be read.
  if (fields[valueAt(fields, "data")] === "") return "its stored data is empty";
  for (const name of PARSED) {
    const at = valueAt(fields, name);
    const text = at === -1 ? "" : String(fields[at]);
    if (text === "") continue;
    const read = parsed(text);
    if ("error" in read) return `its stored ${name} is not JSON (${read.error})`;
    // BullMQ lists the options' entries: null or a primitive breaks it, or reads as nonsense.
    if (name === "opts" && (typeof read.value !== "object" || read.value === null || Array.isArray(read.value))) return "its stored opts is not a JSON object";
  }
  return null;
}

function sanitize(raw: unknown): void {
  if (!Array.isArray(raw) || !Array.isArray((raw as Raw)[0])) return;
  const fields = (raw as Raw)[0]!;
  const why = unreadable(fields);
  if (why === null) return;
  const set = (key: string, value: string): void => {
    const at = valueAt(fields, key);
    if (at === -1) fields.push(key, value);
    else fields[at] = value;
  };
  set("opts", FAIL_AND_REMOVE);
  set("progress", "");
  set("data", marked(why));
}

/** Makes `worker` hand the jobs BullMQ cannot read to its processor (see above). */
export function passUnparsable(worker: Worker): void {
  const backend = worker.getBackend() as unknown as { execCommand: (client: unknown, name: string, args: unknown[]) => Promise<unknown> };
  const exec = backend.execCommand.bind(backend);
  backend.execCommand = (client, name, args) => {
    const raw = exec(client, name, args);
    return TAKING.has(name) ? raw.then((r) => (sanitize(r), r)) : raw;
  };
  const w = worker as unknown as { createJob: (data: JobJson, jobId: string) => Job };
  const create = w.createJob.bind(worker);
  w.createJob = (data, jobId) => {
    try {
      return create(data, jobId);
    } catch (error) {
      // Parsing the data is the first thing BullMQ does there: any other failure is not this guard's to judge.
      const read = parsed(data.data);
      if (!("error" in read)) throw error;
      return create({ ...data, data: marked(`its stored data is not JSON (${read.error})`), opts: { removeOnFail: true } }, jobId);
    }
  };
}
