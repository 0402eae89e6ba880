/**
 * Traces for the report's tests, written per the event types of #11 until the
 * engine writes real ones: a seeded flow (layered DAG, blocks, workflows,
 * backends with limited slots, retries, failures and their propagation,
 * cancellations) scheduled by list scheduling, and a hand-made builder for
 * DAGs whose critical path is known.
 */
import type { EventTaskKind, FlowEvent, TaskEvent } from "../lib/contract/events.js";
// the bench's seeded PRNG (mulberry32), so a seed names a trace
import { prng as rng } from "../bench/shapes.js";


export interface GenOptions {
  seed: number;
  tasks: number;
  sessionId?: string;
  /** ms since the epoch of the session's start. */
  start?: number;
  failRate?: number;
  retryRate?: number;
  cancelRate?: number;
  /** Every `blockEvery`-th top-level task is a block holding the next few tasks. */
  blockEvery?: number;
}

interface Sim {
  uid: string;
  name: string;
  kind: EventTaskKind;
  backend: string;
  workflowId: string;
  parent: string | undefined;
  deps: number[];
  created: number;
  resolved: number | undefined;
  started: number | undefined;
  end: number;
  final: "TaskCompleted" | "TaskFailed" | "TaskCanceled";
  retryAt: number | undefined;
  rootCause: number | undefined;
  children: number[];
}

const NAMES: readonly { name: string; kind: EventTaskKind; backend: string; ms: number }[] = [
  { name: "fetch", kind: "executable", backend: "local", ms: 40 },
  { name: "parse", kind: "function", backend: "local", ms: 6 },
  { name: "transform", kind: "function", backend: "threads", ms: 25 },
  { name: "simulate", kind: "function", backend: "threads", ms: 90 },
  { name: "upload", kind: "executable", backend: "local", ms: 15 },
];
const SLOTS: Record<string, number> = { local: 8, threads: 2, engine: Infinity };

