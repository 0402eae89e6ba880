/**
 * `npm run bench [-- case ...] [--quick] [--json] [--record] [--node 24|20,24]`:
 * runs the named cases (all by default), printing for each our figure, the
 * baseline measured in the same run, and the ratio; `--node` runs it under
 * those Node majors instead of this one. A full run of all cases rewrites
 * this Node's table in bench/results/ and, from every table there,
 * bench/RESULTS.md; `--record` with cases named replaces only their rows, and
 * the table says which rows came from which run.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { parseNodeFlag, runUnder } from "./node.js";

const resultsDir = new URL("./results/", import.meta.url);

/** bench/RESULTS.md from every Node version's table in bench/results/ and bench/FINDINGS.md. */
function writeResults(): void {
  const tables = readdirSync(resultsDir)
    .filter((f) => /^node-\d+\.md$/.test(f))
    .sort((a, b) => parseInt(b.slice(5), 10) - parseInt(a.slice(5), 10))
    .map((f) => readFileSync(new URL(f, resultsDir), "utf8"));
  const doc = `# Benchmark results\n\nCommand: \`npm run bench -- --node 20,24\` (one full run per Node version; each table is written by a full run on that version, except rows its header says were replaced by a later run of their case alone, \`npm run bench -- <case> --record\`). Ours runs in the bench process; the floors (plain promises) and the peers run in a clean child process that never loaded asyncflow, in rounds interleaved with ours; median of at least 7 rounds after 2 warm-ups, range in brackets (slow peers: 3 rounds, async.auto 1). Figures are per unit (us/task etc.) unless the metric says otherwise. The runs behind these tables had the machine to themselves (2026-12-01); under load absolute figures are noisy, and the same-run ratios are what count. Findings are kept in \`bench/FINDINGS.md\`; \`npm run bench -- --rewrite\` rebuilds this file from the tables and the findings.\n\n${tables.join("\n")}\n${readFileSync(new URL("./FINDINGS.md", import.meta.url), "utf8")}`;
  writeFileSync(new URL("./RESULTS.md", import.meta.url), doc);
}

if (process.argv.includes("--rewrite")) {
  writeResults();
  process.exit(0);
}

const { versions, rest: argv } = (() => {
  try {
    return parseNodeFlag(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
})();
if (versions !== null) process.exit(runUnder(versions, argv));

const { cases } = await import("./cases.js");
const { closeCleanProcess } = await import("./clean/index.js");
const { printRow, show } = await import("./harness.js");
type Row = import("./harness.js").Row;
type Settings = import("./harness.js").Settings;

const quick = argv.includes("--quick");
const json = argv.includes("--json");
const names = argv.filter((a) => !a.startsWith("--"));
const unknown = names.filter((n) => !(n in cases));
if (unknown.length > 0) {
  console.error(`unknown case(s) ${unknown.join(", ")}: choose from ${Object.keys(cases).join(", ")}`);
  process.exit(2);
}
if (typeof (globalThis as { gc?: unknown }).gc !== "function") {
  console.error("run with --expose-gc (npm run bench does)");
  process.exit(2);
}
const settings: Settings = { quick, repeats: quick ? 1 : 5, warmup: quick ? 0 : 2 };
const selected = names.length > 0 ? names : Object.keys(cases);
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}, ${process.platform}`;
console.log(`asyncflow benchmarks: ${machine}${quick ? " (quick)" : ""}`);

const rows: Row[] = [];
for (const name of selected) {
  for (const row of await cases[name]!(settings)) {
    printRow(row);
    rows.push(row);
  }
}

await closeCleanProcess();
if (json) writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2));
const record = argv.includes("--record");
if (!quick && (names.length === 0 || record)) {
  const line = (r: Row): string =>
    `| ${r.case} | ${show(r.ours)} ${r.metric} | ${r.baselineName}: ${show(r.baseline)} | ${r.ratio === null ? "-" : r.ratio.toFixed(2)} | ${r.target} | ${r.pass === null ? "-" : r.pass ? "yes" : "**no**"} | ${Object.entries(r.peers).map(([k, v]) => `${k} ${Number.isNaN(v.median) ? "fails" : v.median.toFixed(2)}`).join("; ")}${r.note ? `${Object.keys(r.peers).length > 0 ? "; " : ""}${r.note}` : ""} |`;
  const major = process.versions.node.split(".")[0]!;
  const file = new URL(`node-${major}.md`, resultsDir);
  const today = new Date().toISOString().slice(0, 10);
  mkdirSync(resultsDir, { recursive: true });
  if (names.length === 0) {
    const table = ["| case | ours | baseline (same run) | ratio | target | met | peers |", "|---|---|---|---|---|---|---|", ...rows.map(line)].join("\n");
    writeFileSync(file, `## Node ${major}\n\nMachine: ${machine}. Date: ${today}.\n\n${table}\n`);
  } else {
    // `--record` with cases named: their rows replace the same rows of the last full run's table, which says so.
    const lines = readFileSync(file, "utf8").split("\n");
    for (const r of rows) {
      const at = lines.findIndex((l) => l.startsWith(`| ${r.case} |`));
      if (at < 0) throw new Error(`bench/results/node-${major}.md has no row "${r.case}" to replace: make a full run`);
      lines[at] = line(r);
    }
    const header = lines.findIndex((l) => l.startsWith("Machine: "));
    // A recorded run may come from another machine than the full run's: the note then names it.
    const elsewhere = lines[header]!.startsWith(`Machine: ${machine}.`) ? "" : ` on ${machine}`;
    const note = `Rows of ${names.join(", ")} from a run of ${names.length === 1 ? "that case" : "those cases"} alone (\`npm run bench -- ${names.join(" ")} --record\`), ${today}${elsewhere}.`;
    lines[header] = `${lines[header]!.replace(/ Rows of .*$/, "")} ${note}`;
    writeFileSync(file, lines.join("\n"));
  }
  writeResults();
  console.log(`wrote bench/results/node-${major}.md and bench/RESULTS.md`);
}
const missed = rows.filter((r) => r.pass === false);
if (missed.length > 0) console.log(`targets missed: ${missed.map((r) => r.case).join("; ")}`);
