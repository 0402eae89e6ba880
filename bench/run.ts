/**
 * `npm run bench [-- case ...] [--quick] [--json]`: runs the named cases (all
 * by default), printing for each our figure, the baseline measured in the same
 * run, and the ratio. A full run of all cases rewrites bench/RESULTS.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { cases } from "./cases.js";
import { printRow, show, type Row, type Settings } from "./harness.js";

const argv = process.argv.slice(2);
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

if (json) writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2));
if (!quick && names.length === 0) {
  const table = [
    "| case | ours | baseline (same run) | ratio | target | met | peers |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.case} | ${show(r.ours)} ${r.metric} | ${r.baselineName}: ${show(r.baseline)} | ${r.ratio === null ? "-" : r.ratio.toFixed(2)} | ${r.target} | ${r.pass === null ? "-" : r.pass ? "yes" : "**no**"} | ${Object.entries(r.peers).map(([k, v]) => `${k} ${v.median.toFixed(2)}`).join("; ")}${r.note ? `${Object.keys(r.peers).length > 0 ? "; " : ""}${r.note}` : ""} |`,
    ),
  ].join("\n");
  const doc = `# Benchmark results\n\nMachine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.\nCommand: \`npm run bench\` (median of at least 5 runs and 0.5 s after at least 2 warm-ups and 0.3 s; range in brackets). Figures are per unit (us/task etc.) unless the metric says otherwise. This file is written by a full \`npm run bench\`; the findings below are kept in \`bench/FINDINGS.md\`.\n\n${table}\n\n${readFileSync(new URL("./FINDINGS.md", import.meta.url), "utf8")}`;
  writeFileSync(new URL("./RESULTS.md", import.meta.url), doc);
  console.log("wrote bench/RESULTS.md");
}
const missed = rows.filter((r) => r.pass === false);
if (missed.length > 0) console.log(`targets missed: ${missed.map((r) => r.case).join("; ")}`);
