/**
 * The user's path: async bodies, futures as arguments, `await Promise.all` /
 * `await root`, against the same calling code on plain async functions run
 * in a clean process (one that never loaded asyncflow), rounds interleaved.
 */
import { FAILED, gc, interleave, usPer, type Contender, type Row, type Sample, type Settings } from "../harness.js";
import { cleanProcess } from "../clean/index.js";
import { runUser, userUnits, type UserShape, type Workload } from "../clean/workloads.js";
import { pendingBytes, plainTask, type MakeTask } from "../user.js";
import { engine, n, type Case } from "./common.js";

const major = Number(process.versions.node.split(".")[0]);

/** The targets, per Node version: ratio to plain promises in a clean process, same run. */
const limit = (t: { node24: number; node20: number }): number => (major >= 24 ? t.node24 : t.node20);
const SHAPE = { node24: 5, node20: 8 };
const LAYERED = { node24: 4, node20: 6 };

type Peer = "p-graph" | "p-queue" | "async.auto";

const sampleOf = (x: Sample | Error | undefined): Sample | null => (x === undefined ? null : x instanceof Error ? FAILED : x);

async function userRow(s: Settings, label: string, shape: UserShape, size: number, unit: string, max: number, peers: Peer[]): Promise<Row> {
  const flow = await engine();
  const clean = await cleanProcess();
  try {
    const make: MakeTask = (fn) => flow.functionTask(fn, { name: "work" });
    const units = userUnits(shape, size);
    const inClean = (who: Extract<Workload, { run: "user" }>["who"]): Contender => ({
      run: () => clean.run({ run: "user", who, shape, size }),
      rounds: who === "promises" ? undefined : who === "async.auto" ? 1 : 3,
    });
    const contenders: Record<string, Contender> = { ours: { run: () => usPer(units, () => runUser(make, shape, size)) }, promises: inClean("promises") };
    for (const p of peers) contenders[p] = inClean(p);
    const got = await interleave(s, contenders);
    const ours = got["ours"]!;
    if (got["promises"] instanceof Error) throw got["promises"]; // the floor failing is the bench's fault
    const floor = sampleOf(got["promises"]);
    const ratio = ours instanceof Error || floor === null ? null : ours.median / floor.median;
    const peerSamples: Record<string, Sample> = {};
    for (const p of peers) peerSamples[p] = sampleOf(got[p])!;
    return {
      case: label,
      metric: `us/${unit}`,
      ours: sampleOf(ours)!,
      baselineName: "promises, clean process",
      baseline: floor,
      ratio,
      peers: peerSamples,
      target: `ratio <= ${max} (Node ${major >= 24 ? ">= 24" : "< 24"})`,
      pass: ratio !== null && ratio <= max,
      note: ours instanceof Error ? `fails: ${ours.message.slice(0, 80)}` : undefined,
    };
  } finally {
    await flow.shutdown();
  }
}

export const userCases: Record<string, Case> = {
  "user-independent": (s) =>
    Promise.all([userRow(s, `user: independent ${n(s, 100_000, 1_000).toLocaleString("en")} (await Promise.all)`, "independent", n(s, 100_000, 1_000), "task", limit(SHAPE), ["p-graph", "p-queue"])]),

  "user-chain": (s) => Promise.all([userRow(s, `user: chain of ${n(s, 10_000, 200).toLocaleString("en")} (await last)`, "chain", n(s, 10_000, 200), "hop", limit(SHAPE), ["p-graph"])]),

  async "user-fanin"(s) {
    const size = n(s, 100_000, 1_000);
    const per = size.toLocaleString("en");
    return [
      await userRow(s, `user: fan-out/fan-in ${per}, sink(...futures)`, "fan-in spread", size, "child", limit(SHAPE), []),
      // the issue sets its target for the spread form; the array form is held to the same one
      await userRow(s, `user: fan-out/fan-in ${per}, sink(futures)`, "fan-in array", size, "child", limit(SHAPE), []),
    ];
  },

  "user-layered": (s) => Promise.all([userRow(s, `user: layered ${s.quick ? "10x10" : "100x100"} (random, seeded)`, "layered", s.quick ? 10 : 100, "node", limit(LAYERED), ["p-graph", "async.auto"])]),

  /** Awaited futures while they wait: every body suspended, the caller in `await Promise.all`. */
  async "user-pending"(s) {
    const count = n(s, 1_000_000, 10_000);
    const flow = await engine();
    const clean = await cleanProcess();
    try {
      const make: MakeTask = (fn) => flow.functionTask(fn, { name: "wait" });
      const got = await interleave({ ...s, warmup: 0, repeats: s.quick ? 1 : 3 }, {
        ours: { run: () => pendingBytes(make, count, gc), rounds: s.quick ? 1 : 3 },
        promises: { run: () => clean.run({ run: "pending", size: count }), rounds: s.quick ? 1 : 3 },
      });
      const ours = sampleOf(got.ours)!;
      const floor = sampleOf(got.promises)!;
      return [
        {
          case: `user: ${count.toLocaleString("en")} awaited futures pending`,
          metric: "B/task",
          ours,
          baselineName: "promises, clean process",
          baseline: floor,
          ratio: ours.median / floor.median,
          peers: {},
          target: "<= 600 B/task",
          pass: ours.median <= 600,
        },
      ];
    } finally {
      await flow.shutdown();
    }
  },

  /**
   * What asyncflow costs the rest of the program: the plain-promise workload
   * of user-independent in this process, after asyncflow has run a task,
   * against the same in the clean process.
   */
  async "promise-tax"(s) {
    const size = n(s, 100_000, 1_000);
    const flow = await engine();
    const clean = await cleanProcess();
    try {
      await flow.functionTask(async () => 0)();
      const got = await interleave(s, {
        here: { run: () => usPer(size, () => runUser(plainTask, "independent", size)) },
        clean: { run: () => clean.run({ run: "user", who: "promises", shape: "independent", size }) },
      });
      const here = sampleOf(got.here)!;
      const floor = sampleOf(got.clean)!;
      return [
        {
          case: `your promises after asyncflow ran (independent ${size.toLocaleString("en")}, plain)`,
          metric: "us/task",
          ours: here,
          baselineName: "same, clean process",
          baseline: floor,
          ratio: here.median / floor.median,
          peers: {},
          target: "- (reported: AsyncLocalStorage's promise hooks on Node 20)",
          pass: null,
        },
      ];
    } finally {
      await flow.shutdown();
    }
  },
};
