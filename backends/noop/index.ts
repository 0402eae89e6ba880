import type { z } from "zod";
import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState } from "../../lib/contract/backend.js";
import { parseBackendOptions } from "../../lib/contract/options.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { noopBackendOptionsSchema } from "./options.js";

/** Options of a {@link NoopBackend}; documented in `options.ts`. */
export type NoopBackendOptions = z.input<typeof noopBackendOptionsSchema>;

/** The result a dry-run task resolves to: a string that says what it stands for. */
export function placeholder(run: TaskRun): string {
  return `<dry-run ${run.uid} ${run.name}>`;
}

/**
 * Runs nothing: every submitted task reports RUNNING and then DONE with a
 * {@link placeholder} result, in dependency order. `dryRun: true` replaces
 * every backend with one of these.
 */
export class NoopBackend implements ExecutionBackend {
  readonly name: string;
  readonly #given: NoopBackendOptions;
  readonly #attachment: Attachment;

  constructor(options: NoopBackendOptions = {}) {
    this.#given = options;
    this.name = typeof options?.name === "string" ? options.name : "noop";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    await parseBackendOptions("NoopBackend", async () => (await import("./options.js")).noopBackendOptionsSchema, this.#given);
    this.#attachment.set(report, env);
  }

  submit(run: TaskRun): void {
    this.#attachment.admit(run);
    const report = this.#attachment.report;
    report(run, "RUNNING");
    report(run, "DONE", placeholder(run));
  }

  cancel(): void {}

  shutdown(): Promise<void> {
    this.#attachment.close();
    return Promise.resolve();
  }
}
