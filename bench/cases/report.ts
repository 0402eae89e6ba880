/**
 * The HTML report at 100,000 tasks: the page drawn in headless Chromium
 * (Debian's chromium), against the same page without its script (what
 * loading and parsing 9 MB costs the browser anyway). The page is built from
 * a seeded trace of the report tests' generator.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { runCli } from "../../lib/cli/main.js";
import { generateEvents, toJsonl } from "../../test/trace-gen.js";
import { summarize } from "../harness.js";
import { n, type Case } from "./common.js";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export const reportCase: Case = async (s) => {
  const tasks = n(s, 100_000, 1_000);
  const dir = new URL("../tmp/", import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const trace = `${dir}report.jsonl`;
  const page = `${dir}report.html`;
  const bare = `${dir}report-bare.html`;
  writeFileSync(trace, toJsonl(generateEvents({ seed: 100, tasks })));
  const t0 = performance.now();
  const code = await runCli(["report", trace, "--html", page], { out: () => {}, err: (e) => void process.stderr.write(e) });
  const buildMs = performance.now() - t0;
  if (code !== 0) throw new Error(`asyncflow report failed (${code})`);
  const html = readFileSync(page, "utf8");
  // The data stays (the browser parses it as text); the drawing script goes.
  writeFileSync(bare, html.replace(/<script>[\s\S]*?<\/script>/, "<script>window.asyncflowReport = { ready: true, renderMs: Math.round(performance.now()) };</script>"));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
  try {
    const open = async (file: string): Promise<number> => {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await p.route("**/*", (r) => (r.request().url().startsWith("file:") ? r.continue() : r.abort()));
      await p.goto(pathToFileURL(file).href);
      await p.waitForFunction(() => (globalThis as { asyncflowReport?: { ready?: boolean } }).asyncflowReport?.ready === true, null, { timeout: 60_000 });
      const ms = await p.evaluate(() => (globalThis as unknown as { asyncflowReport: { renderMs: number } }).asyncflowReport.renderMs);
      await p.close();
      return ms;
    };
    const ours: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < (s.quick ? 1 : 5); i++) {
      ours.push(await open(page));
      base.push(await open(bare));
    }
    const o = summarize(ours);
    const b = summarize(base);
    return [
      {
        case: `report page: ${tasks.toLocaleString("en-US")} tasks drawn`,
        metric: "ms after navigation",
        ours: o,
        baselineName: "same page without its script",
        baseline: b,
        ratio: o.median / b.median,
        peers: {},
        target: "< 10 s",
        pass: o.median < 10_000,
        note: `page ${(html.length / 1e6).toFixed(1)} MB, built by asyncflow report in ${(buildMs / 1000).toFixed(1)} s`,
      },
    ];
  } finally {
    await browser.close();
  }
};
