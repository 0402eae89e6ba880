/**
 * Lifecycle of a task: `PENDING` from the wrapper call until the backend starts
 * the body, `RUNNING` while it runs, then exactly one final state.
 */
export const TaskState = {
  PENDING: "PENDING",
  RUNNING: "RUNNING",
  DONE: "DONE",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** A final state: once reached, a task never moves again. */
export type FinalState = typeof TaskState.DONE | typeof TaskState.FAILED | typeof TaskState.CANCELLED;

/** What a task wraps: a function run by a backend, a command line run as a process, or a composite block run by the engine. */
export const TaskKind = {
  FUNCTION: "function",
  EXECUTABLE: "executable",
  BLOCK: "block",
} as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];

export function isFinal(state: TaskState): state is FinalState {
  return state === TaskState.DONE || state === TaskState.FAILED || state === TaskState.CANCELLED;
}