/** A seeded flow's events in time order (per task: Created, Resolved, Submitted, Started, terminal). */
export function generateEvents(o: GenOptions): FlowEvent[] {
  const random = rng(o.seed);
  const sessionId = o.sessionId ?? `s${o.seed}`;
  const t0 = o.start ?? 1_764_500_000_000.5;
  const failRate = o.failRate ?? 0.01;
  const retryRate = o.retryRate ?? 0.02;
  const cancelRate = o.cancelRate ?? 0.002;
  const blockEvery = o.blockEvery ?? 50;
  const sims: Sim[] = [];
  // Each backend's slots as the times they free up: list scheduling in task order.
  const slots = new Map<string, number[]>(Object.entries(SLOTS).map(([b, n]) => [b, Number.isFinite(n) ? new Array<number>(n).fill(t0) : []]));
  const topLevel: number[] = [];
  let openBlock: { index: number; left: number } | undefined;
  const duration = (base: number): number => base * (0.3 + random() * 1.7) * (random() < 0.02 ? 6 : 1);

  for (let i = 0; i < o.tasks; i++) {
    const uidNum = String(i + 1).padStart(6, "0");
    const inBlock = openBlock !== undefined;
    const parentSim = openBlock ? sims[openBlock.index]! : undefined;
    const makeBlock = !inBlock && i % blockEvery === 1 && o.tasks - i > 6;
    const spec = NAMES[Math.floor(random() * NAMES.length)]!;
    const kind: EventTaskKind = makeBlock ? "block" : spec.kind;
    const pool = inBlock ? parentSim!.children : topLevel;
    const deps: number[] = [];
    const width = Math.min(pool.length, 30);
    const nDeps = pool.length === 0 ? 0 : Math.floor(random() * 3);
    for (let k = 0; k < nDeps; k++) {
      const d = pool[pool.length - 1 - Math.floor(random() * width)]!;
      if (!deps.includes(d)) deps.push(d);
    }
    const workflowId = parentSim?.workflowId ?? (i < o.tasks / 2 ? "nightly-a" : "nightly-b");
    // Tasks are made as fast as the code runs; a block's children once its body starts.
    const created = parentSim ? parentSim.started! + 0.02 * (parentSim.children.length + 1) : t0 + 0.004 * i;
    const sim: Sim = {
      uid: `${makeBlock ? "block" : "task"}.${uidNum}`,
      name: makeBlock ? "stage" : spec.name,
      kind,
      backend: makeBlock ? "engine" : spec.backend,
      workflowId,
      parent: parentSim?.uid,
      deps,
      created,
      resolved: undefined,
      started: undefined,
      end: created,
      final: "TaskCompleted",
      retryAt: undefined,
      rootCause: undefined,
      children: [],
    };
    const failedDep = deps.find((d) => sims[d]!.final !== "TaskCompleted");
    const depsEnd = Math.max(created, ...deps.map((d) => sims[d]!.end));
    if (failedDep !== undefined) {
      // Never runs: ends right after the dependency that ended it.
      const d = sims[failedDep]!;
      sim.final = d.final === "TaskFailed" ? "TaskFailed" : "TaskCanceled";
      sim.rootCause = d.final === "TaskFailed" ? (d.rootCause ?? failedDep) : undefined;
      sim.end = Math.max(created, d.end) + 0.01;
    } else if (random() < cancelRate) {
      sim.final = "TaskCanceled";
      sim.end = created + 1 + random() * 5;
    } else {
      sim.resolved = depsEnd;
      const free = slots.get(sim.backend)!;
      let at = 0;
      for (let s = 1; s < free.length; s++) if (free[s]! < free[at]!) at = s;
      const start = free.length === 0 ? depsEnd + 0.01 : Math.max(depsEnd + 0.01, free[at]!);
      sim.started = start;
      let run = duration(spec.ms);
      if (!makeBlock && random() < retryRate) {
        sim.retryAt = start + run;
        run += 20 + duration(spec.ms);
      }
      sim.end = start + run;
      if (!makeBlock && random() < failRate) sim.final = "TaskFailed";
      if (free.length > 0) free[at] = sim.end;
    }
    sims.push(sim);
    if (parentSim) {
      parentSim.children.push(i);
      if (sim.end > parentSim.end) parentSim.end = sim.end + 0.05;
      if (--openBlock!.left === 0) openBlock = undefined;
    } else {
      topLevel.push(i);
      if (makeBlock && sim.started !== undefined) openBlock = { index: i, left: 3 + Math.floor(random() * 6) };
    }
  }

  const events: FlowEvent[] = [{ type: "SessionStarted", sessionId, time: t0 - 1, pid: 4242, host: "gen-host", backends: ["local", "threads"] }];
  let last = t0;
  for (const s of sims) {
    const base = { sessionId, taskId: s.uid, name: s.name, kind: s.kind, backend: s.backend, workflowId: s.workflowId, attempt: 1 };
    events.push({ type: "TaskCreated", time: s.created, ...base, dependsOn: s.deps.map((d) => sims[d]!.uid), ...(s.parent ? { parent: s.parent } : {}) });
    const terminal = { durationMs: s.started === undefined ? 0 : s.end - s.started, waitMs: (s.started ?? s.end) - s.created };
    if (s.resolved !== undefined && s.started !== undefined) {
      events.push({ type: "TaskResolved", time: s.resolved, ...base });
      events.push({ type: "TaskSubmitted", time: s.resolved + 0.005, ...base });
      events.push({ type: "TaskStarted", time: s.started, ...base, where: s.kind === "block" ? "engine" : `${s.backend} ${1 + Math.floor(s.started) % 4}` });
      if (s.retryAt !== undefined) {
        events.push({ type: "TaskRetry", time: s.retryAt, ...base, delayMs: 20, error: { name: "Error", message: "ECONNRESET" } });
        events.push({ type: "TaskStarted", time: s.retryAt + 20, ...base, attempt: 2 });
      }
    }
    const attempt = s.retryAt !== undefined ? 2 : 1;
    if (s.final === "TaskCompleted") events.push({ type: "TaskCompleted", time: s.end, ...base, attempt, ...terminal });
    else if (s.final === "TaskCanceled") events.push({ type: "TaskCanceled", time: s.end, ...base, attempt, ...terminal, reason: "cancelled by the test" });
    else {
      const root = s.rootCause === undefined ? undefined : sims[s.rootCause]!;
      events.push({
        type: "TaskFailed",
        time: s.end,
        ...base,
        attempt,
        ...terminal,
        error: root
          ? { name: "DependencyFailureError", message: `${s.uid} (${s.name}) did not run: dependency failed` }
          : { name: "TypeError", message: `bad input in ${s.name}`, stack: `TypeError: bad input in ${s.name}\n    at ${s.name} (tasks.js:1:1)` },
        ...(root ? { rootCause: { uid: root.uid, name: root.name } } : {}),
      });
    }
    last = Math.max(last, s.end);
  }
  events.push({ type: "SessionEnded", sessionId, time: last + 1 });
  // Stable: per task, equal times keep the order pushed.
  return events.sort((a, b) => a.time - b.time);
}

