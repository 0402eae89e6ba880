/**
 * A job's start as the engine reports it (RUNNING, `TaskStarted`): which
 * worker took the job and which delivery it is. Both are a read from Redis,
 * a round trip that costs the queue a fifth of its throughput, so it is made
 * only where it is used, one round trip per burst of starts.
 */
import type { Attachment } from "../../lib/contract/backend.js";
import type { JobState } from "./reconcile.js";
import type { Sent, Slots } from "./slots.js";

/** Reads the starts of jobs (by id) from Redis, in one round trip; null for a job it cannot tell. */
export type ReadStarts = (ids: string[]) => Promise<(JobState | null)[]>;

export class Starts {
  /** The backend's name, for log lines. */
  readonly #backend: string;
  readonly #slots: Slots;
  readonly #attachment: Attachment;
  readonly #read: ReadStarts;
  /** A job of this engine started (the queue is served). */
  readonly #onStart: () => void;
  /** Jobs whose RUNNING report waits for the read. */
  #starting: string[] = [];
  /** Started jobs whose worker inspect needs (to name it, and to tell a lost one). */
  #unplaced: Sent[] = [];

  constructor(backend: string, slots: Slots, attachment: Attachment, read: ReadStarts, onStart: () => void) {
    this.#backend = backend;
    this.#slots = slots;
    this.#attachment = attachment;
    this.#read = read;
    this.#onStart = onStart;
  }

  /** A worker took the job (its `active` event). */
  active(jobId: string): void {
    const job = this.#slots.get(jobId);
    if (job === undefined || job.started) return;
    this.#onStart();
    // A first delivery nobody observes is reported at once, counted here; a delivery again (its log line names the
    // worker) and a start an event will name wait for the read. Inspect reads the workers of the jobs it shows (place).
    if (job.deliveries === 0 && !this.#attachment.env.observed()) return this.started(job, null);
    if (this.#starting.push(jobId) === 1) queueMicrotask(this.#reportStarts);
  }

  /** Inspect shows a started job: which worker runs it is read in the background, for the next look. */
  place(job: Sent): void {
    if (job.started && job.worker === undefined && this.#unplaced.push(job) === 1) queueMicrotask(this.#place);
  }

  /** Reports the job's start once, with what Redis said of it (`state`; null or undefined when it did not say). */
  started(job: Sent, state: JobState | null | undefined): void {
    // Failed at this hand-over, unrun (past maxStalledCount): its failed event follows, no delivery is announced.
    if (job.started || state?.kind === "failed") return;
    job.started = true;
    // Redis counts the deliveries of the job it holds (one sent again after Redis lost it adds those before); else, this engine's count of starts.
    const delivery = state?.kind === "active" ? state.delivery + (job.payload.resent ?? 0) : job.deliveries + 1;
    job.deliveries = delivery;
    job.worker = state?.kind === "active" ? (state.where ?? undefined) : undefined;
    const where = state?.kind === "active" && state.where !== null ? `worker ${state.where}` : undefined;
    const { run } = job;
    if (delivery > 1) {
      const message = `QueueBackend "${this.#backend}": ${run.name}: job ${job.id} delivered again (delivery ${delivery}${where === undefined ? "" : `, to ${where}`}): the body may have run before`;
      this.#attachment.env.log.warn(run.uid, message, run.workflowId);
    }
    this.#attachment.report(run, "RUNNING", undefined, { ...(where === undefined ? {} : { where }), delivery });
  }

  readonly #reportStarts = (): void => {
    const ids = this.#starting;
    this.#starting = [];
    this.#readEach(ids, (id, state) => {
      const job = this.#slots.get(id);
      if (job !== undefined) this.started(job, state);
    });
  };

  readonly #place = (): void => {
    const jobs = new Map(this.#unplaced.map((job) => [job.id, job]));
    this.#unplaced = [];
    this.#readEach([...jobs.keys()], (id, s) => {
      const job = jobs.get(id)!;
      if (job.started && job.worker === undefined && s?.kind === "active" && s.where !== null) job.worker = s.where;
    });
  };

  /** Hands each job's start to `apply` (null for each when the read fails). */
  #readEach(ids: string[], apply: (id: string, state: JobState | null) => void): void {
    void this.#read(ids)
      .catch(() => ids.map(() => null))
      .then((states) => ids.forEach((id, i) => apply(id, states[i] ?? null)));
  }
}
