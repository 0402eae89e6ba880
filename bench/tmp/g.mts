import { WorkflowEngine } from "../../lib/index.js";
import { independent } from "../shapes.js";
import { runAsyncflow } from "../runners.js";
const flow = await WorkflowEngine.create();
const big = independent(Number(process.argv[2] ?? 1_000_000));
for (let r = 0; r < 6; r++) {
  const t = performance.now();
  await runAsyncflow(flow, big);
  const dt = performance.now() - t;
  console.log(`run ${r}: ${(dt * 1000 / big.size).toFixed(3)} us/task`);
}
await flow.shutdown();
