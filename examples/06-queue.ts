/**
 * 06: tasks as jobs of a Redis queue (BullMQ), run by workers on any machine
 * that reaches the Redis server. Start workers where the work should run:
 *
 *   export ASYNCFLOW_REDIS_URL=redis://HOST:6379 ASYNCFLOW_QUEUE_SECRET=...
 *   npx asyncflow worker --module ./dist/tasks.js --concurrency 8
 *
 * A worker runs the functions its modules export, by task name; shipped
 * source and commands only when it is started with --allow-source and
 * --allow-exec. Engine and workers sign what they exchange with a shared secret.
 *
 * This example also starts one worker in its own process (startQueueWorker),
 * so that it runs alone against any Redis:
 *
 *   ASYNCFLOW_REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/06-queue.ts
 */
import { randomBytes } from "node:crypto";
import { LocalBackend, QueueBackend, WorkflowEngine, startQueueWorker } from "../lib/index.js";
import { countPrimes } from "./tasks.js";

const redis = process.env.ASYNCFLOW_REDIS_URL ?? "redis://127.0.0.1:6379";
const secret = process.env.ASYNCFLOW_QUEUE_SECRET ?? randomBytes(32).toString("hex");
const tasks = new URL("./tasks.ts", import.meta.url).pathname;
const worker = await startQueueWorker({ connection: redis, secret, concurrency: 4, modules: [tasks], allowSource: true, allowExec: true });
const flow = await WorkflowEngine.create({ backend: [new LocalBackend(), new QueueBackend({ connection: redis, secret })] });
try {
  // registered on the worker (its --module): the job names the task, the worker runs its own countPrimes
  const primes = flow.functionTask(countPrimes, { backend: "queue" });
  // a self-contained function travels as source (run by workers started with --allow-source); its argument and result keep their types (a Map here)
  const histogram = flow.functionTask(
    (counts: number[]) => new Map(counts.map((c, i) => [`below ${(i + 1) * 50_000}`, c])),
    { backend: "queue" },
  );
  // an executable: the command is made here, the worker runs it (--allow-exec)
  const host = flow.executableTask(() => "echo worker-side", { backend: "queue" });

  const counts = [50_000, 100_000, 150_000, 200_000].map((n) => primes(n)); // four jobs, in parallel on the workers
  const table = await histogram(counts);
  for (const [range, count] of table) console.log(`${range}: ${count} primes`);
  console.log((await host()).trim());
} finally {
  await flow.shutdown();
  await worker.close();
}
