// The package as a user gets it: `npm pack`, installed into a fresh project,
// imported as "asyncflow" through its exports map, with types.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startRedis } from "./redis.js";
import { generateEvents, toJsonl } from "./trace-gen.js";
import { TEST_SECRET, TEST_SECRET_FILE, startWorkerProcess, stopWorkerProcess } from "./worker-process.js";

const root = new URL("..", import.meta.url).pathname;

describe("npm pack", () => {
  it("gives a tarball a fresh project installs, imports as asyncflow and type-checks against", () => {
    const dir = mkdtempSync(join(tmpdir(), "af-pack-"));
    // `prepare` builds dist/
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root, encoding: "utf8" });
    const tarball = join(dir, out.trim().split("\n").pop()!);
    const app = join(dir, "app");
    const modules = join(app, "node_modules");
    mkdirSync(join(modules, "asyncflow"), { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", join(modules, "asyncflow"), "--strip-components=1"]);
    // the package's dependencies come from this checkout's install (no network in tests)
    for (const name of readdirSync(join(root, "node_modules"))) {
      if (name !== "asyncflow" && !name.startsWith(".")) symlinkSync(join(root, "node_modules", name), join(modules, name));
    }
    expect(readdirSync(join(modules, "asyncflow")).sort()).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "dist", "package.json"]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
    writeFileSync(
      join(app, "main.ts"),
      `import { WorkflowEngine, TaskFuture, DependencyFailureError } from "asyncflow";
const flow = await WorkflowEngine.create();
try {
  const echo = flow.executableTask((n: number) => \`/bin/echo \${n}\`);
  const times = flow.functionTask(async (s: string, k: number) => Number(s.trim()) * k);
  const f: TaskFuture<number> = times(echo(5), 4);
  const r: number = await f;
  console.log(r, DependencyFailureError.name);
} finally {
  await flow.shutdown();
}
`,
    );
    // the README's tour, as a user would paste it
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const tour = /## Tour\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(tour).toBeDefined();
    writeFileSync(join(app, "tour.ts"), tour!);
    // the README's worker-thread snippet as written: its task module named `./tasks.js`, whose source is tasks.ts
    const threadsSnippet = /### Worker threads[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(threadsSnippet).toContain(`module: new URL("./tasks.js", import.meta.url)`);
    writeFileSync(join(app, "tasks.ts"), `export function resize(n: number): number {\n  return 2 * n;\n}\n`);
    writeFileSync(join(app, "threads.ts"), `${threadsSnippet!}console.log(await resizeT(21));\nawait flow.shutdown();\n`);
    // the README's contracts snippet as written, with an engine around it: what it says of add(2) and add(1.5)
    const contractsSnippet = /### Task contracts[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(contractsSnippet).toContain("exitCodes");
    writeFileSync(
      join(app, "contracts.ts"),
      `import { WorkflowEngine } from "asyncflow";\nconst flow = await WorkflowEngine.create();\n${contractsSnippet!}` +
        `console.log(await add(2));\ntry {\n  add(1.5);\n} catch (e) {\n  console.log((e as Error).name, (e as Error).message.split(":")[0]);\n}\nawait flow.shutdown();\n`,
    );
    // the engine's own fields stay out of the published types (type-checked only, never run)
    writeFileSync(
      join(app, "internals.ts"),
      `import type { TaskFuture } from "asyncflow";
export function poke(f: TaskFuture<number>): void {
  // @ts-expect-error -- internal
  f._attempts = null;
  // @ts-expect-error -- internal
  f._children = [];
  // @ts-expect-error -- internal
  void f._state;
}
`,
    );
    // the wrapper types as published: what they refuse, and what they must keep taking (test/types.test-d.ts says why)
    copyFileSync(new URL("./fixtures/pair.ts", import.meta.url), join(app, "pair.ts"));
    writeFileSync(
      join(app, "wrappers.ts"),
      `import type { FunctionTaskOptions, TaskFuture, TaskWrapper, WorkflowEngine } from "asyncflow";
import { z } from "zod";
import { Pair } from "./pair.js";
interface Job {
  id: number;
  describe(): string;
}
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export function go<T>(w: TaskWrapper<[T], number>, x: T): TaskFuture<number> {
  return w(x);
}
export function goObj<T extends object>(w: TaskWrapper<[T], number>, x: T): TaskFuture<number> {
  return w(x);
}
export function defOut<O extends z.ZodType>(flow: WorkflowEngine, output: O) {
  return flow.functionTask(async () => JSON.parse("1") as unknown, { output });
}
export function refuse(flow: WorkflowEngine): void {
  const obj = flow.functionTask((o: { a: number }) => o.a);
  const double = flow.functionTask((x: number) => x * 2);
  // @ts-expect-error -- a is required (an Edge was a type {} fitted)
  obj({});
  // @ts-expect-error -- {} is no number
  double({});
  const first = flow.functionTask((p: Pair<number>) => p.a);
  // @ts-expect-error -- the scan does not enter a Pair: the body would receive the future
  first(new Pair(double(1)));
  // @ts-expect-error -- the body returns a string, the schema takes numbers
  flow.functionTask((s: string) => s, { output: z.number() });
  // @ts-expect-error -- no option is named retrys
  flow.functionTask((a: number) => a, { name: "x", retrys: 2 });
}
export function take(flow: WorkflowEngine): TaskFuture<unknown>[] {
  const num = flow.functionTask(() => 1);
  const runJob = flow.functionTask((j: Job) => j.id);
  const render = flow.functionTask((o: { n: number; fmt: (x: number) => string }) => o.fmt(o.n));
  const json = flow.functionTask((x: Json) => x);
  const rec = flow.functionTask((x: Record<string, number>) => x);
  const orNull = flow.functionTask((x: number | null) => x);
  const declared: FunctionTaskOptions = { retries: 1 };
  const held = { retries: 1, output: z.number() };
  const coerced: TaskFuture<number> = flow.functionTask(() => "5", { output: z.coerce.number() })();
  return [
    runJob({ id: num(), describe: () => "x" }),
    render({ n: num(), fmt: (x) => String(x) }),
    json({ a: [num(), { b: num() }] }),
    rec({ a: num() }),
    orNull(num()),
    flow.functionTask((x: number) => x, declared)(1),
    flow.functionTask((x: number) => x * 2, held)(num()),
    coerced,
    defOut(flow, z.number())(),
  ];
}
`,
    );
    typeCheckAsConsumer(app);
    // plain JavaScript against the built package, worker threads included
    writeFileSync(
      join(app, "main.mjs"),
      `import { WorkflowEngine, LocalBackend, ThreadBackend } from "asyncflow";
const flow = await WorkflowEngine.create({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 2 })] });
try {
  const fib = flow.functionTask(function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }, { backend: "threads" });
  const total = flow.functionTask((xs) => xs.reduce((a, b) => a + b, 0));
  // the second figure: importing asyncflow sets no globals in the engine's process (workers get \`taskContext\`)
  console.log(await total([fib(10), fib(11)]), typeof globalThis.taskContext);
} finally {
  await flow.shutdown();
}
`,
    );
    const run = spawnSync(process.execPath, [join(app, "main.mjs")], { cwd: app, encoding: "utf8" });
    expect(run.stdout.trim(), run.stderr).toBe("144 undefined");
    const ts = spawnSync(process.execPath, ["--import", "tsx", join(app, "main.ts")], { cwd: app, encoding: "utf8" });
    expect(ts.stdout.trim(), ts.stderr).toBe("20 DependencyFailureError");
    const tourRun = spawnSync(process.execPath, ["--import", "tsx", join(app, "tour.ts")], { cwd: app, encoding: "utf8" });
    expect(tourRun.status, tourRun.stderr).toBe(0);
    expect(tourRun.stdout).toMatch(/^20 42 /);
    const threadsRun = spawnSync(process.execPath, ["--import", "tsx", join(app, "threads.ts")], { cwd: app, encoding: "utf8" });
    expect(threadsRun.stdout, threadsRun.stderr).toBe(`${832040 + 1346269 + 2178309}\n42\n`);
    const contractsRun = spawnSync(process.execPath, ["--import", "tsx", join(app, "contracts.ts")], { cwd: app, encoding: "utf8" });
    expect(contractsRun.stdout, contractsRun.stderr).toBe(`3\nInputValidationError Task "add"\n`);
    reportFromDist(app);
    return queueFromDist(app);
  }, 300_000); // four tsc runs and a pack: minutes on a loaded 2-core machine
});

