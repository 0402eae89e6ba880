/** `asyncflow report --task UID`: one task's story, told from the trace. */
import type { TaskEvent } from "../contract/events.js";
import { ms, offset, table, who } from "./format.js";
import type { SessionModel, TracedTask } from "./model.js";

/** How many dependents and children are named before counting the rest. */
const NAMED = 10;

export function taskStory(session: SessionModel, task: TracedTask, events: readonly TaskEvent[]): string {
  const origin = session.start?.time ?? session.firstTime;
  const tasks = session.tasks;
  const out: string[] = [];
  out.push(`${who(task)}: ${task.kind} on ${task.backend}, ${task.state}${task.attempt > 1 ? ` after ${task.attempt} attempts` : ""}`);
  const context: string[] = [];
  if (task.workflowId !== undefined) context.push(`workflow ${task.workflowId}`);
  if (task.parent !== undefined) context.push(`made in block ${describe(tasks, task.parent)}`);
  const where = ranOn(task);
  if (where !== undefined) context.push(`ran on ${where}`);
  if (task.label !== undefined) context.push(`label ${task.label}`);
  if (context.length > 0) out.push(`  ${context.join("; ")}`);
  if (task.error) out.push(`  error: ${task.error.name}: ${task.error.message}`);
  if (task.rootCause) out.push(`  root cause: ${describe(tasks, task.rootCause.uid)}`);
  if (task.reason !== undefined) out.push(`  cancelled: ${task.reason}`);

  out.push("", "events:");
  out.push(indent(table(["time", "event", "attempt", "detail"], events.map((e) => [offset(e.time, origin), e.type, String(e.attempt), detail(e)]))));

  out.push("", task.dependsOn.length === 0 ? "dependencies: none" : "dependencies:");
  if (task.dependsOn.length > 0) {
    const rows = task.dependsOn.map((uid) => {
      const d = tasks.get(uid);
      if (d === undefined) return [uid, "?", "not in this trace", ""];
      const rel = d.end === undefined ? "" : d.end <= task.created ? "before this was made" : `${ms(d.end - task.created)} after this was made`;
      return [who(d), d.state, d.end === undefined ? "never finished" : `finished ${offset(d.end, origin)}`, rel];
    });
    out.push(indent(table(["task", "state", "finished", "relative"], rows)));
  }
  out.push("", waitedOn(task, tasks));

  const dependents = [...tasks.values()].filter((t) => t.dependsOn.includes(task.uid));
  if (dependents.length > 0) out.push(`dependents: ${names(dependents)}`);
  if (task.kind === "block") {
    const children = [...tasks.values()].filter((t) => t.parent === task.uid);
    out.push(`made in its body: ${children.length === 0 ? "no task" : names(children)}`);
  }
  return out.join("\n") + "\n";
}

/** What held the task up longest: the dependency that finished last, then the backend's queue. */
function waitedOn(task: TracedTask, tasks: Map<string, TracedTask>): string {
  const parts: string[] = [];
  let ready = task.created;
  let last: TracedTask | undefined;
  for (const uid of task.dependsOn) {
    const d = tasks.get(uid);
    if (d?.end !== undefined && (last === undefined || d.end > last.end!)) last = d;
  }
  if (last !== undefined && last.end! > task.created) {
    parts.push(`waited longest on ${who(last)}, which finished ${ms(last.end! - task.created)} after this task was made`);
    ready = last.end!;
  } else {
    parts.push(task.dependsOn.length === 0 ? "waited on no task" : "its dependencies were done when it was made");
  }
  if (task.started !== undefined) {
    const queued = task.started - ready;
    const where = ranOn(task);
    parts.push(`then ${ms(Math.max(0, queued))} between ready and started on ${task.backend}${where === undefined ? "" : ` (${where})`}`);
  } else if (task.end !== undefined) {
    parts.push("and never started");
  } else {
    parts.push("and has not started by the end of the trace");
  }
  return parts.join("; ");
}

function detail(e: TaskEvent): string {
  switch (e.type) {
    case "TaskCreated":
      return [e.dependsOn.length > 0 ? `depends on ${e.dependsOn.join(", ")}` : "", e.parent ? `in ${e.parent}` : ""].filter(Boolean).join("; ");
    case "TaskStarted":
      return e.where ?? "";
    case "TaskCompleted":
      return `ran ${ms(e.durationMs)}, waited ${ms(e.waitMs)}${e.cached ? ", cached" : ""}${e.resumed ? ", resumed" : ""}`;
    case "TaskFailed":
      return `${e.error.name}: ${e.error.message.split("\n")[0]}${e.rootCause ? ` (root cause ${who(e.rootCause)})` : ""}`;
    case "TaskCanceled":
      return e.reason ?? "";
    case "TaskRetry":
      return `retry in ${ms(e.delayMs)} after ${e.error.name}: ${e.error.message.split("\n")[0]}`;
    case "TaskSlow":
      return `running for ${ms(e.runningMs)}`;
    default:
      return "";
  }
}

function describe(tasks: Map<string, TracedTask>, uid: string): string {
  const t = tasks.get(uid);
  return t === undefined ? uid : who(t);
}

function names(list: readonly TracedTask[]): string {
  const shown = list.slice(0, NAMED).map(who).join(", ");
  return list.length > NAMED ? `${shown} and ${list.length - NAMED} more` : shown;
}

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/** Where the task ran, when that says more than its backend's name (a thread, a queue worker; the local backend's is its name). */
function ranOn(task: TracedTask): string | undefined {
  return task.where !== undefined && task.where !== task.backend ? task.where : undefined;
}
