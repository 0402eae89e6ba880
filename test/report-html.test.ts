// The HTML report opened in headless Chromium (Debian's chromium, driven by playwright-core) with every
// network request aborted: the page renders, the Gantt and the critical path are drawn, a 100,000-task trace opens.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../lib/cli/main.js";
import { criticalPath } from "../lib/report/critical.js";
import { loadTrace } from "../lib/report/load.js";
import { generateEvents, handEvents, toJsonl, type HandTask } from "./trace-gen.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const dir = mkdtempSync(join(tmpdir(), "af-html-"));

/** What the page sets on window once drawn (lib/report/page/timeline.js). */
interface ReportStatus {
  ready: boolean;
  tasks: number;
  rows: number;
  barsDrawn: number;
  criticalPath: string[];
  criticalDrawn: number;
  retriesDrawn: number;
  backends: string[];
  concurrencyMax: Record<string, number>;
  renderMs: number;
  frames: number;
}
// The page's globals as the callbacks below (serialized, run in the browser: no closures) use them; tests type-check without the DOM library.
interface CanvasLike {
  width: number;
  height: number;
  getBoundingClientRect(): { left: number; top: number; width: number };
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface PageGlobals {
  asyncflowReport?: ReportStatus & { probe(uid: string): { x: number; y: number } | null };
  document: { getElementById(id: string): (CanvasLike & { scrollTop: number; scrollHeight: number }) | null; querySelectorAll(selector: string): { length: number } };
}


let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function html(name: string, trace: string): Promise<string> {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, trace);
  const page = join(dir, `${name}.html`);
  let err = "";
  const code = await runCli(["report", file, "--html", page], { out: () => {}, err: (s) => void (err += s) });
  expect([code, err]).toEqual([0, ""]);
  return page;
}

/** Opens `file` with every request but the page itself aborted; resolves once the page says it has drawn. */
async function open(file: string, timeout = 20_000): Promise<{ page: Page; status: ReportStatus; blocked: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const url = pathToFileURL(file).href;
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route("**/*", (route) => (route.request().url() === url ? route.continue() : (blocked.push(route.request().url()), route.abort())));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).asyncflowReport?.ready === true, null, { timeout });
  // The page's CSP would stop a request before the route sees it: nothing may even point outside.
  const links = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelectorAll("[src], [href], link, iframe, img").length);
  expect(links).toBe(0);
  return { page, status: await readStatus(page), blocked, errors };
}

const readStatus = (page: Page): Promise<ReportStatus> =>
  page.evaluate(() => {
    const { probe: _probe, ...rest } = (globalThis as unknown as PageGlobals).asyncflowReport!;
    return JSON.parse(JSON.stringify(rest)) as ReportStatus;
  });

/** Pixels of a canvas that are not white, and the colour at client point (x, y) if given. */
function canvasPixels(page: Page, id: string, at?: { x: number; y: number }): Promise<{ inked: number; colour: string | null }> {
  return page.evaluate(
    ({ id, at }) => {
      const c = (globalThis as unknown as PageGlobals).document.getElementById(id)!;
      const ctx = c.getContext("2d")!;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] !== 255 || px[i + 1] !== 255 || px[i + 2] !== 255) inked++;
      let colour: string | null = null;
      if (at) {
        const box = c.getBoundingClientRect();
        const s = c.width / box.width;
        const [r, g, b] = ctx.getImageData(Math.round((at.x - box.left) * s), Math.round((at.y - box.top) * s), 1, 1).data;
        colour = `#${[r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("")}`;
      }
      return { inked, colour };
    },
    { id, at },
  );
}

const CRITICAL_COLOURS = ["#6a1b9a", "#ab47bc"];