/**
 * A consumer's `tsc` on TypeScript 7 (what `npm i typescript` installs) and 5.9, with the
 * options `tsc --init` of TypeScript 7 writes but no `types` (so each version's default:
 * none loaded on 7, every `@types` package on 5.9), with and without `skipLibCheck`: our
 * published declarations must load Node's types themselves where they use them.
 */
function typeCheckAsConsumer(app: string): void {
  for (const [pkg, major] of [["typescript7", "7"], ["typescript", "5"]] as const) {
    const tsc = join(root, "node_modules", pkg, "bin/tsc");
    const version = spawnSync(process.execPath, [tsc, "--version"], { encoding: "utf8" });
    expect(version.stdout).toMatch(new RegExp(`^Version ${major}\\.`));
    for (const skipLibCheck of [false, true]) {
      const compilerOptions = {
        module: "nodenext",
        target: "esnext",
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        moduleDetection: "force",
        noEmit: true,
        skipLibCheck,
      };
      writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions }));
      const run = spawnSync(process.execPath, [tsc, "-p", app], { encoding: "utf8" });
      expect(run.status, `${version.stdout.trim()}, skipLibCheck ${skipLibCheck}:\n${run.stdout}${run.stderr}`).toBe(0);
    }
  }
}

/** The built `asyncflow` bin (shebang, executable) reports a trace and writes the page, whose script was copied next to it. */
function reportFromDist(app: string): void {
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/asyncflow/package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = join(app, "node_modules/asyncflow", pkg.bin.asyncflow!);
  expect(readFileSync(bin, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
  const trace = join(app, "run.jsonl");
  writeFileSync(trace, toJsonl(generateEvents({ seed: 1, tasks: 50 })));
  const text = spawnSync(process.execPath, [bin, "report", trace], { cwd: app, encoding: "utf8" });
  expect(text.stdout, text.stderr).toMatch(/^session s1 .* 50 tasks/);
  const page = spawnSync(process.execPath, [bin, "report", trace, "--html", join(app, "run.html")], { cwd: app, encoding: "utf8" });
  expect(page.status, page.stderr).toBe(0);
  expect(readFileSync(join(app, "run.html"), "utf8")).toContain("asyncflowReport");
}

/** The built `asyncflow-worker` bin serves a QueueBackend of the built package: no tsx anywhere. */
async function queueFromDist(app: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/asyncflow/package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = join(app, "node_modules/asyncflow", pkg.bin["asyncflow-worker"]!);
  const redis = await startRedis();
  const started = await startWorkerProcess([bin, "--redis", redis.url, "--concurrency", "2", "--allow-source", "--allow-modules", app, "--secret-file", TEST_SECRET_FILE]);
  const worker = started.child;
  try {
    expect(started.serving, started.output).toBe(true);
    writeFileSync(
      join(app, "queue.mjs"),
      `import { WorkflowEngine, QueueBackend } from "asyncflow";
const flow = await WorkflowEngine.create({ backend: new QueueBackend({ connection: process.argv[2], secret: process.argv[3] }) });
try {
  const sq = flow.functionTask((x) => [x * x, process.pid]);
  const [r, pid] = await sq(12);
  // a module named as the .js its TypeScript source compiles to: the worker loads tasks.ts
  const resize = flow.functionTask((n) => n, { name: "resize", module: new URL("./tasks.js", import.meta.url) });
  console.log(r, pid !== process.pid, await resize(21));
} finally {
  await flow.shutdown();
}
`,
    );
    const run = spawnSync(process.execPath, [join(app, "queue.mjs"), redis.url, TEST_SECRET], { cwd: app, encoding: "utf8", timeout: 20_000 });
    expect(run.stdout.trim(), `${run.stderr}\n${started.output}`).toBe("144 true 42");
  } finally {
    await stopWorkerProcess(worker);
    await redis.stop();
  }
}
