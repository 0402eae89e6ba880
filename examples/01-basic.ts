/**
 * 01: a basic workflow. Two executable tasks and a function task; only the
 * root future is awaited, the engine schedules everything upstream.
 * Run: npx tsx examples/01-basic.ts
 */
import { WorkflowEngine } from "../lib/index.js";

const flow = await WorkflowEngine.create();
try {
  const echo = flow.executableTask(async function echo(n: number) {
    return `/bin/echo ${n}`;
  });
  const times = flow.functionTask(async function times(s: string, k: number) {
    return Number(s.trim()) * k;
  });
  const sum = flow.functionTask((xs: number[]) => xs.reduce((a, b) => a + b, 0), { name: "sum" });

  const root = sum([times(echo(5), 4), times(echo(6), 10)]);
  console.log(`${root.uid} (${root.name}) is ${root.state}`);
  console.log(`sum = ${await root}`); // 20 + 60 = 80
  console.log(`${root.uid} is ${root.state}`);
} finally {
  await flow.shutdown();
}
