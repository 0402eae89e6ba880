/**
 * 06: tasks as jobs of a Redis queue (BullMQ), run by workers on any machine
 * that reaches the Redis server. Start workers where the work should run:
 *
 *   npx asyncflow-worker --redis redis://HOST:6379 --concurrency 8
 *
 * This example also starts one worker in its own process (startQueueWorker),
 * so that it runs alone against any Redis:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/06-queue.ts
 */
import { LocalBackend, QueueBackend, WorkflowEngine, startQueueWorker } from "../lib/index.js";
import { countPrimes } from "./tasks.js";

const redis = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const worker = await startQueueWorker({ connection: redis, concurrency: 4 });
const flow = await WorkflowEngine.create({ backend: [new LocalBackend(), new QueueBackend({ connection: redis })] });
try {
  // a module export: each worker imports the module from the same path
  const primes = flow.functionTask(countPrimes, { backend: "queue", module: new URL("./tasks.ts", import.meta.url) });
  // a self-contained function travels as source; its argument and result keep their types (a Map here)
  const histogram = flow.functionTask(
    (counts: number[]) => new Map(counts.map((c, i) => [`below ${(i + 1) * 50_000}`, c])),
    { backend: "queue" },
  );
  // an executable: the command is made here, the worker runs it
  const host = flow.executableTask(() => "echo worker-side", { backend: "queue" });

  const counts = [50_000, 100_000, 150_000, 200_000].map((n) => primes(n)); // four jobs, in parallel on the workers
  const table = await histogram(counts);
  for (const [range, count] of table) console.log(`${range}: ${count} primes`);
  console.log((await host()).trim());
} finally {
  await flow.shutdown();
  await worker.close();
}
