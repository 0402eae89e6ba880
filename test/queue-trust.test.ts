/**
 * What a queue worker runs, tried as an attacker with write access to Redis
 * would: jobs added by a plain BullMQ client and by raw Redis commands, a
 * forged completion event, malformed and unparsable jobs. Workers are
 * processes started through the CLI, on a real redis-server.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobRefusedError, QueueBackend, type QueueBackendOptions } from "../lib/index.js";
import { jobPrefixOf } from "../backends/queue/index.js";
import * as tasks from "./fixtures/tasks.js";
import { engine, running, until } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { TASKS_MODULE, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker, stopWorkerProcess, type WorkerProcess } from "./worker-process.js";

let redis: RedisServer;
let admin: Redis;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.port, "127.0.0.1");
});
afterAll(async () => {
  // each stops of itself (SIGTERM lets its jobs finish): none is left holding a job
  await Promise.all(workers.map((w) => stopWorkerProcess(w.child)));
  expect(workers.map((w) => w.output).join("")).not.toContain(TEST_SECRET);
  admin?.disconnect();
  await redis?.stop();
});

async function worker(queue: string, ...flags: string[]): Promise<WorkerProcess> {
  const w = await startAsyncflowWorker(["--connection", redis.url, "--queue", queue, "--module", TASKS_MODULE, ...flags]);
  if (!w.serving) throw new Error(w.output);
  workers.push(w);
  return w;
}

/** Adds a job as any BullMQ client can, and resolves with how it ended (its state and reply or failure), once it has. */
async function forge(queue: string, data: unknown): Promise<{ state: string; reply: unknown; stored: string | null; reason: string | undefined; id: string }> {
  const q = new Queue(queue, { connection: { host: redis.host, port: redis.port } });
  try {
    const job = await q.add("forged", data);
    await until(async () => ["completed", "failed"].includes(await job.getState()), 20_000);
    const done = (await q.getJob(job.id!))!;
    const stored = await admin.hget(`bull:${queue}:${job.id}`, "afout");
    return { state: await done.getState(), reply: done.returnvalue, stored, reason: done.failedReason, id: job.id! };
  } finally {
    await q.close();
  }
}

const job = (payload: object): { v: number; s: string; p: string } => ({ v: 3, s: "forged", p: JSON.stringify({ uid: "task.000001", name: "x", attempt: 1, ...payload }) });
/** The error message a worker replied with (a large reply stays in the job's hash). */
const outcome = (r: { reply: unknown; stored: string | null }): string => (JSON.parse((r.reply as { o?: string }).o ?? r.stored!) as { error: { message: string } }).error.message;

