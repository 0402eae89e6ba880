import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointLockedError, InvalidOptionsError, WorkflowEngine } from "../lib/index.js";
import { alive, captureStderr, until } from "./helpers.js";

const fixture = new URL("./fixtures/resume-flow.ts", import.meta.url).pathname;
const dir = (): string => mkdtempSync(join(tmpdir(), "asyncflow-resume-"));
const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "") : []);

function run(ckpt: string, executions: string, mode: "hang" | "finish" | "stage"): { child: ReturnType<typeof spawn>; out: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, ckpt, executions, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
  child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
  const out = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, out };
}

describe("checkpoint and resume", () => {
  it("killed with SIGKILL mid-run, the rerun executes only what did not finish; a second process on the file is refused meanwhile", async () => {
    const d = dir();
    const ckpt = join(d, "run.ckpt");
    const executions = join(d, "executions");
    const first = run(ckpt, executions, "hang");
    await until(() => lines(executions).length === 6, 60_000); // steps 0-4 done, 5 hangs
    expect(lines(executions)).toEqual(["0", "1", "2", "3", "4", "5"]);
    // steps 0-4 settled, so their records are on disk
    expect(lines(ckpt).length).toBe(1 + 5);

    const err = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointLockedError);
    expect((err as CheckpointLockedError).pid).toBe(first.child.pid);
    expect((err as Error).message).toMatch(/in use by process \d+/);

    first.child.kill("SIGKILL");
    await first.out;
    expect(alive(first.child.pid!)).toBe(false);

    const second = await run(ckpt, executions, "finish").out;
    expect(second.stdout, second.stderr).toBe("result 45 finish\n");
    expect(lines(executions)).toEqual(["0", "1", "2", "3", "4", "5", "5", "6", "7", "8", "9"]);

    // finished: a rerun executes nothing
    const third = await run(ckpt, executions, "finish").out;
    expect(third.stdout, third.stderr).toBe("result 45 finish\n");
    expect(lines(executions).length).toBe(11);
  }, 180_000);

  it("a checkpoint in a directory that does not exist is an options error naming the path, not the lock file", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "af-ckpt-")), "missing");
    const err = (await WorkflowEngine.create({ checkpoint: join(dir, "run.ckpt"), handleSignals: false }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err.message).toBe(`WorkflowEngine.create: option \`checkpoint\`: cannot open ${join(dir, "run.ckpt")}: its directory ${dir} does not exist`);
  });

  it("a torn last record (a kill during a write) is ignored and cut off, not fatal", async () => {
    const d = dir();
    const ckpt = join(d, "run.ckpt");
    const executions = join(d, "executions");
    expect((await run(ckpt, executions, "finish").out).stdout).toBe("result 45 finish\n");
    const whole = readFileSync(ckpt, "utf8");
    const records = whole.split("\n").filter((l) => l !== "");
    // the last record torn half-way, as a crash during its write leaves it
    writeFileSync(ckpt, `${records.slice(0, -1).join("\n")}\n${records.at(-1)!.slice(0, 20)}`);
    const again = await run(ckpt, executions, "finish").out;
    expect(again.stdout, again.stderr).toBe("result 45 finish\n");
    expect(lines(executions).slice(10)).toEqual(["9"]); // only the torn step ran again
    expect(readFileSync(ckpt, "utf8")).toBe(whole.replace(records.at(-1)!, lines(ckpt).at(-1)!));
    expect(lines(ckpt).every((l) => JSON.parse(l) !== null)).toBe(true);
    // torn garbage of no task of ours, and a rerun that writes nothing: cut off all the same
    const clean = readFileSync(ckpt, "utf8");
    appendFileSync(ckpt, '{"k":"nobody@1#x","v":"a long value, torn before its end');
    expect((await run(ckpt, executions, "finish").out).stdout).toBe("result 45 finish\n");
    expect(lines(executions).length).toBe(11);
    expect(readFileSync(ckpt, "utf8")).toBe(clean);
  }, 120_000);
});

describe("task identity", () => {
  /** One run of base(2) -> plus, `base` made from the source `expr` (as an edited file would give it). */
  async function once(ckpt: string, expr: string, version?: string): Promise<{ value: number; runs: string[] }> {
    const runs: string[] = [];
    const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a body from source text, as an edited file gives it
      const make = new Function("runs", `return function base(x) { runs.push("base"); return ${expr}; }`) as (runs: string[]) => (x: number) => number;
      const body = make(runs);
      const base = flow.functionTask(body, { version });
      const plus = flow.functionTask(function plus(x: number) {
        runs.push("plus");
        return x + 1;
      });
      return { value: await plus(base(2)), runs };
    } finally {
      await flow.shutdown();
    }
  }

  it("a body edited without `version` is recomputed, and its dependents with it", async () => {
    const ckpt = join(dir(), "run.ckpt");
    expect(await once(ckpt, "x * 2")).toEqual({ value: 5, runs: ["base", "plus"] });
    expect(await once(ckpt, "x * 2")).toEqual({ value: 5, runs: [] });
    expect(await once(ckpt, "x * 3")).toEqual({ value: 7, runs: ["base", "plus"] });
  });

  it("with `version` pinned, an edited body keeps the old result", async () => {
    const ckpt = join(dir(), "run.ckpt");
    expect(await once(ckpt, "x * 2", "1")).toEqual({ value: 5, runs: ["base", "plus"] });
    expect(await once(ckpt, "x * 3", "1")).toEqual({ value: 5, runs: [] });
    expect(await once(ckpt, "x * 3", "2")).toEqual({ value: 7, runs: ["base", "plus"] });
  });
});

