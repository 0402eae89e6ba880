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

/**
 * Which worker took each job and how many times it was delivered (BullMQ's
 * `pb` and `ats`), in one round trip: all a start needs, two fields a job.
 * A job without them (gone, or not taken): null.
 */
export async function readStarts(redis: Redis, jobKey: (id: string) => string, ids: readonly string[]): Promise<(JobState | null)[]> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(jobKey(id), "pb", "ats");
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, fields]): JobState | null => {
    const [pb, ats] = (error ? [] : fields) as (string | null)[];
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
 * The id of the stream's first entry (null for an empty or missing stream).
 * When it is newer than the last entry read, entries in between may have been
 * trimmed unread (Redis 7's max-deleted-entry-id does not count trimming).
 */
export async function firstEntry(redis: Redis, stream: string): Promise<string | null> {
  const first = await redis.xrange(stream, "-", "+", "COUNT", 1);
  return first[0]?.[0] ?? null;
}
