import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { currentContext, type TaskContext } from "../contract/context.js";
import { TaskRun } from "../contract/run.js";
import { TaskKind, TaskState } from "../contract/states.js";
import { placeOf, type TaskFuture } from "./future.js";

/**
 * Workflow scopes: which workflow and which block a new task belongs to.
 *
 * A named scope (`flow.workflowScope`) lives in an AsyncLocalStorage of its
 * own, entered only by `workflowScope`, so an engine that never opens one
 * pays nothing for it. A block's body is found through the task context its
 * body runs in. Engine callbacks (a dispatch flush, a backend's completion)
 * run in whatever async context scheduled them, so a scope seen inside a task
 * body counts only if it was opened inside that same body (`within`):
 * otherwise a body would inherit the scope of whoever happened to make it
 * ready, and concurrent scopes would mix.
 */
interface Scope {
  readonly workflowId: string;
  /** The task context the scope was opened in (undefined: outside any body). */
  readonly within: TaskContext | undefined;
}

const scopes = new AsyncLocalStorage<Scope>();
let opened = false;

/** Runs `fn` in a scope named `workflowId` (made up when undefined). */
export function inScope<R>(workflowId: string | undefined, fn: (workflowId: string) => R): R {
  const id = workflowId ?? `workflow.${randomBytes(4).toString("hex")}`;
  opened = true;
  return scopes.run({ workflowId: id, within: currentContext() }, fn, id);
}

/**
 * Sets `f._place` (its workflow and parent block) from where it is being made. Returns the
 * running (or cancelled) block whose body made it (the owner of its cancellation), or null.
 */
export function placeTask(f: TaskFuture): TaskFuture | null {
  const ctx = currentContext();
  let block: TaskFuture | null = null;
  let workflowId: string | null = null;
  if (ctx instanceof TaskRun) {
    const owner = ctx.future as TaskFuture; // runs are made by the engine, of TaskFutures
    if (owner._def.session === f._def.session) {
      // A block's body is a scope named by the block's workflow, which is its own uid when it has no other.
      workflowId = owner._workflow;
      // A cancelled block's body may still be going: what it makes is its too (and cancelled at once, see Session.call).
      if (owner._def.kind === TaskKind.BLOCK && (owner._state === TaskState.RUNNING || owner._state === TaskState.CANCELLED)) block = owner;
    }
  }
  if (opened) {
    const scope = scopes.getStore();
    if (scope !== undefined && scope.within === ctx) workflowId = scope.workflowId;
  }
  f._place = placeOf(workflowId ?? (f._def.kind === TaskKind.BLOCK ? f.uid : null), block);
  return block;
}