describe("a worker runs only what it was given", () => {
  it("by default: a forged command, shipped source or module (node:child_process, data:) runs nothing; the error names the worker and what it knows", async () => {
    await worker("plain");
    const marker = join(mkdtempSync(join(tmpdir(), "af-forged-")), "ran");
    const command = await forge("plain", job({ kind: "command", command: `touch ${marker}` }));
    expect(outcome(command)).toMatch(/worker \S+:\d+ does not run commands: start it with --allow-exec/);
    const source = await forge("plain", job({ kind: "function", args: [], source: { expression: `(() => require("node:fs").writeFileSync(${JSON.stringify(marker)}, ""))`, context: false } }));
    expect(outcome(source)).toMatch(/has no function registered as "x" \(it knows "double", "fail", "later", "outcomes", "sameObject", "sum", "throwsValue", "untilAborted".*\); the job carries the function's source, which this worker runs only with --allow-source/);
    for (const href of ["node:child_process", `data:text/javascript,import("node:fs").then(f=>f.writeFileSync(${JSON.stringify(marker)},""))`]) {
      const mod = await forge("plain", job({ kind: "function", name: "execSync", args: [`touch ${marker}`], module: { href, export: "execSync" } }));
      expect(outcome(mod)).toMatch(/imports only under --allow-modules \(it allows none\)/);
    }
    // every job has finished: had any run, the marker would be there
    expect(existsSync(marker)).toBe(false);
  });

  it("--allow-modules: only under its prefixes, and never a data: module", async () => {
    await worker("mods", "--allow-modules", "node:path", "--allow-source");
    const ok = await forge("mods", job({ kind: "function", name: "basename", args: ["/a/b.txt"], module: { href: "node:path", export: "basename" } }));
    expect(JSON.parse((ok.reply as { o: string }).o)).toEqual({ value: "b.txt" });
    const data = await forge("mods", job({ kind: "function", name: "y", args: [], module: { href: "data:text/javascript,export const y=()=>1", export: "y" } }));
    expect(outcome(data)).toMatch(/no function registered as "y"/);
  });

  it("with a secret: an unsigned or badly signed job is refused before anything runs, whatever the worker allows", async () => {
    const w = await worker("signed", "--allow-exec", "--allow-source", "--secret-file", TEST_SECRET_FILE);
    const marker = join(mkdtempSync(join(tmpdir(), "af-unsigned-")), "ran");
    const unsigned = await forge("signed", job({ kind: "command", command: `touch ${marker}` }));
    expect(unsigned.state).toBe("failed");
    expect(unsigned.reason).toBe(`job ${unsigned.id} refused: unsigned, and this worker has a secret (is the engine given the same one?)`);
    const bad = await forge("signed", { ...job({ kind: "command", command: `touch ${marker}` }), sig: "AAAA" });
    expect(bad.reason).toMatch(/refused: bad signature/);
    expect(existsSync(marker)).toBe(false);
    // each refusal is logged with its job's id; the secret is nowhere
    await until(() => w.child.stderr !== null && workerText(w).includes(`job ${bad.id} refused`), 10_000);
    expect(workerText(w)).toContain(`asyncflow worker: job ${unsigned.id} refused: unsigned`);
    expect(workerText(w)).not.toContain(TEST_SECRET);
  });

  it("an engine whose job a worker refuses: its task fails with JobRefusedError, giving the worker's reason", async () => {
    await worker("unsigned", "--secret-file", TEST_SECRET_FILE);
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue: "unsigned" }) }); // no secret
    const error: unknown = await flow.functionTask(tasks.double, { name: "double" })(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRefusedError);
    expect((error as Error).message).toMatch(/^task\.000001 \(double\): a worker refused job (\S+): job \1 refused: unsigned, and this worker has a secret/);
  });

  it("a job written with raw Redis commands (redis-cli) is refused the same way", async () => {
    const w = await worker("raw", "--allow-exec", "--secret-file", TEST_SECRET_FILE);
    const marker = join(mkdtempSync(join(tmpdir(), "af-raw-")), "ran");
    const data = JSON.stringify(job({ kind: "command", command: `touch ${marker}` }));
    await admin.hset("bull:raw:evil", { name: "x", data, opts: "{}", timestamp: String(Date.now()), delay: "0", priority: "0" });
    await admin.lpush("bull:raw:wait", "evil");
    await admin.zadd("bull:raw:marker", 0, "0");
    await until(async () => (await admin.zscore("bull:raw:failed", "evil")) !== null, 20_000);
    expect(await admin.hget("bull:raw:evil", "failedReason")).toMatch(/^job evil refused: unsigned/);
    expect(existsSync(marker)).toBe(false);
    expect(workerText(w)).toContain("job evil refused: unsigned");
  });
});