describe("the HTML report in headless Chromium", () => {
  it("needs no network, draws every bar and the critical path of a hand-made DAG", async () => {
    const dag: HandTask[] = [
      { uid: "a", name: "fetch", created: 0, started: 0, end: 100 },
      { uid: "b", name: "slow", deps: ["a"], created: 0, started: 100, end: 300, retries: [180] },
      { uid: "c", name: "quick", deps: ["a"], created: 0, started: 100, end: 150 },
      { uid: "d", name: "merge", deps: ["b", "c"], created: 0, started: 300, end: 400 },
    ];
    const { page, status, blocked, errors } = await open(await html("dag", toJsonl(handEvents(dag))));
    expect([blocked, errors]).toEqual([[], []]);
    expect(status).toMatchObject({ ready: true, tasks: 4, rows: 5, barsDrawn: 4, criticalPath: ["a", "b", "d"], criticalDrawn: 3, retriesDrawn: 1, backends: ["local"] });
    const gantt = await canvasPixels(page, "gantt-canvas");
    expect(gantt.inked).toBeGreaterThan(5000);
    for (const uid of ["a", "b", "d"]) {
      const at = await page.evaluate((u) => (globalThis as unknown as PageGlobals).asyncflowReport!.probe(u), uid);
      expect(at, uid).not.toBeNull();
      expect(CRITICAL_COLOURS, uid).toContain((await canvasPixels(page, "gantt-canvas", at!)).colour);
    }
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).asyncflowReport!.probe("c"))).toBeNull();
    expect((await canvasPixels(page, "concurrency")).inked).toBeGreaterThan(500);
    // clicking the lane's segment of b selects it
    const b = (await page.evaluate(() => (globalThis as unknown as PageGlobals).asyncflowReport!.probe("b")))!;
    await page.mouse.click(b.x, b.y);
    expect(await page.textContent("#details")).toMatch(/^slow \(b\): function on local, DONE, on the critical path\n/);
    await page.check("#critical-only");
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).asyncflowReport!.rows === 3);
    expect(await page.textContent("#stats")).toContain("merge");
    await page.close();
  });

  it("counts a retried task as running only while an attempt runs, not while it waits to retry", async () => {
    // one slot: the flaky task's first attempt fails at 10, and its second runs after the others, from 310
    const tasks: HandTask[] = [
      { uid: "flaky", created: 0, started: 0, end: 320, retries: [10], retryDelay: 300 },
      { uid: "x", created: 0, started: 20, end: 120 },
      { uid: "y", created: 0, started: 130, end: 230 },
    ];
    const { page, status, errors } = await open(await html("retried", toJsonl(handEvents(tasks))));
    expect(errors).toEqual([]);
    expect(status.concurrencyMax).toEqual({ local: 1 });
    await page.close();
  });

  it("draws the critical path the report computes on a seeded 500-task trace, with concurrency per backend", async () => {
    const trace = toJsonl(generateEvents({ seed: 7, tasks: 500 }));
    const file = await html("seeded", trace);
    const expected = criticalPath((await loadTrace(join(dir, "seeded.jsonl"))).session).map((t) => t.uid);
    const { page, status, blocked, errors } = await open(file);
    expect([blocked, errors]).toEqual([[], []]);
    expect(status.criticalPath).toEqual(expected);
    expect(status.criticalDrawn).toBe(expected.length);
    expect(status.barsDrawn).toBeGreaterThan(30);
    expect(status.backends.sort()).toEqual(["local", "threads"]);
    expect((await canvasPixels(page, "gantt-canvas")).inked).toBeGreaterThan(20_000);
    if (process.env.UPDATE_SCREENSHOT === "1") {
      mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
      await page.screenshot({ path: new URL("../docs/report.png", import.meta.url).pathname });
    }
    await page.close();
  });

  it("opens a 100,000-task trace and keeps drawing rows at its end (virtualised)", async () => {
    const file = await html("big", toJsonl(generateEvents({ seed: 100, tasks: 100_000 })));
    const { page, status, blocked, errors } = await open(file, 60_000);
    expect([blocked, errors]).toEqual([[], []]);
    expect(status).toMatchObject({ ready: true, tasks: 100_000 });
    expect(status.barsDrawn).toBeGreaterThan(30);
    expect(status.criticalDrawn).toBeGreaterThan(0);
    expect((await canvasPixels(page, "gantt-canvas")).inked).toBeGreaterThan(10_000);
    const frames = status.frames;
    await page.evaluate(() => {
      const g = (globalThis as unknown as PageGlobals).document.getElementById("gantt")!;
      g.scrollTop = g.scrollHeight;
    });
    await page.waitForFunction((f) => (globalThis as unknown as PageGlobals).asyncflowReport!.frames > f, frames);
    expect((await readStatus(page)).barsDrawn).toBeGreaterThan(30);
    // Not a timed assertion (this machine is shared): the time to draw is a bench row (`npm run bench -- report`).
    expect(status.renderMs).toBeGreaterThan(0);
    await page.close();
  }, 180_000);
});
