/**
 * 08: debugging a flow. A task hangs on an external call; `explain()` follows
 * the chain of waits from the awaited future down to it, `inspect()` lists
 * every unfinished task with the reason it is not done, `stallTimeout` and
 * `warnAfter` warn on stderr while nothing moves, and a failure is traced to
 * its root cause. `kill -USR2 <pid>` would print the same table and
 * explanations from outside.
 * Run: npx tsx examples/08-debugging.ts
 */
import { LocalBackend, WorkflowEngine } from "../lib/index.js";

const flow = await WorkflowEngine.create({ backend: new LocalBackend({ concurrency: 2 }), stallTimeout: 200 });
try {
  let answer!: (reply: string) => void;
  const reply = new Promise<string>((resolve) => (answer = resolve));
  const callExternalApi = flow.functionTask(async function callExternalApi() {
    return reply; // hangs until the "server" answers below
  }, { warnAfter: 100 });
  const fetch = flow.functionTask(async function fetch(i: number) {
    return i * i;
  });
  const merge = flow.functionTask(function merge(api: string, xs: number[]) {
    return `${api}: ${xs.reduce((a, b) => a + b, 0)}`;
  });
  const report = flow.functionTask(function report(s: string) {
    return s.toUpperCase();
  });

  const fetches = Array.from({ length: 8 }, (_, i) => fetch(i));
  const r = report(merge(callExternalApi(), fetches));
  while (!fetches.every((f) => f.done())) await new Promise((resolve) => setImmediate(resolve));

  // Why is `r` not done? The chain of waits, down to what holds it up.
  console.log(flow.explain(r));
  for (const row of flow.inspect()) console.log(`${row.uid} ${row.name}: ${row.reason}${row.waitingFor.length > 0 ? ` on ${row.waitingFor.map((w) => w.name).join(", ")}` : ""}`);

  // Nothing completes for stallTimeout: the engine warns on stderr with the same explanation.
  await new Promise((resolve) => setTimeout(resolve, 400));
  answer("ok");
  console.log(await r);
  console.log(flow.explain(r));

  // A failure is traced to the task that failed first.
  const broken = flow.functionTask(async function callBrokenApi(): Promise<string> {
    throw new Error("HTTP 503");
  });
  const failed = report(merge(broken(), []));
  await failed.catch(() => undefined);
  console.log(flow.explain(failed));
} finally {
  await flow.shutdown();
}
