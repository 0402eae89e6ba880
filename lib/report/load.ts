/** A trace file read into the model of the one session the user asked about. */
import type { TaskEvent } from "../contract/events.js";
import { TraceFileError } from "../contract/errors.js";
import { TraceModelBuilder, type SessionModel } from "./model.js";
import { readTrace, type ReadOutcome } from "./read.js";

export interface LoadedTrace {
  file: string;
  session: SessionModel;
  /** Every session id of the file, in order of first appearance. */
  sessionIds: string[];
  /** Notes for the reader: which session was picked, what was skipped. */
  notes: string[];
  read: ReadOutcome;
  /** The events of `task` when asked for, in file order. */
  taskEvents: TaskEvent[];
}

export interface LoadOptions {
  /** The session to report; default: the last one in the file. */
  session?: string;
  /** Keep this task's events (for its story). */
  task?: string;
}

/**
 * Reads `file` and models one session: the one named, or else the last to
 * appear (a file that several runs append to is most often read for the
 * latest run; the note says so and lists the others).
 * @throws TraceFileError when the file cannot be read, holds no event, or lacks the session.
 */
export async function loadTrace(file: string, options: LoadOptions = {}): Promise<LoadedTrace> {
  const builder = new TraceModelBuilder({ session: options.session, keepEventsOf: options.task });
  const read = await readTrace(file, builder.add);
  const ids = builder.seen;
  if (ids.length === 0) throw new TraceFileError(file, read.lines === 0 ? "is empty" : `holds no asyncflow event in its ${read.lines} line(s)`);
  const session = builder.sessions()[builder.sessions().length - 1];
  if (session === undefined) {
    throw new TraceFileError(file, `holds no session ${JSON.stringify(options.session)}; it holds ${listIds(ids)}`);
  }
  const notes: string[] = [];
  if (options.session === undefined && ids.length > 1) {
    notes.push(`${file} holds ${ids.length} sessions (${listIds(ids)}); this is the last one, ${session.sessionId}: pick another with --session ID`);
  }
  if (read.tornLastLine) notes.push(`the last line was cut short (the writer was killed mid-write) and is left out`);
  if (read.skippedCount > 0) {
    const more = read.skippedCount > read.skipped.length ? ", ..." : "";
    notes.push(`${read.skippedCount} line(s) are not events and were skipped (line ${read.skipped.join(", ")}${more})`);
  }
  const taskEvents = builder.kept.get(session.sessionId) ?? [];
  return { file, session, sessionIds: ids, notes, read, taskEvents };
}

function listIds(ids: readonly string[]): string {
  return ids.length <= 6 ? ids.join(", ") : `${ids.slice(0, 3).join(", ")}, ..., ${ids.slice(-2).join(", ")}`;
}
