/** The thread pool (Piscina) a ThreadBackend starts, and what a run hands it. */
import type { Piscina } from "piscina";
import type { z } from "zod";
import type { threadBackendOptionsSchema } from "./options.js";

/** A pool whose threads load the worker entry (through tsx when running from sources); `aborts` names the channel of cancels. */
export function startPool(Pool: typeof Piscina, options: Omit<z.output<typeof threadBackendOptionsSchema>, "name" | "maxProcesses">, aborts: string): Piscina {
  const here = import.meta.url;
  const fromSources = here.endsWith(".ts");
  const entry = new URL(`./worker.${fromSources ? "ts" : "js"}`, here).href;
  // Idle threads wait with Atomics.waitAsync, not Atomics.wait: their event loops run between tasks, so what a body left
  // behind (a timer, a promise it did not await, an exporter's flush) runs when due, not frozen until the thread's next
  // task, where an error it threw failed that task instead. No cost the thread rows or a 2,000-hop chain could see.
  return new Pool({ atomics: "async", filename: new URL("./bootstrap.mjs", here).href, workerData: { asyncflow: { entry, tsx: fromSources, aborts } }, ...options });
}

/** Every distinct ArrayBuffer in plain structures of `args` (typed arrays give their buffer): what `transfer: true` moves. */
export function buffersIn(args: readonly unknown[]): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (x: unknown): void => {
    if (typeof x !== "object" || x === null) return;
    if (x instanceof ArrayBuffer) found.add(x);
    else if (ArrayBuffer.isView(x)) {
      if (x.buffer instanceof ArrayBuffer) found.add(x.buffer);
    } else if (Array.isArray(x)) x.forEach(visit);
    else if (Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach(visit);
  };
  args.forEach(visit);
  return [...found];
}
