/**
 * Completions arrive as events of the queue's stream, which Redis trims to a
 * length that any BullMQ client of the queue may set (a default `new Queue`
 * elsewhere sets 10,000). Events trimmed before this engine read them would
 * leave tasks waiting forever, so the engine watches for a gap (the stream
 * lost entries newer than the last one read) and, on a gap or a reconnect,
 * reads the state of its jobs from the jobs themselves.
 */
import type { Redis } from "ioredis";
import { OUTCOME_FIELD } from "./protocol.js";

/** What Redis holds of a job: finished with a reply or a failure, taken by a worker, waiting, or gone. */
export type JobState =
  | { readonly kind: "completed"; readonly reply: unknown; readonly stored: string | null }
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "active"; readonly where: string | null; readonly delivery: number }
  | { readonly kind: "waiting" }
  | { readonly kind: "gone" };

/** Reads the state of each job (`jobKey(id)` is its hash), in one round trip. */
export async function readJobs(redis: Redis, jobKey: (id: string) => string, ids: readonly string[]): Promise<JobState[]> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(jobKey(id), "timestamp", "finishedOn", "returnvalue", "failedReason", "processedOn", "pb", "ats", OUTCOME_FIELD);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, fields]): JobState => {
    if (error) throw error;
    const [timestamp, finishedOn, returnvalue, failedReason, processedOn, pb, ats, stored] = fields as (string | null)[];
    if (timestamp == null) return { kind: "gone" }; // every job's hash has one

    if (finishedOn != null && returnvalue != null && failedReason == null) return { kind: "completed", reply: parse(returnvalue), stored: stored ?? null };
    if (finishedOn != null) return { kind: "failed", reason: failedReason ?? "failed" };
    if (processedOn != null) return { kind: "active", where: pb ?? null, delivery: Number(ats ?? 1) };
    return { kind: "waiting" };
  });
}

/** The reason BullMQ gives a job it took back from lost workers more than `maxStalledCount` times (its deferred failure). */
export const STALLED_TOO_OFTEN = "job stalled more than allowable limit";

/**
 * Which worker took each job and how many times it was delivered (BullMQ's
 * `pb` and `ats`), in one round trip: all a start needs, four fields a job.
 * A job without them (gone, or not taken): null. A job BullMQ took back from a
 * lost worker past `maxStalledCount` is handed to a worker once more only to
 * be failed there unrun (its deferred failure, `defa`, which becomes its
 * `failedReason` once failed): failed, not a start.
 */
export async function readStarts(redis: Redis, jobKey: (id: string) => string, ids: readonly string[]): Promise<(JobState | null)[]> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(jobKey(id), "pb", "ats", "defa", "failedReason");
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, fields]): JobState | null => {
    const [pb, ats, defa, failedReason] = (error ? [] : fields) as (string | null)[];
    if (defa != null) return { kind: "failed", reason: defa };
    if (failedReason === STALLED_TOO_OFTEN) return { kind: "failed", reason: failedReason };
    return pb == null && ats == null ? null : { kind: "active", where: pb ?? null, delivery: Number(ats ?? 1) };
  });
}

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Stream ids (`ms-seq`) in order. */
export function streamIdAfter(a: string, b: string): boolean {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am > bm || (am === bm && as > bs);
}

/**
 * What the engine last saw of the event stream: its first and last entries
 * (null when it is empty or missing) and, from Redis 7 on, how many entries
 * were ever added to it and how many it lost (trimmed or deleted) so far;
 * null before Redis 7.
 */
export interface StreamMark {
  readonly first: string | null;
  readonly last: string | null;
  readonly added: number | null;
  readonly removed: number | null;
}

/** The stream's mark now, in one round trip (XINFO STREAM). */
export async function streamMark(redis: Redis, stream: string): Promise<StreamMark> {
  let info: unknown[];
  try {
    info = (await redis.xinfo("STREAM", stream)) as unknown[];
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return { first: null, last: null, added: 0, removed: 0 };
    throw error;
  }
  const fields = new Map<unknown, unknown>();
  for (let i = 0; i + 1 < info.length; i += 2) fields.set(info[i], info[i + 1]);
  const id = (entry: unknown): string | null => (Array.isArray(entry) && typeof entry[0] === "string" ? entry[0] : null);
  const added = fields.get("entries-added");
  const length = fields.get("length");
  const counted = typeof added === "number" && typeof length === "number";
  return { first: id(fields.get("first-entry")), last: id(fields.get("last-entry")), added: counted ? added : null, removed: counted ? added - length : null };
}

/**
 * Whether events newer than `since` (all read by the previous look, `before`)
 * may have been trimmed before they were read: the stream's first entry is now
 * newer than `since` (entries in between are gone, read or not), and Redis
 * cannot tell that nothing was removed since the previous look. A stream that
 * started empty has a first entry newer than anything read before it, but
 * lost nothing: Redis 7 counts what was added and what is left, and an
 * unchanged difference (with the same first entry, so not a stream deleted and
 * made again) means no entry was trimmed. Before Redis 7, the first entry alone
 * decides (then such a stream is reconciled once, needlessly).
 */
export function mayHaveLostEvents(since: string, before: StreamMark, now: StreamMark): boolean {
  if (now.first === null || !streamIdAfter(now.first, since)) return false;
  const untouched = before.removed !== null && now.removed === before.removed && now.added! >= before.added! && (before.first === null || now.first === before.first);
  return !untouched;
}
