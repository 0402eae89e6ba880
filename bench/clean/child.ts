/**
 * The clean process: runs floors and peers on request from the bench, in a
 * process that never loaded asyncflow (and so never entered its
 * AsyncLocalStorage, whose promise hooks slow every promise on Node 20).
 */
import { runWorkload, type Workload } from "./workloads.js";

interface Request {
  readonly id: number;
  readonly workload: Workload;
}

// lib/context.ts registers its store under this key when it loads: proof that it did not.
const loadedAsyncflow = (): boolean => Symbol.for("asyncflow.taskContext") in globalThis;

process.on("message", (msg: Request) => {
  void (async () => {
    try {
      const value = await runWorkload(msg.workload);
      if (loadedAsyncflow()) throw new Error("the clean process loaded asyncflow");
      process.send!({ id: msg.id, value });
    } catch (error) {
      process.send!({ id: msg.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  })();
});
process.send!({ id: 0, value: 0 }); // ready
