/**
 * 04: callbacks, not watchers. Instead of one coroutine per task waiting on
 * it, a single done-callback handles every completion as it happens; only
 * the root is awaited.
 * Run: npx tsx examples/04-callbacks.ts
 */
import { WorkflowEngine, type TaskFuture } from "../lib/index.js";

const flow = await WorkflowEngine.create();
try {
  const work = flow.functionTask(async function work(i: number) {
    await new Promise((r) => setTimeout(r, (i * 7) % 13));
    if (i % 5 === 4) throw new Error(`item ${i} is bad`);
    return i * 10;
  });
  const collect = flow.functionTask(function collect(...done: unknown[]) {
    return done.length;
  });

  const counts = { DONE: 0, FAILED: 0, CANCELLED: 0 };
  let remaining = 10;
  let allSettled!: () => void;
  const settled = new Promise<void>((resolve) => (allSettled = resolve));
  const onDone = (f: TaskFuture<number>): void => {
    counts[f.state as keyof typeof counts]++;
    if (f.state === "FAILED") console.log(`${f.uid} failed: ${(f.exception() as Error).message}`);
    if (--remaining === 0) allSettled();
  };

  const items = Array.from({ length: 10 }, (_, i) => work(i).addDoneCallback(onDone));
  // the root depends only on the good items; the bad ones are handled by the callback
  const good = items.filter((_, i) => i % 5 !== 4);
  console.log(`collected ${await collect(...good)} results`);
  await settled;
  console.log(`done=${counts.DONE} failed=${counts.FAILED} cancelled=${counts.CANCELLED}`);
} finally {
  await flow.shutdown();
}