/** Events as trace lines. */
export function toJsonl(events: readonly FlowEvent[]): string {
  let out = "";
  for (const e of events) out += JSON.stringify(e) + "\n";
  return out;
}

/** A hand-made task for DAGs with a known critical path: times in ms from 0. */
export interface HandTask {
  uid: string;
  name?: string;
  deps?: string[];
  parent?: string;
  kind?: EventTaskKind;
  created: number;
  /** When its last dependency was done; default: when it started. */
  resolved?: number;
  started?: number;
  end: number;
  state?: "DONE" | "FAILED" | "CANCELLED";
  backend?: string;
  retries?: number[];
  /** From each retry to the next attempt's start. @default 1 */
  retryDelay?: number;
  /** uid of the task that failed first, for a dependency failure. */
  rootCause?: string;
}

/** The events of hand-made tasks, in time order, for session `sessionId`. */
export function handEvents(tasks: readonly HandTask[], sessionId = "hand", origin = 1_764_500_000_000): FlowEvent[] {
  const events: TaskEvent[] = [];
  for (const t of tasks) {
    const kind = t.kind ?? "function";
    const base = { sessionId, taskId: t.uid, name: t.name ?? t.uid, kind, backend: t.backend ?? (kind === "block" ? "engine" : "local"), attempt: 1 };
    events.push({ type: "TaskCreated", time: origin + t.created, ...base, dependsOn: t.deps ?? [], ...(t.parent ? { parent: t.parent } : {}) });
    if (t.started !== undefined) {
      events.push({ type: "TaskResolved", time: origin + (t.resolved ?? t.started), ...base });
      events.push({ type: "TaskSubmitted", time: origin + (t.resolved ?? t.started), ...base });
      events.push({ type: "TaskStarted", time: origin + t.started, ...base });
      (t.retries ?? []).forEach((r, k) => {
        const delayMs = t.retryDelay ?? 1;
        events.push({ type: "TaskRetry", time: origin + r, ...base, attempt: k + 1, delayMs, error: { name: "Error", message: "flaky" } });
        events.push({ type: "TaskStarted", time: origin + r + delayMs, ...base, attempt: k + 2 });
      });
    }
    const terminal = { time: origin + t.end, ...base, durationMs: t.started === undefined ? 0 : t.end - t.started, waitMs: (t.started ?? t.end) - t.created };
    const state = t.state ?? "DONE";
    if (state === "DONE") events.push({ type: "TaskCompleted", ...terminal });
    else if (state === "FAILED") {
      const root = t.rootCause === undefined ? {} : { rootCause: { uid: t.rootCause, name: tasks.find((r) => r.uid === t.rootCause)?.name ?? t.rootCause } };
      events.push({ type: "TaskFailed", ...terminal, error: { name: root.rootCause ? "DependencyFailureError" : "Error", message: `${t.uid} broke` }, ...root });
    }
    else events.push({ type: "TaskCanceled", ...terminal, reason: "test" });
  }
  const all: FlowEvent[] = [{ type: "SessionStarted", sessionId, time: origin, pid: 1, host: "h", backends: ["local"] }, ...events];
  return all.sort((a, b) => a.time - b.time);
}