describe("what is checkpointed", () => {
  async function twice(body: (flow: WorkflowEngine, runs: string[]) => Promise<unknown>, ckpt = join(dir(), "run.ckpt")): Promise<[string[], string[]]> {
    const out: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const runs: string[] = [];
      const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false, workDir: dirname(ckpt) });
      try {
        await body(flow, runs);
      } finally {
        await flow.shutdown();
      }
      out.push(runs);
    }
    return out as [string[], string[]];
  }

  it("not: tasks with `checkpoint: false`, anonymous functions without a `name`, results that would not come back the same", async () => {
    const log = captureStderr();
    const [first, second] = await twice(async (flow, runs) => {
      const optedOut = flow.functionTask(function optedOut() { runs.push("optedOut"); return 1; }, { checkpoint: false });
      const anonymous = flow.functionTask(() => (runs.push("anonymous"), 2));
      flow.functionTask(() => 0); // a second one in the same engine: warned of once
      const named = flow.functionTask(() => (runs.push("named"), 3), { name: "named" });
      const withClass = flow.functionTask(function withClass() { runs.push("withClass"); return new URL("http://x/"); });
      const withMap = flow.functionTask(function withMap() { runs.push("withMap"); return new Map([[1n, new Date(0)]]); });
      await Promise.all([optedOut(), anonymous(), named(), withClass(), withMap()]);
    });
    expect(first.sort()).toEqual(["anonymous", "named", "optedOut", "withClass", "withMap"]);
    expect(second.sort()).toEqual(["anonymous", "optedOut", "withClass"]);
    // the user asked for checkpoints: the anonymous function that reruns is said, once per engine
    const warned = log.lines.filter((l) => /WARN anonymous an anonymous function is not checkpointed \(a rerun after a crash runs it again\): give it a `name`/.test(l));
    expect(warned).toHaveLength(2);
  });

  it("not: functions whose source cannot be read (bound, built-in) unless given a `version`: an edit would not change their identity", async () => {
    const log = captureStderr();
    function price(base: number, runs: string[], tag: string): number {
      runs.push(tag);
      return base * 2;
    }
    const [first, second] = await twice(async (flow, runs) => {
      const bound = flow.functionTask(price.bind(null, 1000, runs, "bound"));
      const versioned = flow.functionTask(price.bind(null, 1000, runs, "versioned"), { name: "versioned", version: 1 });
      const builtin = flow.functionTask(Math.max);
      await Promise.all([bound(), versioned(), builtin(1, 2)]);
    });
    expect(first.sort()).toEqual(["bound", "versioned"]);
    expect(second).toEqual(["bound"]);
    const warned = log.lines.filter((l) => /WARN (bound price|max) a function whose source cannot be read \(a bound function, a built-in\) is not checkpointed .*give it a `version`/.test(l));
    expect(warned).toHaveLength(2); // once per engine
  });

  it("executables with captureStdio keep their output files: a resumed task hands the same path, still there", async () => {
    const d = dir();
    const paths: string[] = [];
    const [first, second] = await twice(async (flow, runs) => {
      const echo = flow.executableTask(function echo(s: string) { runs.push("echo"); return ["echo", s]; }, { captureStdio: true });
      paths.push(await echo("kept"));
    }, join(d, "run.ckpt"));
    expect([first, second]).toEqual([["echo"], []]);
    expect(paths[1]).toBe(paths[0]);
    expect(readFileSync(paths[0]!, "utf8")).toBe("kept\n");
  });

  it("stays bounded when the program reruns often with changing inputs (compaction at shutdown)", async () => {
    const ckpt = join(dir(), "run.ckpt");
    for (let run = 0; run < 6; run++) {
      const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
      const stamp = flow.functionTask(function stamp(i: number, r: number) { return i * r; });
      await Promise.all(Array.from({ length: 20 }, (_, i) => stamp(i, run)));
      await flow.shutdown();
      expect(lines(ckpt).length).toBeLessThanOrEqual(1 + 2 * 20);
    }
  });

  it("a rerun that stopped short (a failure upstream) keeps the records it did not get to ask for", async () => {
    const ckpt = join(dir(), "run.ckpt");
    let ran = 0;
    const once = async (broken: boolean): Promise<void> => {
      const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
      try {
        const config = flow.functionTask(function config() {
          if (broken) throw new Error("no config today");
          return 1;
        }, { checkpoint: false });
        const work = flow.functionTask(function work(i: number, c: number) {
          ran++;
          return i * c;
        });
        // one task that gets its record in every run: without any, there would be nothing to compact to
        const base = flow.functionTask(function base() {
          return 1;
        });
        await base();
        const c = config();
        await Promise.allSettled(Array.from({ length: 20 }, (_, i) => work(i, c)));
      } finally {
        await flow.shutdown();
      }
    };
    await once(false);
    expect([ran, lines(ckpt).length]).toEqual([20, 22]);
    await once(true); // every work fails on its input: it asks for no record, and none is dropped
    expect(lines(ckpt).length).toBe(22);
    await once(false);
    expect(ran).toBe(20);
  });

  it("a rerun stopped short by what keeps no record (a task without checkpoint failing between stages, a signal) drops no record", async () => {
    const ckpt = join(dir(), "run.ckpt");
    let ran = 0;
    const once = async (broken: boolean): Promise<void> => {
      const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
      try {
        const step = flow.functionTask(function step(i: number) {
          ran++;
          return i;
        });
        const check = flow.functionTask(() => {
          if (broken) throw new Error("stage check failed");
        }, { name: "check", checkpoint: false });
        await Promise.all([step(0), step(1)]);
        await check();
        await Promise.all(Array.from({ length: 8 }, (_, i) => step(i + 2)));
      } catch {
        // the program stops between its stages
      } finally {
        await flow.shutdown();
      }
    };
    await once(false);
    expect([ran, lines(ckpt).length]).toEqual([10, 11]);
    await once(true); // two records asked for, ten held: compacting would drop eight
    expect(lines(ckpt).length).toBe(11);
    await once(false);
    expect(ran).toBe(10);
    // SIGTERM between stages (the engine handles it): shut down, exit 143, nothing dropped
    const d = dirname(ckpt);
    const flowCkpt = join(d, "flow.ckpt");
    const executions = join(d, "executions");
    expect((await run(flowCkpt, executions, "finish").out).stdout).toBe("result 45 finish\n");
    const staged = run(flowCkpt, executions, "stage");
    let out = "";
    staged.child.stdout!.on("data", (b: Buffer) => (out += String(b)));
    await until(() => out.includes("stage 1"), 30_000);
    staged.child.kill("SIGTERM");
    expect((await staged.out).code).toBe(143);
    expect(lines(flowCkpt)).toHaveLength(11);
  }, 120_000);

  it("a record whose value cannot be read back is a miss, said once: its task runs again and records it anew", async () => {
    const ckpt = join(dir(), "run.ckpt");
    let ran = 0;
    const once = async (): Promise<Map<number, number>> => {
      const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
      try {
        const mkMap = flow.functionTask(function mkMap(n: number) {
          ran++;
          return new Map([[n, n]]);
        });
        return await mkMap(1);
      } finally {
        await flow.shutdown();
      }
    };
    await once();
    writeFileSync(ckpt, readFileSync(ckpt, "utf8").replace(/"\$asyncflow\.v8":"[^"]*"/, '"$asyncflow.v8":"!!garbage!!"'));
    const err = captureStderr();
    expect(await once()).toEqual(new Map([[1, 1]]));
    expect(ran).toBe(2);
    expect(err.text()).toMatch(/WARN .*run\.ckpt checkpoint: a record cannot be read back \(.*\): its task runs again/);
    expect(await once()).toEqual(new Map([[1, 1]]));
    expect(ran).toBe(2);
  });

  it("a create that fails after opening the checkpoint (a trace it cannot write) lets go of it", async () => {
    const ckpt = join(dir(), "run.ckpt");
    await expect(WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false, trace: "/no/such/dir/t.jsonl" })).rejects.toBeInstanceOf(InvalidOptionsError);
    const flow = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
    await flow.shutdown();
  });

  it("two engines of one process on one file: the second is refused, and gets it once the first shut down", async () => {
    const ckpt = join(dir(), "run.ckpt");
    const a = await WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false });
    await expect(WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false })).rejects.toThrow(/in use by process \d+ \(this one: another engine\)/);
    await a.shutdown();
    const b = await WorkflowEngine.create({ checkpoint: { path: ckpt, sync: false }, handleSignals: false });
    await b.shutdown();
  });

  it("a file that is not a checkpoint is refused, untouched", async () => {
    const ckpt = join(dir(), "notes.txt");
    writeFileSync(ckpt, "my notes\n");
    await expect(WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false })).rejects.toThrow(/is not an asyncflow checkpoint file/);
    expect(readFileSync(ckpt, "utf8")).toBe("my notes\n");
    appendFileSync(ckpt, ""); // still ours to write: the lock was released
    await expect(WorkflowEngine.create({ checkpoint: ckpt, handleSignals: false })).rejects.toThrow(/is not an asyncflow checkpoint file/);
    // one line and no newline at its end (a JSON config, say): not a torn header either
    const config = join(dir(), "config.json");
    writeFileSync(config, '{"important": "user data"}');
    await expect(WorkflowEngine.create({ checkpoint: config, handleSignals: false })).rejects.toThrow(/is not an asyncflow checkpoint file/);
    expect(readFileSync(config, "utf8")).toBe('{"important": "user data"}');
  });
});
