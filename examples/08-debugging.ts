/**
 * 08: debugging a flow. A task hangs on an external call; `explain()` follows
 * the chain of waits from the awaited future down to it, `inspect()` lists
 * every unfinished task with the reason it is not done, `stallTimeout` and
 * `warnAfter` warn on stderr while nothing moves, a failure is traced to its
 * root cause, and a task waiting to retry shows when and after what error.
 * `kill -USR2 <pid>` would print the same table and explanations from outside.
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

  // A task waiting out its retry delay is BACKING_OFF, with its last error and when it tries again.
  const flaky = flow.functionTask(async function callFlakyApi(): Promise<string> {
    throw new Error("HTTP 429");
  }, { retries: 3, retryDelay: 60_000, retryJitter: 0 });
  const retried = flaky();
  const backingOff = () => flow.inspect().find((row) => row.uid === retried.uid && row.reason === "BACKING_OFF");
  while (backingOff() === undefined) await new Promise((resolve) => setImmediate(resolve));
  const row = backingOff()!;
  const inSeconds = Math.round((row.nextAttemptAt! - Date.now()) / 1000);
  console.log(`${row.name}: ${row.reason}, attempt ${row.attempt} of ${row.maxAttempts} in ${inSeconds} s; last error: ${row.lastError!.message}`);
  console.log(flow.explain(retried));
  retried.cancel("not worth the wait");
} finally {
  await flow.shutdown();
}
