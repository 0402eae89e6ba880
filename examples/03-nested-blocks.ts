/**
 * 03: nested blocks. Blocks call blocks; each level's tasks belong to it, so
 * cancelling an outer block cancels everything it started.
 * Run: npx tsx examples/03-nested-blocks.ts
 */
import { WorkflowEngine } from "../lib/index.js";

const flow = await WorkflowEngine.create();
try {
  const square = flow.functionTask(async function square(x: number) {
    return x * x;
  });
  const add = flow.functionTask(function add(a: number, b: number) {
    return a + b;
  });
  // inner: x^2 + y^2
  const sumOfSquares = flow.block(async function sumOfSquares(x: number, y: number) {
    return await add(square(x), square(y));
  });
  // outer: (a^2 + b^2) + (c^2 + d^2), the two halves in parallel
  const pipeline = flow.block(async function pipeline(a: number, b: number, c: number, d: number) {
    return await add(sumOfSquares(a, b), sumOfSquares(c, d));
  });

  console.log(`result = ${await pipeline(1, 2, 3, 4)}`); // 1 + 4 + 9 + 16 = 30

  const forever = flow.functionTask(function forever() {
    return new Promise<number>(() => undefined);
  });
  const stuck = flow.block(async function stuck() {
    return await add(forever(), 1);
  });
  const s = stuck();
  setTimeout(() => s.cancel("taking too long"), 20);
  await s.catch((e: unknown) => console.log(`${s.uid} ${s.state}: ${(e as Error).message}`));
} finally {
  await flow.shutdown();
}
