// Piscina's entry in every worker thread. Plain JavaScript, so that it loads
// with no loader: when the pool runs from TypeScript sources (workerData.tsx),
// it registers tsx in this thread first (loader hooks registered in the parent
// do not reach worker threads on Node 20), then loads the real worker.
import { workerData } from "piscina";

const { entry, tsx } = workerData.asyncflow;
if (tsx) {
  const { register } = await import("tsx/esm/api");
  register();
  globalThis[Symbol.for("asyncflow.tsx")] = true;
}
const worker = await import(entry);
export default worker.default;
