/**
 * The job events the engine reads from the queue's event stream, handed to
 * it straight from BullMQ's reader. QueueEvents emits each entry of the
 * stream twice through its EventEmitter (`completed`, then
 * `completed:<job id>`, a name made for that job, which the emitter must
 * look up as a new property name each time): eight emits a job for the four
 * events BullMQ writes of it (added, waiting, active, completed), of which
 * the engine reads two. Those emits were the largest item of the engine's
 * own profile beyond raw BullMQ's client (`bench/FINDINGS.md`).
 */
import type { QueueEvents } from "bullmq";

/** What the engine does with each kind of job event it reads; `eventId` is the stream entry's id. */
export interface JobEventHandlers {
  active(jobId: string, eventId: string): void;
  completed(jobId: string, returned: unknown, eventId: string): void;
  failed(jobId: string, reason: string, eventId: string): void;
  stalled(jobId: string, eventId: string): void;
}

type Emit = (event: string, ...args: unknown[]) => boolean;

/**
 * Makes `events` call `on` for the four job events and drop the other job
 * events of the stream unread (no listener of its own ever gets them: the
 * engine owns this QueueEvents). Everything else (`error`, connection
 * events) goes through its emitter as before. So BullMQ's per-job names
 * (`completed:<id>`) never fire: `job.waitUntilFinished` on this QueueEvents
 * would wait forever, and nothing here uses it.
 */
export function routeJobEvents(events: QueueEvents, on: JobEventHandlers): void {
  const emitter = events as unknown as { emit: Emit };
  const emit = emitter.emit.bind(events);
  emitter.emit = (event, ...args) => {
    const [fields, eventId] = args as [{ jobId: string; returnvalue?: unknown; failedReason?: string } | undefined, unknown];
    // An entry of the stream comes as (its fields, its id); anything else is the emitter's.
    if (typeof fields !== "object" || fields === null || typeof eventId !== "string") return emit(event, ...args);
    try {
      switch (event) {
        case "active":
          on.active(fields.jobId, eventId);
          return true;
        case "completed":
          on.completed(fields.jobId, fields.returnvalue, eventId);
          return true;
        case "failed":
          on.failed(fields.jobId, fields.failedReason ?? "", eventId);
          return true;
        case "stalled":
          on.stalled(fields.jobId, eventId);
          return true;
        default:
          return false;
      }
    } catch (error) {
      // As BullMQ's own emit does with a listener's error.
      return emit("error", error);
    }
  };
}
