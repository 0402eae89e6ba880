import type { TaskRun } from "../lib/contract/run.js";
import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState } from "../lib/contract/backend.js";

export interface NoopBackendOptions {
  /** @default "noop" */
  name?: string;
}

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
  readonly #attachment: Attachment;

  constructor(options: NoopBackendOptions = {}) {
    this.name = options.name ?? "noop";
    this.#attachment = new Attachment(this.name);
  }

  attach(report: ReportState, env: BackendEnvironment): void {
    this.#attachment.set(report, env);
  }

  submit(run: TaskRun): void {
    const report = this.#attachment.report;
    report(run, "RUNNING");
    report(run, "DONE", placeholder(run));
  }

  cancel(): void {}

  async shutdown(): Promise<void> {}
}