describe("bad input", () => {
  it("malformed jobs fail with 'malformed job <id>: ...' naming what is wrong, each logged with its id", async () => {
    const w = await worker("malformed", "--allow-source", "--allow-exec");
    const cases: [unknown, RegExp][] = [
      ["hello", /^malformed job \S+: not an asyncflow job \(protocol 3\): Invalid input: expected object, received string$/],
      [{ v: 3, s: "s", p: "{" }, /^malformed job \S+: its payload is not JSON: /],
      [job({ kind: "function", uid: 5, args: [] }), /^malformed job \S+: uid: Invalid input: expected string, received number/],
      [job({ kind: "command", command: [] }), /^malformed job \S+: command: /],
      [job({ kind: "shell", command: "id" }), /^malformed job \S+: kind: /],
      [job({ kind: "function", name: "double", args: "hello" }), /^malformed job \S+: args: expected the arguments \(an array, or their V8 serialization\)/],
      [job({ kind: "function", name: "double", args: { "$asyncflow.v8": serialize(5).toString("base64") } }), /^malformed job \S+: args: expected an array, got number$/],
      [job({ kind: "function", name: "double", args: { "$asyncflow.v8": "AAAA" } }), /^malformed job \S+: args: cannot be deserialized: /],
      [{ v: 3, s: "../../etc", p: JSON.stringify({ kind: "command", uid: "u", name: "n", attempt: 1, command: "id" }) }, /^malformed job \S+: .*s: expected a session uid/],
    ];
    for (const [data, reason] of cases) {
      const r = await forge("malformed", data);
      expect([r.state, r.reason], JSON.stringify(data)).toEqual(["failed", expect.stringMatching(reason)]);
      await until(() => workerText(w).includes(`malformed job ${r.id}:`), 10_000);
      expect(workerText(w)).toContain(`ERROR`);
    }
  });

  it.each([
    ["data", "not JSON", { data: "{not json", opts: "{}" }],
    ["data", "empty", { data: "", opts: "{}" }],
    ["opts", "not JSON", { data: "{}", opts: "{not json" }],
    ["opts", "not a JSON object", { data: "{}", opts: "null" }],
    ["progress", "not JSON", { data: "{}", opts: "{}", progress: "{not json" }],
    // no data field: the guard adds its marker (without it BullMQ reads the data as {}, refused as no asyncflow job)
    ["opts", "not JSON", { opts: "{not json" }],
  ])("a job whose stored %s is %s (fields %j) is failed and removed, not picked again after every stall check", async (field, what, stored) => {
    const queue = `poison-${field}-${what.length}-${Object.keys(stored).join("")}`;
    const w = await worker(queue, "--lock-duration", "500");
    await admin.hset(`bull:${queue}:p1`, { name: "x", ...stored, timestamp: String(Date.now()), delay: "0", priority: "0" });
    await admin.lpush(`bull:${queue}:wait`, "p1");
    await admin.zadd(`bull:${queue}:marker`, 0, "0");
    await until(() => workerText(w).includes(`malformed job p1: its stored ${field} is ${what}`), 20_000);
    await until(async () => (await admin.exists(`bull:${queue}:p1`)) === 0, 10_000);
    expect(await admin.exists(`bull:${queue}:p1`)).toBe(0);
    expect([await admin.llen(`bull:${queue}:wait`), await admin.llen(`bull:${queue}:active`)]).toEqual([0, 0]);
    // a later job runs: the worker was not stuck on it, and had it been picked again it would have been logged again
    const flow = await engine({ backend: new QueueBackend({ connection: redis.url, queue }) });
    expect(await flow.functionTask(tasks.double, { name: "double" })(4)).toBe(8);
    expect(workerText(w).match(/malformed job p1/g)).toHaveLength(1);
  });
});

describe("forged results", () => {
  it("with a secret, a completion added to the event stream by hand (XADD) is rejected: bad signature", async () => {
    await worker("xadd", "--secret-file", TEST_SECRET_FILE);
    const backend = new QueueBackend({ connection: redis.url, queue: "xadd", secret: TEST_SECRET } satisfies QueueBackendOptions);
    const flow = await engine({ backend });
    const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
    await running(f);
    const forged = JSON.stringify({ v: 3, o: JSON.stringify({ value: "forged" }) });
    await admin.xadd("bull:xadd:events", "*", "event", "completed", "jobId", `${jobPrefixOf(backend)}.000001.1`, "returnvalue", forged);
    await expect(f).rejects.toThrow(/task\.000001 \(untilAborted\): result rejected: unsigned \(job \S+; is every worker given the same secret\?\)/);
    // the job itself, still running, is told to stop: the worker's body ends (untilAborted returns on its signal)
    await until(async () => (await admin.exists(`bull:xadd:${jobPrefixOf(backend)}.000001.1`)) === 1 && (await admin.zscore("bull:xadd:completed", `${jobPrefixOf(backend)}.000001.1`)) !== null, 10_000);
    expect(await admin.zscore("bull:xadd:completed", `${jobPrefixOf(backend)}.000001.1`)).not.toBeNull();
  });
});

function workerText(w: WorkerProcess): string {
  return w.output;
}

