/**
 * Process-wide hooks shared by open engines: one listener per event for the
 * whole process, installed while at least one engine needs it, so that
 * shutting the last one down leaves no listener. SIGINT/SIGTERM shut down
 * (engines with `handleSignals`); `beforeExit`/`exit` report unfinished work
 * of engines never shut down; the dump signal prints what is unfinished.
 */
interface Closable {
  shutdown(): Promise<void>;
}

/** An open engine as the exit report and the dump see it. */
export interface Reporting {
  /** Lines saying what is unfinished and why; none when all is done. */
  unfinished(): string[];
  /** The inspect() table and the explanations. */
  dump(): string[];
}

type ProcessEvent = NodeJS.Signals | "beforeExit" | "exit";

/** Engines by the event they listen to, and the one process listener of each event. */
const hooks = new Map<ProcessEvent, { engines: Set<unknown>; listener: () => void }>();

function hook(event: ProcessEvent, engine: unknown, listener: () => void): void {
  let h = hooks.get(event);
  if (h === undefined) {
    hooks.set(event, (h = { engines: new Set(), listener }));
    process.on(event, listener);
  }
  h.engines.add(engine);
}

function unhook(event: ProcessEvent, engine: unknown): void {
  const h = hooks.get(event);
  if (h === undefined || !h.engines.delete(engine) || h.engines.size > 0) return;
  hooks.delete(event);
  process.off(event, h.listener);
}

const engines = <T>(event: ProcessEvent): T[] => [...(hooks.get(event)?.engines ?? [])] as T[];

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Handled = keyof typeof EXIT_CODES;

async function onSignal(signal: Handled): Promise<void> {
  await Promise.allSettled(engines<Closable>(signal).map((e) => e.shutdown()));
  process.exit(EXIT_CODES[signal]);
}

export function watchSignals(engine: Closable): void {
  for (const s of Object.keys(EXIT_CODES) as Handled[]) hook(s, engine, () => void onSignal(s));
}

export function unwatchSignals(engine: Closable): void {
  for (const s of Object.keys(EXIT_CODES) as Handled[]) unhook(s, engine);
}

// Told once per engine: `exit` follows a `beforeExit` that scheduled nothing.
const told = new WeakSet<Reporting>();

function reportUnfinished(event: "beforeExit" | "exit"): void {
  for (const e of engines<Reporting>(event)) {
    if (told.has(e)) continue;
    const lines = e.unfinished();
    if (lines.length === 0) continue;
    told.add(e);
    // Synchronous on files, pipes and terminals: the lines are out before the process is.
    process.stderr.write(lines.join("\n") + "\n");
  }
}

/** Reports `engine`'s unfinished tasks if the process exits before it is shut down; dumps on `signal`. */
export function watchExit(engine: Reporting, signal: NodeJS.Signals | false): void {
  hook("beforeExit", engine, () => reportUnfinished("beforeExit"));
  hook("exit", engine, () => reportUnfinished("exit"));
  if (signal !== false) {
    hook(signal, engine, () => {
      for (const e of engines<Reporting>(signal)) process.stderr.write(e.dump().join("\n") + "\n");
    });
  }
}

export function unwatchExit(engine: Reporting, signal: NodeJS.Signals | false): void {
  unhook("beforeExit", engine);
  unhook("exit", engine);
  if (signal !== false) unhook(signal, engine);
}
