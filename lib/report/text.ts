/** The terminal report: the per-name table, the critical path and the failures. */
import { failureCounts, failuresOf, type SessionModel, type TracedTask } from "./model.js";
import { ms, offset, table, who } from "./format.js";
import type { NameStats } from "./stats.js";

/** At most this many failures are listed one by one; the rest are counted. */
const FAILURES_LISTED = 20;
/** A longer critical path shows its first 10 and last tasks: where it starts and what ends the run. */
const PATH_LISTED = 40;

export function textReport(session: SessionModel, stats: readonly NameStats[], path: readonly TracedTask[], notes: readonly string[]): string {
  const out: string[] = [];
  for (const n of notes) out.push(`note: ${n}`);
  out.push(heading(session), "");
  out.push(
    table(
      ["name", " count", " done", " failed", " cancelled", " retries", " mean", " p50", " p95", " wait mean", " wait p50", " wait p95"],
      stats.map((s) => [
        s.name,
        String(s.count),
        String(s.done),
        String(s.failed),
        String(s.cancelled),
        String(s.retries),
        s.duration ? ms(s.duration.mean) : "-",
        s.duration ? ms(s.duration.p50) : "-",
        s.duration ? ms(s.duration.p95) : "-",
        s.wait ? ms(s.wait.mean) : "-",
        s.wait ? ms(s.wait.p50) : "-",
        s.wait ? ms(s.wait.p95) : "-",
      ]),
    ),
  );
  const unfinished = stats.reduce((a, s) => a + s.unfinished, 0);
  if (unfinished > 0) out.push(`${unfinished} task(s) have no end in the trace (still running or the writer was killed)`);
  out.push("", ...criticalPathText(session, path), "", ...failuresText(session));
  out.push(...noticesText(session));
  return out.join("\n") + "\n";
}

function heading(session: SessionModel): string {
  const origin = session.start?.time ?? session.firstTime;
  const where = session.start ? ` (pid ${session.start.pid} on ${session.start.host}, backends ${session.start.backends.join(", ")})` : "";
  const span = ms((session.endedAt ?? session.lastTime) - origin);
  const ended = session.endedAt === undefined ? ", no SessionEnded: the run did not shut down cleanly or is still going" : "";
  return `session ${session.sessionId}${where}: started ${new Date(origin).toISOString()}, ${session.tasks.size} tasks over ${span}${ended}`;
}

export function criticalPathText(session: SessionModel, path: readonly TracedTask[]): string[] {
  if (path.length === 0) return ["critical path: no task finished"];
  const origin = session.start?.time ?? session.firstTime;
  const first = path[0]!;
  const last = path.reduce((a, t) => Math.max(a, t.end ?? 0), 0);
  const lines = [`critical path: ${path.length} task(s), ${offset(first.created, origin)} to ${offset(last, origin)} (${ms(last - first.created)})`];
  const shown = path.length <= PATH_LISTED ? path : [...path.slice(0, 10), undefined, ...path.slice(-(PATH_LISTED - 10))];
  for (const t of shown) {
    if (t === undefined) {
      lines.push(`  ... ${path.length - PATH_LISTED} more ...`);
      continue;
    }
    const wait = t.started !== undefined ? ms(t.started - t.created) : "never started";
    const ran = t.started !== undefined && t.end !== undefined ? ms(t.end - t.started) : "-";
    lines.push(`  ${offset(t.started ?? t.created, origin)}  ${who(t)}  ${t.kind} on ${t.backend}  ran ${ran}, waited ${wait}  ${t.state}`);
  }
  return lines;
}

function failuresText(session: SessionModel): string[] {
  const failed = [...session.tasks.values()].filter((t) => t.state === "FAILED");
  if (failed.length === 0) return ["failures: none"];
  // Root failures first: the dependency failures they caused (and the calls that shared one) repeat their error.
  const kinds = failuresOf(session);
  const roots = kinds.own;
  const origin = session.start?.time ?? session.firstTime;
  const lines = [`failures: ${failed.length} (${failureCounts(kinds)})`];
  for (const t of roots.slice(0, FAILURES_LISTED)) {
    const error = t.error ? `${t.error.name}: ${firstLine(t.error.message)}` : "no error recorded";
    const retried = t.retries.length > 0 ? ` after ${t.retries.length} retr${t.retries.length === 1 ? "y" : "ies"}` : "";
    lines.push(`  ${offset(t.end ?? t.created, origin)}  ${who(t)}${retried}: ${error}`);
  }
  if (roots.length > FAILURES_LISTED) lines.push(`  ... and ${roots.length - FAILURES_LISTED} more`);
  const byRoot = new Map<string, number>();
  for (const t of failed) if (t.rootCause) byRoot.set(who(t.rootCause), (byRoot.get(who(t.rootCause)) ?? 0) + 1);
  for (const [root, n] of [...byRoot].sort((a, b) => b[1] - a[1]).slice(0, FAILURES_LISTED)) lines.push(`  ${n} task(s) did not run because ${root} failed`);
  return lines;
}

/** Backend notices of level warn or error, and stalls: what the engine said while it ran. */
function noticesText(session: SessionModel): string[] {
  const origin = session.start?.time ?? session.firstTime;
  const lines: string[] = [];
  const notices = session.notices.filter((n) => n.level === "warn" || n.level === "error");
  if (notices.length > 0) lines.push("", `backend notices: ${notices.length}`);
  for (const n of notices.slice(0, FAILURES_LISTED)) lines.push(`  ${offset(n.time, origin)}  ${n.backend} ${n.level}: ${n.message}`);
  if (session.stalls.length > 0) lines.push("", `stalls: ${session.stalls.length}`);
  for (const s of session.stalls.slice(0, FAILURES_LISTED)) {
    const oldest = s.tasks.slice(0, 3).map((t) => `${who(t)} ${t.reason}`).join(", ");
    lines.push(`  ${offset(s.time, origin)}  nothing completed for ${ms(s.stalledMs)}${oldest ? `: ${oldest}` : ""}`);
  }
  return lines;
}

function firstLine(s: string): string {
  const nl = s.indexOf("\n");
  return nl === -1 ? s : `${s.slice(0, nl)} ...`;
}
