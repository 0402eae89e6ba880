/**
 * SIGINT/SIGTERM handling shared by every engine that asked for it: one
 * listener per signal for the whole process, installed while at least one
 * such engine is open, so that shutting the last one down leaves no listener.
 */
interface Closable {
  shutdown(): Promise<void>;
}

const engines = new Set<Closable>();
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Handled = keyof typeof EXIT_CODES;

const handlers: Record<Handled, () => void> = {
  SIGINT: () => void onSignal("SIGINT"),
  SIGTERM: () => void onSignal("SIGTERM"),
};

async function onSignal(signal: Handled): Promise<void> {
  await Promise.allSettled([...engines].map((e) => e.shutdown()));
  process.exit(EXIT_CODES[signal]);
}

export function watchSignals(engine: Closable): void {
  if (engines.size === 0) for (const s of Object.keys(handlers) as Handled[]) process.on(s, handlers[s]);
  engines.add(engine);
}

export function unwatchSignals(engine: Closable): void {
  if (!engines.delete(engine) || engines.size > 0) return;
  for (const s of Object.keys(handlers) as Handled[]) process.off(s, handlers[s]);
}
