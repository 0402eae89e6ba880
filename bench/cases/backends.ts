/** The backend cases: worker threads against raw Piscina, executables against raw execFile, and the cost of importing the package. */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { promisify } from "node:util";
import PQueue from "p-queue";
import { Piscina } from "piscina";
import { LocalBackend, ThreadBackend, WorkflowEngine } from "../../lib/index.js";
import { alternate, sample, summarize } from "../harness.js";
import { tasksPerSecond } from "../runners.js";
import { engine, n, type Case } from "./common.js";

/** When the newest engine or backend source was changed: a dist/ older than that is rebuilt before it is timed. */
function newestSource(): number {
  let newest = 0;
  for (const dir of ["lib", "backends"]) {
    const root = new URL(`../../${dir}/`, import.meta.url);
    for (const f of readdirSync(root, { recursive: true, encoding: "utf8" })) newest = Math.max(newest, statSync(new URL(f, root)).mtimeMs);
  }
  return newest;
}

export const backendCases: Record<string, Case> = {
  async threads(s) {
    const count = n(s, 100_000, 2_000);
    const file = new URL("../fixtures/work.mjs", import.meta.url);
    const threads = availableParallelism();
    const pool = new Piscina({ filename: file.href, maxThreads: threads, minThreads: threads, idleTimeout: 30_000 });
    const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: [new LocalBackend(), new ThreadBackend({ maxThreads: threads, minThreads: threads })] });
    try {
      const noop = flow.functionTask((x: number) => x, { name: "noop", backend: "threads", module: file });
      const raw = await sample(s, async () => {
        const t0 = performance.now();
        const ps = new Array<Promise<unknown>>(count);
        for (let i = 0; i < count; i++) ps[i] = pool.run({ op: "noop", x: i });
        await Promise.all(ps);
        return count / ((performance.now() - t0) / 1000);
      });
      const ours = await sample(s, () => tasksPerSecond(noop, count));
      const ratio = ours.median / raw.median;
      return [{ case: `threads: ${count.toLocaleString("en")} no-op tasks`, metric: "tasks/s", ours, baselineName: "raw Piscina", baseline: raw, ratio, peers: {}, target: ">= 0.8 of raw Piscina", pass: ratio >= 0.8 }];
    } finally {
      await Promise.all([flow.shutdown(), pool.destroy()]);
    }
  },

  async "threads-cpu"(s) {
    const count = n(s, 400, 20);
    const file = new URL("../fixtures/work.mjs", import.meta.url);
    const { spin1ms } = (await import(file.href)) as { spin1ms: (x: number) => number };
    const pool = new Piscina({ filename: file.href, maxThreads: 2, minThreads: 2 });
    const flow = await WorkflowEngine.create({ handleSignals: false, history: 0, backend: new ThreadBackend({ maxThreads: 2, minThreads: 2 }) });
    try {
      const spin = flow.functionTask((x: number) => x, { name: "spin1ms", module: file });
      const serial = await sample(s, async () => {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) spin1ms(i);
        return performance.now() - t0;
      });
      const raw = await sample(s, async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: count }, (_, i) => pool.run({ op: "spin", x: i })));
        return performance.now() - t0;
      });
      const ours = await sample(s, async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: count }, (_, i) => spin(i)));
        return performance.now() - t0;
      });
      const speedup = serial.median / ours.median;
      return [
        {
          case: `threads: ${count} x 1 ms CPU on 2 threads`,
          metric: "ms total",
          ours,
          baselineName: "serial",
          baseline: serial,
          ratio: speedup,
          peers: { "raw Piscina speedup": { ...raw, median: serial.median / raw.median } },
          target: "speedup >= 1.6x",
          pass: speedup >= 1.6,
          note: "ratio = speedup over serial",
        },
      ];
    } finally {
      await Promise.all([flow.shutdown(), pool.destroy()]);
    }
  },

  async exec(s) {
    const count = n(s, 200, 20);
    const cores = availableParallelism();
    const run = promisify(execFile);
    const flow = await engine();
    try {
      const tru = flow.executableTask(() => ["/bin/true"], { name: "true" });
      const [raw, ours] = await alternate(
        s,
        async () => {
          const q = new PQueue({ concurrency: cores });
          const t0 = performance.now();
          await Promise.all(Array.from({ length: count }, () => q.add(() => run("/bin/true"))));
          return count / ((performance.now() - t0) / 1000);
        },
        async () => {
          const t0 = performance.now();
          await Promise.all(Array.from({ length: count }, () => tru()));
          return count / ((performance.now() - t0) / 1000);
        },
      );
      const ratio = ours.median / raw.median;
      return [{ case: `exec: ${count} x /bin/true`, metric: "spawns/s", ours, baselineName: `raw execFile (${cores} at a time)`, baseline: raw, ratio, peers: {}, target: ">= 0.8 of raw execFile", pass: ratio >= 0.8 }];
    } finally {
      await flow.shutdown();
    }
  },

  /** `import "asyncflow"` in a fresh process, from the built package: time, and which packages it loads. */
  async import(s) {
    const entry = new URL("../../dist/lib/index.js", import.meta.url).pathname;
    if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource()) execFileSync("npm", ["run", "build"], { stdio: "ignore" });
    // Timed without NODE_DEBUG (its log line per module costs ~10 ms here); a separate run with it lists the packages loaded.
    const once = (what: string, debug = false): { ms: number; stderr: string } => {
      const r = spawnSync(
        process.execPath,
        ["--input-type=module", "-e", `const t = performance.now(); await import(${JSON.stringify(what)}); console.log(performance.now() - t);`],
        // Node 24's esm debug log prints whole module records: far over spawnSync's default 1 MB buffer
        { encoding: "utf8", env: debug ? { ...process.env, NODE_DEBUG: "esm" } : process.env, maxBuffer: 256 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`import failed (run npm run build first): ${r.stderr}`);
      return { ms: Number(r.stdout.trim().split("\n").pop()), stderr: r.stderr };
    };
    const runs = Array.from({ length: s.quick ? 2 : 7 }, () => once(entry));
    const baseRuns = Array.from({ length: s.quick ? 2 : 7 }, () => once("node:path"));
    const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ms = med(runs.map((r) => r.ms));
    const base = med(baseRuns.map((r) => r.ms));
    const loaded = [...new Set([...once(entry, true).stderr.matchAll(/node_modules\/((?:@[^/'",\s]+\/)?[^/'",\s]+)/g)].map((m) => m[1]!))].sort().join(", ");
    const heavy = /piscina|bullmq/.test(loaded);
    return [{ case: 'import "asyncflow"', metric: "ms", ours: summarize(runs.map((r) => r.ms)), baselineName: "import node:path", baseline: summarize(baseRuns.map((r) => r.ms)), ratio: ms / base, peers: {}, target: "<= 50 ms, no piscina/bullmq", pass: ms <= 50 && !heavy, note: `packages loaded: ${loaded || "none"}` }];
  },
};
