/**
 * Failure on your terms: `settled` and `optional` edges, `cache`, and a
 * checkpoint that lets a rerun take what a run before it finished.
 *
 * Run it: npx tsx examples/10-resume.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowEngine, optional, settled, type Settled } from "../lib/index.js";

const dir = mkdtempSync(join(tmpdir(), "asyncflow-example-"));
const checkpoint = join(dir, "run.ckpt");
let fetches = 0;

async function fetchPage(url: string): Promise<string> {
  fetches++;
  await new Promise((r) => setTimeout(r, 5));
  if (url.includes("broken")) throw new Error(`HTTP 503 from ${url}`);
  return `<page ${url}>`;
}

function summarize(first: Settled<string>, second: string): string {
  const a = first.status === "fulfilled" ? first.value : `(failed: ${(first.reason as Error).message})`;
  return `${a} + ${second}`;
}

async function main(run: number): Promise<void> {
  const flow = await WorkflowEngine.create({ checkpoint });
  try {
    const fetchT = flow.functionTask(fetchPage, { version: "1", cache: true });
    const summary = flow.functionTask(summarize);
    const a = summary(settled(fetchT("https://example.org/a")), optional(fetchT("https://example.org/broken"), "<missing>"));
    // the same call again: the cache shares the running fetch, nothing is fetched twice
    const b = summary(settled(fetchT("https://example.org/broken")), fetchT("https://example.org/a"));
    console.log(`run ${run}: ${await a}`);
    console.log(`run ${run}: ${await b}`);
    console.log(`run ${run}: ${fetches} fetches so far`);
  } finally {
    await flow.shutdown();
  }
}

await main(1); // fetches /a and /broken once each; the successes are checkpointed
await main(2); // a rerun: /a comes from the checkpoint; only the failure is tried again
rmSync(dir, { recursive: true }); // starting afresh is deleting the checkpoint file
