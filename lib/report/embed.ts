/**
 * The data the HTML page draws, as columns of numbers (one entry per task, in
 * display order) rather than an object per task: a 100,000-task run stays a
 * few megabytes that parse in a blink, and the page reads typed arrays.
 */
import type { EventTaskKind, EventTaskState } from "../contract/events.js";
import type { SessionModel, TracedTask } from "./model.js";

export const KINDS: readonly EventTaskKind[] = ["function", "executable", "block"];
export const STATES: readonly EventTaskState[] = ["DONE", "FAILED", "CANCELLED", "RUNNING", "PENDING"];

/** What the page receives; times are ms from `origin`, -1 where not reached. */
export interface PageData {
  session: { id: string; origin: number; end: number; host: string; pid: number; backends: string[]; notes: string[]; file: string };
  names: string[];
  backends: string[];
  workflows: string[];
  wheres: string[];
  uid: string[];
  name: number[];
  kind: number[];
  backend: number[];
  state: number[];
  workflow: number[];
  depth: number[];
  parent: number[];
  created: number[];
  resolved: number[];
  started: number[];
  end: number[];
  where: number[];
  /** Dependencies of task i are dep[depOff[i]] .. dep[depOff[i + 1] - 1] (task indices). */
  depOff: number[];
  dep: number[];
  retryTask: number[];
  retryTime: number[];
  /** Starts of attempts after the first (task index, time): a retried task runs from each start to its next retry, or its end. */
  restartTask: number[];
  restartTime: number[];
  /** Task indices of the critical path, earliest first. */
  critical: number[];
  /** Workflow groups: the first task index of each, and its label. */
  groupStart: number[];
  groupLabel: string[];
  /** Failed tasks' errors, sparse. */
  errorTask: number[];
  errorText: string[];
}

/**
 * Orders tasks for the Gantt: by workflow (in order of first appearance),
 * then as a tree, each block followed by what its body made, siblings by
 * creation time. O(n log n).
 */
export function displayOrder(session: SessionModel): { order: TracedTask[]; depth: number[]; groupStart: number[]; groupLabel: string[] } {
  const tasks = session.tasks;
  const children = new Map<string, TracedTask[]>();
  const roots = new Map<string, TracedTask[]>();
  for (const t of tasks.values()) {
    if (t.parent !== undefined && tasks.has(t.parent)) {
      const list = children.get(t.parent);
      if (list === undefined) children.set(t.parent, [t]);
      else list.push(t);
    } else {
      const key = t.workflowId ?? "";
      const list = roots.get(key);
      if (list === undefined) roots.set(key, [t]);
      else list.push(t);
    }
  }
  const byCreated = (a: TracedTask, b: TracedTask): number => a.created - b.created;
  const order: TracedTask[] = [];
  const depth: number[] = [];
  const groupStart: number[] = [];
  const groupLabel: string[] = [];
  for (const [workflow, list] of roots) {
    const first = order.length;
    // Iterative: nesting depth is the user's, not bounded by us.
    const stack: [TracedTask, number][] = list.sort(byCreated).reverse().map((t) => [t, 0]);
    while (stack.length > 0) {
      const [t, d] = stack.pop()!;
      order.push(t);
      depth.push(d);
      const kids = children.get(t.uid);
      if (kids !== undefined) for (const k of kids.sort(byCreated).reverse()) stack.push([k, d + 1]);
    }
    groupStart.push(first);
    groupLabel.push(`${workflow === "" ? "no workflow" : `workflow ${workflow}`}: ${order.length - first} tasks`);
  }
  return { order, depth, groupStart, groupLabel };
}

export function pageData(session: SessionModel, path: readonly TracedTask[], notes: string[], file: string): PageData {
  const origin = session.start?.time ?? session.firstTime;
  const rel = (t: number | undefined): number => (t === undefined ? -1 : Math.round((t - origin) * 1000) / 1000);
  const { order, depth, groupStart, groupLabel } = displayOrder(session);
  const index = new Map<string, number>();
  order.forEach((t, i) => index.set(t.uid, i));
  const dict = (): { list: string[]; of(s: string | undefined): number } => {
    const ids = new Map<string, number>();
    const list: string[] = [];
    return {
      list,
      of(s) {
        if (s === undefined) return -1;
        let i = ids.get(s);
        if (i === undefined) ids.set(s, (i = list.push(s) - 1));
        return i;
      },
    };
  };
  const names = dict();
  const backends = dict();
  const workflows = dict();
  const wheres = dict();
  const d: PageData = {
    session: {
      id: session.sessionId,
      origin,
      end: rel(session.endedAt ?? session.lastTime),
      host: session.start?.host ?? "",
      pid: session.start?.pid ?? 0,
      backends: session.start?.backends ?? [],
      notes,
      file,
    },
    names: names.list,
    backends: backends.list,
    workflows: workflows.list,
    wheres: wheres.list,
    uid: [],
    name: [],
    kind: [],
    backend: [],
    state: [],
    workflow: [],
    depth,
    parent: [],
    created: [],
    resolved: [],
    started: [],
    end: [],
    where: [],
    depOff: [0],
    dep: [],
    retryTask: [],
    retryTime: [],
    restartTask: [],
    restartTime: [],
    critical: path.map((t) => index.get(t.uid)!),
    groupStart,
    groupLabel,
    errorTask: [],
    errorText: [],
  };
  order.forEach((t, i) => {
    d.uid.push(t.uid);
    d.name.push(names.of(t.name));
    d.kind.push(KINDS.indexOf(t.kind));
    d.backend.push(backends.of(t.backend));
    d.state.push(STATES.indexOf(t.state));
    d.workflow.push(workflows.of(t.workflowId));
    d.parent.push(t.parent === undefined ? -1 : (index.get(t.parent) ?? -1));
    d.created.push(rel(t.created));
    d.resolved.push(rel(t.resolved));
    d.started.push(rel(t.started));
    d.end.push(rel(t.end));
    d.where.push(wheres.of(t.where));
    for (const uid of t.dependsOn) {
      const j = index.get(uid);
      if (j !== undefined) d.dep.push(j);
    }
    d.depOff.push(d.dep.length);
    for (const r of t.retries) {
      d.retryTask.push(i);
      d.retryTime.push(rel(r));
    }
    for (const r of t.restarts) {
      d.restartTask.push(i);
      d.restartTime.push(rel(r));
    }
    if (t.error !== undefined && t.state === "FAILED") {
      d.errorTask.push(i);
      d.errorText.push(`${t.error.name}: ${t.error.message}`.slice(0, 500));
    }
  });
  return d;
}
