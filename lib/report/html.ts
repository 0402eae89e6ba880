/**
 * `asyncflow report --html`: one self-contained page (no network: the script,
 * the styles and the data are inline). The drawing runs in the browser from
 * `page/timeline.js` on canvases, so 100,000 tasks are a few draw calls per
 * visible row, not 100,000 DOM nodes.
 */
import { readFile } from "node:fs/promises";
import { STATE_COLOURS } from "./dot.js";
import { pageData } from "./embed.js";
import { ms } from "./format.js";
import type { LoadedTrace } from "./load.js";
import { failureCounts, failuresOf, type TracedTask } from "./model.js";
import type { NameStats } from "./stats.js";

/** The per-name table is sorted by total time; past this many names the rest are summed in one row. */
const NAMES_LISTED = 200;
const FAILURES_LISTED = 50;

export async function htmlReport(trace: LoadedTrace, path: readonly TracedTask[], stats: readonly NameStats[]): Promise<string> {
  const { session } = trace;
  const script = await readFile(new URL("./page/timeline.js", import.meta.url), "utf8");
  const data = pageData(session, path, trace.notes, trace.file);
  // Inside <script>, only "</script" or "<!--" could end or confuse the element: no "<" survives.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const counts = new Map<string, number>();
  for (const t of session.tasks.values()) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const origin = data.session.origin;
  const title = `asyncflow report: session ${session.sessionId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${esc(title)}</h1>
  <p class="meta">${esc(session.start ? `pid ${session.start.pid} on ${session.start.host}, backends ${session.start.backends.join(", ")}; ` : "")}started ${esc(new Date(origin).toISOString())};
  ${session.tasks.size.toLocaleString("en-US")} tasks over ${esc(ms(data.session.end))}:
  ${[...counts].map(([s, n]) => `<span class="chip" style="background:${STATE_COLOURS[s] ?? "#fff"}">${esc(s)} ${n.toLocaleString("en-US")}</span>`).join(" ")}
  ; critical path ${path.length} task(s)</p>
  ${trace.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("\n")}
</header>
<section>
  <div class="toolbar">
    <button id="fit" title="show the whole run">fit</button>
    <button id="zoom-in" title="zoom in (ctrl + wheel)">+</button>
    <button id="zoom-out" title="zoom out">&minus;</button>
    <label><input type="checkbox" id="critical-only"> critical path only</label>
    <input id="find" type="search" placeholder="jump to uid or name" size="24">
    <span class="legend">${LEGEND}</span>
  </div>
  <div id="gantt"><div id="gantt-spacer"></div><canvas id="gantt-canvas"></canvas></div>
  <div id="tip" hidden></div>
  <h2>Concurrency per backend</h2>
  <canvas id="concurrency"></canvas>
  <div id="details"></div>
</section>
<section>
  <h2>Per task name</h2>
  ${statsTable(stats)}
</section>
<section>
  <h2>Failures</h2>
  ${failures(trace)}
</section>
<script type="application/json" id="asyncflow-data">${json}</script>
<script>${script}</script>
</body>
</html>
`;
}

const LEGEND = [
  ["DONE", STATE_COLOURS.DONE],
  ["FAILED", STATE_COLOURS.FAILED],
  ["CANCELLED", STATE_COLOURS.CANCELLED],
  ["unfinished", STATE_COLOURS.RUNNING],
  ["waiting on inputs", "#eceff1"],
  ["queued", "#b0bec5"],
]
  .map(([label, colour]) => `<span class="swatch" style="background:${colour}"></span>${label}`)
  .concat(['<span class="swatch crit"></span>critical path', '<span class="retry">&#9660;</span>retry'])
  .join(" ");

function statsTable(stats: readonly NameStats[]): string {
  const cell = (v: number | undefined): string => `<td>${v === undefined ? "-" : esc(ms(v))}</td>`;
  const rows = stats.slice(0, NAMES_LISTED).map(
    (s) =>
      `<tr><th>${esc(s.name)}</th><td>${s.count}</td><td>${s.done}</td><td>${s.failed}</td><td>${s.cancelled}</td><td>${s.retries}</td>` +
      cell(s.duration?.mean) + cell(s.duration?.p50) + cell(s.duration?.p95) + cell(s.wait?.mean) + cell(s.wait?.p50) + cell(s.wait?.p95) + cell(s.totalMs) + "</tr>",
  );
  const more = stats.length > NAMES_LISTED ? `<tr><th colspan="13">${stats.length - NAMES_LISTED} more names</th></tr>` : "";
  return `<table id="stats"><thead><tr><th>name</th><th>count</th><th>done</th><th>failed</th><th>cancelled</th><th>retries</th><th>mean</th><th>p50</th><th>p95</th><th>wait mean</th><th>wait p50</th><th>wait p95</th><th>total</th></tr></thead>
<tbody>${rows.join("\n")}${more}</tbody></table>`;
}

function failures(trace: LoadedTrace): string {
  const kinds = failuresOf(trace.session);
  const failed = kinds.own;
  if (failed.length === 0 && kinds.shared === 0 && kinds.caused === 0) return "<p>none</p>";
  const items = failed
    .slice(0, FAILURES_LISTED)
    .map((t) => `<li><code>${esc(t.uid)}</code> ${esc(t.name)}: ${esc(t.error ? `${t.error.name}: ${t.error.message}` : "no error recorded")}</li>`);
  const more = failed.length > FAILURES_LISTED ? `<li>and ${failed.length - FAILURES_LISTED} more</li>` : "";
  return `<p>${failureCounts(kinds)}.</p><ul id="failures">${items.join("\n")}${more}</ul>`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CSS = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 0 16px 32px; color: #212121; }
h1 { font-size: 18px; margin: 12px 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
.meta { margin: 0; color: #424242; } .note { margin: 4px 0; color: #8d6e63; }
.chip { padding: 0 6px; border-radius: 8px; }
.toolbar { display: flex; gap: 8px; align-items: center; margin: 10px 0 6px; flex-wrap: wrap; }
.legend { color: #555; } .swatch { display: inline-block; width: 12px; height: 10px; margin: 0 3px 0 8px; border: 1px solid #999; vertical-align: -1px; }
.swatch.crit { border: 2px solid #6a1b9a; background: #fff; } .retry { color: #000; margin: 0 3px 0 8px; font-size: 10px; }
#gantt { position: relative; height: 62vh; min-height: 320px; overflow-y: auto; overflow-x: hidden; border: 1px solid #ccc; }
#gantt-canvas { position: sticky; top: 0; display: block; margin-top: 0; }
#gantt-spacer { position: absolute; top: 0; left: 0; width: 1px; }
#concurrency { display: block; width: 100%; height: 140px; border: 1px solid #ccc; }
#tip { position: fixed; pointer-events: none; background: #fffde7; border: 1px solid #bbb; padding: 4px 8px; max-width: 480px; white-space: pre-wrap; font-size: 12px; z-index: 10; }
#details { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; margin-top: 8px; }
table { border-collapse: collapse; } th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: right; } th:first-child { text-align: left; }
thead th { background: #f5f5f5; }
`;
