/**
 * Reads a trace file (one lifecycle event per line) as a stream, so a
 * 100,000-task trace never sits in memory as one string.
 */
import { createReadStream } from "node:fs";
import type { FlowEvent } from "../contract/events.js";
import { TraceFileError } from "../contract/errors.js";
import { parseJson } from "../contract/codec.js";

/** What reading left out, for the report to say. */
export interface ReadOutcome {
  /** Lines read, blank ones included. */
  lines: number;
  /** Events handed on. */
  events: number;
  /** The last line was cut short (a process killed mid-write) and was left out. */
  tornLastLine: boolean;
  /** Other lines that are no event, by 1-based line number (at most the first 20). */
  skipped: number[];
  skippedCount: number;
}

/**
 * Calls `onEvent` for each event of `file`, in file order. A torn last line is
 * expected after a kill and is only noted; a torn line in the middle (a killed
 * writer, then another session appending to the same file) gives up its
 * complete tail event when it has one. Lines of unknown shape are skipped and
 * counted, so a trace from a newer version still reads.
 * @throws TraceFileError when the file cannot be opened or read.
 */
export async function readTrace(file: string, onEvent: (event: FlowEvent) => void): Promise<ReadOutcome> {
  const out: ReadOutcome = { lines: 0, events: 0, tornLastLine: false, skipped: [], skippedCount: 0 };
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  let rest = "";
  const take = (line: string, last: boolean): void => {
    out.lines++;
    if (line.trim() === "") return;
    const event = parseEvent(line);
    if (event !== null) {
      out.events++;
      onEvent(event);
    } else if (last) {
      out.tornLastLine = true;
    } else {
      out.skippedCount++;
      if (out.skipped.length < 20) out.skipped.push(out.lines);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let from = 0;
      for (let nl = text.indexOf("\n", from); nl !== -1; nl = text.indexOf("\n", from)) {
        take(text.slice(from, nl), false);
        from = nl + 1;
      }
      rest = text.slice(from);
    }
  } catch (error) {
    throw new TraceFileError(file, describeIoError(error), { cause: error });
  }
  // A complete last line always ends with "\n": what follows the last one was being written.
  if (rest !== "") take(rest, true);
  return out;
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory, not a trace file";
  if (code === "EACCES" || code === "EPERM") return "cannot be read: permission denied";
  return `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

function parseEvent(line: string): FlowEvent | null {
  const whole = tryParse(line);
  if (whole !== null) return whole;
  // A writer killed mid-line leaves no newline, so the next writer's first event
  // is glued to the fragment: recover that event from where an object starts.
  for (let at = line.indexOf('{"', 1); at !== -1; at = line.indexOf('{"', at + 1)) {
    const tail = tryParse(line.slice(at));
    if (tail !== null) return tail;
  }
  return null;
}

function tryParse(text: string): FlowEvent | null {
  const value = parseJson(text);
  return isEvent(value) ? value : null;
}

/** The fields every reader relies on; the rest is trusted as the producer's contract. */
function isEvent(value: unknown): value is FlowEvent {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  if (typeof e.type !== "string" || typeof e.time !== "number" || typeof e.sessionId !== "string") return false;
  return !e.type.startsWith("Task") || (typeof e.taskId === "string" && typeof e.name === "string");
}
