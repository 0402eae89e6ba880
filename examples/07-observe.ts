/**
 * 07: seeing what happens. Every lifecycle transition is an event: subscribe
 * to them, tag tasks with a workflow id, and keep a JSONL trace of the run.
 * Run: npx tsx examples/07-observe.ts
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowEngine, type FlowEvent } from "../lib/index.js";

const dir = mkdtempSync(join(tmpdir(), "asyncflow-"));
const trace = join(dir, "run.jsonl");
const flow = await WorkflowEngine.create({ trace }); // or ASYNCFLOW_TRACE=run.jsonl
const counts = new Map<string, number>();
const off = flow.subscribe((e: FlowEvent) => {
  counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  if (e.type === "TaskFailed") console.log(`${e.workflowId}: ${e.name} (${e.taskId}) failed: ${e.error.message}${e.rootCause ? ` (root cause: ${e.rootCause.name})` : ""}`);
});
try {
  const fetchPage = flow.functionTask(async function fetchPage(n: number) {
    await new Promise((r) => setTimeout(r, 5));
    if (n === 3) throw new Error(`page ${n} is gone`);
    return `page ${n}`;
  });
  const count = flow.functionTask(function count(...pages: string[]) {
    return pages.length;
  });
  const crawl = flow.block(async function crawl(pages: number[]) {
    return count(...pages.map((n) => fetchPage(n)));
  });

  // Two workflows at once: every task made inside carries its workflow's id.
  const [a, b] = await Promise.allSettled([
    flow.workflowScope("nightly-a", () => crawl([1, 2])),
    flow.workflowScope("nightly-b", () => crawl([3, 4])),
  ]);
  console.log(`nightly-a: ${a.status === "fulfilled" ? `${a.value} pages` : "failed"}; nightly-b: ${b.status}`);
} finally {
  await flow.shutdown();
  off();
}
console.log(["TaskCreated", "TaskStarted", "TaskCompleted", "TaskFailed"].map((t) => `${t}=${counts.get(t) ?? 0}`).join(" "));
const lines = readFileSync(trace, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as FlowEvent);
console.log(`trace: ${lines.length} events, first ${lines[0]!.type}, last ${lines.at(-1)!.type}`);
rmSync(dir, { recursive: true }); // a real run keeps its trace: `npx asyncflow report run.jsonl`
