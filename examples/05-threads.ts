/**
 * 05: CPU-bound tasks on worker threads. A self-contained function is shipped
 * to the workers as source; a module export is imported there. The event loop
 * stays free while they run.
 * Run: npx tsx examples/05-threads.ts
 */
import { LocalBackend, ThreadBackend, WorkflowEngine } from "../lib/index.js";
import { countPrimes } from "./tasks.js";

const flow = await WorkflowEngine.create({
  backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 2 })], // name defaults to "threads"
});
try {
  // 1. self-contained (no free variables): its source is shipped to the workers
  const fib = flow.functionTask(function fib(n: number): number {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
  }, { backend: "threads" });

  // 2. a module export: the worker imports the module and takes the export of that name
  const primes = flow.functionTask(countPrimes, { backend: "threads", module: new URL("./tasks.ts", import.meta.url) });

  const total = flow.functionTask(function total(xs: number[]) {
    return xs.reduce((a, b) => a + b, 0);
  });

  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  const sum = await total([fib(27), fib(28), fib(29)]); // three fibs in parallel on threads, sum on the loop
  const count = await primes(200_000);
  clearInterval(ticker);
  console.log(`fib sum = ${sum}`);
  console.log(`primes below 200000 = ${count}`);
  console.log(`event loop stayed responsive: ${ticks > 0}`);
} finally {
  await flow.shutdown();
}
