// @ts-check
/**
 * The report page's drawing, inlined into the HTML by html.ts. Plain
 * browser JavaScript, type-checked through JSDoc (tsconfig.json beside it):
 * it runs in the page, not in Node, so it is not compiled, only copied.
 *
 * Everything is drawn on two canvases from the columns of the embedded data;
 * only the rows in view are drawn, so 100,000 tasks cost what 50 do.
 */
(() => {
  const ROW_H = 16;
  const AXIS_H = 22;
  const LANE_H = 20;
  const TOP = AXIS_H + LANE_H;
  const GUTTER = 260;
  const CRIT = "#6a1b9a";
  const STATE_FILL = ["#66bb6a", "#e53935", "#ffca28", "#42a5f5", "#bdbdbd"];
  const WAIT_DEPS = "#eceff1";
  const WAIT_QUEUED = "#b0bec5";
  const PALETTE = ["#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#e53935", "#6d4c41", "#3949ab"];

  /** @typedef {{ id: string, origin: number, end: number, host: string, pid: number, backends: string[], notes: string[], file: string }} SessionInfo */
  /**
   * @typedef {{ session: SessionInfo, names: string[], backends: string[], workflows: string[], wheres: string[],
   *   uid: string[], name: number[], kind: number[], backend: number[], state: number[], workflow: number[], depth: number[], parent: number[],
   *   created: number[], resolved: number[], started: number[], end: number[], where: number[], depOff: number[], dep: number[],
   *   retryTask: number[], retryTime: number[], restartTask: number[], restartTime: number[], critical: number[], groupStart: number[], groupLabel: string[],
   *   errorTask: number[], errorText: string[] }} PageData
   */

  /** @template {HTMLElement} T @param {string} id @param {new () => T} type @returns {T} */
  function byId(id, type) {
    const el = document.getElementById(id);
    if (!(el instanceof type)) throw new Error(`the page lacks #${id}`);
    return el;
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON.parse gives any; the cast is the page's contract with embed.ts
  const data = /** @type {PageData} */ (JSON.parse(byId("asyncflow-data", HTMLScriptElement).textContent ?? "{}"));
  const n = data.uid.length;
  const created = Float64Array.from(data.created);
  const resolved = Float64Array.from(data.resolved);
  const started = Float64Array.from(data.started);
  const sessionEnd = Math.max(data.session.end, 0);
  // Unfinished tasks are drawn up to the end of the trace.
  const end = Float64Array.from(data.end, (e) => (e < 0 ? sessionEnd : e));
  const state = Int8Array.from(data.state);
  const onPath = new Uint8Array(n);
  for (const i of data.critical) onPath[i] = 1;
  /** Times per task, task i's being at[off[i]] .. at[off[i + 1] - 1]. @param {number[]} task @param {number[]} time */
  function perTask(task, time) {
    const off = new Int32Array(n + 1);
    for (const i of task) off[i + 1]++;
    for (let i = 0; i < n; i++) off[i + 1] += off[i];
    const at = new Float64Array(time.length);
    const fill = off.slice(0, n);
    task.forEach((i, k) => (at[fill[i]++] = time[k]));
    return { off, at };
  }
  const { off: retryOff, at: retryAt } = perTask(data.retryTask, data.retryTime);
  const { off: restartOff, at: restartAt } = perTask(data.restartTask, data.restartTime);
  const errors = new Map(data.errorTask.map((i, k) => [i, data.errorText[k]]));

  const gantt = byId("gantt", HTMLDivElement);
  const spacer = byId("gantt-spacer", HTMLDivElement);
  const canvas = byId("gantt-canvas", HTMLCanvasElement);
  const conc = byId("concurrency", HTMLCanvasElement);
  const tip = byId("tip", HTMLDivElement);
  const details = byId("details", HTMLDivElement);
  const criticalOnly = byId("critical-only", HTMLInputElement);

  /** Rows shown: task index, or -(g + 1) for workflow group g's header. */
  let rows = new Int32Array(0);
  const rowOf = new Int32Array(n);
  function buildRows() {
    const list = [];
    if (criticalOnly.checked) {
      for (const i of data.critical) list.push(i);
    } else {
      let g = 0;
      for (let i = 0; i < n; i++) {
        while (g < data.groupStart.length && data.groupStart[g] === i) list.push(-(g++ + 1));
        list.push(i);
      }
    }
    rows = Int32Array.from(list);
    rowOf.fill(-1);
    rows.forEach((v, r) => v >= 0 && (rowOf[v] = r));
    spacer.style.height = `${TOP + rows.length * ROW_H + ROW_H}px`;
  }

  const view = { t0: 0, t1: Math.max(sessionEnd, 1) };
  let selected = -1;
  const status = {
    ready: false,
    tasks: n,
    rows: 0,
    barsDrawn: 0,
    criticalPath: data.critical.map((i) => data.uid[i]),
    criticalDrawn: 0,
    retriesDrawn: 0,
    backends: /** @type {string[]} */ ([]),
    /** The most runs at once, per backend. */
    concurrencyMax: /** @type {Record<string, number>} */ ({}),
    renderMs: 0,
    frames: 0,
    view,
    /** Where uid's segment sits in the critical-path lane, in page pixels, or null when out of view. @param {string} uid */
    probe(uid) {
      const i = data.uid.indexOf(uid);
      if (i < 0 || !onPath[i]) return null;
      const a = Math.max(xOf(started[i] >= 0 ? started[i] : created[i]), GUTTER);
      const b = Math.min(xOf(end[i]), width());
      if (b < GUTTER || a > width()) return null;
      const box = canvas.getBoundingClientRect();
      return { x: box.left + (a + Math.max(b, a + 1)) / 2, y: box.top + AXIS_H + LANE_H / 2 };
    },
  };
  /** @type {Window & { asyncflowReport?: typeof status }} */ (window).asyncflowReport = status;

  const width = () => canvas.width / devicePixelRatio;
  const plotW = () => Math.max(width() - GUTTER, 10);
  /** @param {number} t */
  const xOf = (t) => GUTTER + ((t - view.t0) / (view.t1 - view.t0)) * plotW();
  /** @param {number} x */
  const tOf = (x) => view.t0 + ((x - GUTTER) / plotW()) * (view.t1 - view.t0);

  /** @param {number} v */
  function fmt(v) {
    const a = Math.abs(v);
    if (a < 1) return `${v.toFixed(3)} ms`;
    if (a < 1000) return `${v.toFixed(a < 10 ? 2 : 1)} ms`;
    if (a < 60000) return `${(v / 1000).toFixed(a < 10000 ? 3 : 2)} s`;
    return `${Math.floor(v / 60000)} m ${((v % 60000) / 1000).toFixed(1)} s`;
  }

  /** @param {HTMLCanvasElement} c @param {number} w @param {number} h */
  function size(c, w, h) {
    const dpr = devicePixelRatio;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const ctx = c.getContext("2d");
    if (ctx === null) throw new Error("no 2d canvas");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  /** Tick spacing: the least 1, 2 or 5 times a power of ten that leaves 90 px for a label. @param {number} span @param {number} px */
  function step(span, px) {
    const raw = (span / px) * 90;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  /** @param {CanvasRenderingContext2D} ctx @param {number} h */
  function drawAxis(ctx, h) {
    const w = width();
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, w, AXIS_H);
    ctx.strokeStyle = "#e0e0e0";
    ctx.fillStyle = "#616161";
    ctx.font = "11px system-ui, sans-serif";
    const s = step(view.t1 - view.t0, plotW());
    for (let t = Math.ceil(view.t0 / s) * s; t <= view.t1; t += s) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS_H - 4);
      ctx.lineTo(x, h);
      ctx.stroke();
      ctx.fillText(`+${fmt(t)}`, x + 3, 14);
    }
  }

  function draw() {
    const h = gantt.clientHeight;
    const w = gantt.clientWidth;
    const ctx = size(canvas, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    drawAxis(ctx, h);
    let bars = 0;
    status.retriesDrawn = 0;
    const top = gantt.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H));
    const last = Math.min(rows.length, first + Math.ceil((h - TOP) / ROW_H) + 1);
    ctx.font = "11px system-ui, sans-serif";
    for (let r = first; r < last; r++) {
      const y = TOP + r * ROW_H - top;
      const v = rows[r];
      if (v < 0) {
        ctx.fillStyle = "#eeeeee";
        ctx.fillRect(0, y, w, ROW_H);
        ctx.fillStyle = "#212121";
        ctx.font = "bold 11px system-ui, sans-serif";
        ctx.fillText(data.groupLabel[-v - 1], 4, y + 12);
        ctx.font = "11px system-ui, sans-serif";
        continue;
      }
      const i = v;
      if (onPath[i] || i === selected) {
        ctx.fillStyle = i === selected ? "#fff9c4" : "#f3e5f5";
        ctx.fillRect(0, y, w, ROW_H);
      }
      ctx.fillStyle = "#212121";
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, y, GUTTER - 4, ROW_H);
      ctx.clip();
      ctx.fillText(`${data.names[data.name[i]]}  ${data.uid[i]}`, 4 + data.depth[i] * 12, y + 12);
      ctx.restore();
      if (drawBar(ctx, i, y + 2, ROW_H - 4)) bars++;
    }
    drawConnectors(ctx, top, h);
    status.criticalDrawn = drawLane(ctx);
    status.barsDrawn = bars;
    status.rows = rows.length;
    drawConcurrency();
  }

  /** Clipped to the plot; at least a pixel wide so a 1 µs task still shows. @param {CanvasRenderingContext2D} ctx @param {number} a @param {number} b @param {number} y @param {number} h */
  function span(ctx, a, b, y, h) {
    const x0 = Math.max(xOf(a), GUTTER);
    const x1 = Math.min(xOf(b), width());
    if (x1 < GUTTER || x0 > width()) return false;
    ctx.fillRect(x0, y, Math.max(x1 - x0, 1), h);
    return true;
  }

  /** @param {CanvasRenderingContext2D} ctx @param {number} i @param {number} y @param {number} h */
  function drawBar(ctx, i, y, h) {
    const s = started[i];
    const c = created[i];
    const e = end[i];
    let drawn = false;
    if (s >= 0) {
      const ready = resolved[i] >= 0 ? resolved[i] : c;
      ctx.fillStyle = WAIT_DEPS;
      if (ready > c) span(ctx, c, ready, y + 2, h - 4);
      ctx.fillStyle = WAIT_QUEUED;
      if (s > ready) span(ctx, ready, s, y + 2, h - 4);
      ctx.fillStyle = STATE_FILL[state[i]];
      drawn = span(ctx, s, e, y, h);
    } else {
      // Never started: a thin line from its creation to its end.
      ctx.fillStyle = STATE_FILL[state[i]];
      drawn = span(ctx, c, e, y + h / 2 - 1, 3);
    }
    if (onPath[i] && drawn) {
      ctx.strokeStyle = CRIT;
      ctx.lineWidth = 2;
      const x0 = Math.max(xOf(s >= 0 ? s : c), GUTTER);
      ctx.strokeRect(x0, y, Math.max(Math.min(xOf(e), width()) - x0, 2), h);
      ctx.lineWidth = 1;
    }
    ctx.fillStyle = "#000";
    for (let k = retryOff[i]; k < retryOff[i + 1]; k++) {
      const x = xOf(retryAt[k]);
      if (x < GUTTER || x > width()) continue;
      ctx.beginPath();
      ctx.moveTo(x - 4, y - 2);
      ctx.lineTo(x + 4, y - 2);
      ctx.lineTo(x, y + 5);
      ctx.fill();
      status.retriesDrawn++;
    }
    return drawn;
  }

  /** Each critical task to the next: from its end to the next one's start. @param {CanvasRenderingContext2D} ctx @param {number} top @param {number} h */
  function drawConnectors(ctx, top, h) {
    ctx.strokeStyle = CRIT;
    ctx.lineWidth = 1.5;
    for (let k = 1; k < data.critical.length; k++) {
      const a = data.critical[k - 1];
      const b = data.critical[k];
      if (rowOf[a] < 0 || rowOf[b] < 0) continue;
      const ya = TOP + rowOf[a] * ROW_H - top + ROW_H / 2;
      const yb = TOP + rowOf[b] * ROW_H - top + ROW_H / 2;
      if ((ya < TOP && yb < TOP) || (ya > h && yb > h)) continue;
      const xa = Math.max(xOf(end[a]), GUTTER);
      const xb = Math.max(xOf(started[b] >= 0 ? started[b] : created[b]), GUTTER);
      ctx.beginPath();
      ctx.moveTo(xa, Math.max(ya, TOP));
      ctx.lineTo(Math.max(xa, xb), Math.max(Math.min(yb, h), TOP));
      ctx.stroke();
    }
    ctx.lineWidth = 1;
  }

  /** The critical path as one always-visible lane under the axis; returns the segments drawn. @param {CanvasRenderingContext2D} ctx */
  function drawLane(ctx) {
    const w = width();
    ctx.fillStyle = "#faf5fc";
    ctx.fillRect(0, AXIS_H, w, LANE_H);
    ctx.fillStyle = CRIT;
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.fillText(`critical path: ${data.critical.length} tasks`, 4, AXIS_H + 14);
    ctx.font = "11px system-ui, sans-serif";
    let drawn = 0;
    data.critical.forEach((i, k) => {
      ctx.fillStyle = k % 2 === 0 ? CRIT : "#ab47bc";
      if (span(ctx, started[i] >= 0 ? started[i] : created[i], end[i], AXIS_H + 3, LANE_H - 6)) drawn++;
    });
    ctx.strokeStyle = "#bdbdbd";
    ctx.beginPath();
    ctx.moveTo(0, TOP - 0.5);
    ctx.lineTo(w, TOP - 0.5);
    ctx.stroke();
    return drawn;
  }

  // Concurrency: per backend, the running count as a step function (+1 at a start, -1 at an end).
  const series = (() => {
    /** @type {Map<number, number[]>} */
    const by = new Map();
    for (let i = 0; i < n; i++) {
      if (started[i] < 0 || data.kind[i] === 2) continue; // blocks run in the engine around their children
      const list = by.get(data.backend[i]) ?? [];
      // Each attempt runs from its start to the retry that ended it (the last one, to the task's end): not while it waits to retry.
      const retries = retryOff[i + 1] - retryOff[i];
      for (let k = 0; k <= restartOff[i + 1] - restartOff[i]; k++) {
        list.push(k === 0 ? started[i] : restartAt[restartOff[i] + k - 1], 1, k < retries ? retryAt[retryOff[i] + k] : end[i], -1);
      }
      by.set(data.backend[i], list);
    }
    return [...by].map(([b, flat]) => {
      const idx = Array.from({ length: flat.length / 2 }, (_, k) => k);
      // Ends before starts at the same time: a slot handed on is not two running.
      idx.sort((p, q) => flat[2 * p] - flat[2 * q] || flat[2 * p + 1] - flat[2 * q + 1]);
      const times = new Float64Array(idx.length);
      const counts = new Int32Array(idx.length);
      let c = 0;
      let max = 0;
      idx.forEach((p, k) => {
        c += flat[2 * p + 1];
        times[k] = flat[2 * p];
        counts[k] = c;
        if (c > max) max = c;
      });
      return { name: data.backends[b], times, counts, max };
    });
  })();
  status.backends = series.map((s) => s.name);
  status.concurrencyMax = Object.fromEntries(series.map((s) => [s.name, s.max]));

  function drawConcurrency() {
    const w = conc.clientWidth;
    const h = conc.clientHeight;
    const ctx = size(conc, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    const max = Math.max(1, ...series.map((s) => s.max));
    const y = (/** @type {number} */ c) => h - 6 - (c / max) * (h - 24);
    ctx.font = "11px system-ui, sans-serif";
    series.forEach((s, k) => {
      ctx.strokeStyle = ctx.fillStyle = PALETTE[k % PALETTE.length];
      ctx.fillText(`${s.name} (max ${s.max})`, 4, 16 + k * 14);
      ctx.beginPath();
      // One vertex pair per pixel column at most: the column's highest count, so short peaks stay visible.
      let j = 0;
      let c = 0;
      const lo = view.t0;
      while (j < s.times.length && s.times[j] <= lo) c = s.counts[j++];
      ctx.moveTo(GUTTER, y(c));
      for (let x = GUTTER; x < w; x++) {
        const tb = tOf(x + 1);
        let peak = c;
        while (j < s.times.length && s.times[j] < tb) {
          c = s.counts[j++];
          if (c > peak) peak = c;
        }
        ctx.lineTo(x, y(peak));
        ctx.lineTo(x + 1, y(c));
      }
      ctx.stroke();
    });
    ctx.fillStyle = "#616161";
    ctx.fillText(`${max}`, GUTTER - 24, 18);
    ctx.fillText("0", GUTTER - 24, h - 4);
  }

  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
      status.frames++;
    });
  }

  /** @param {number} factor @param {number} anchor time kept under the pointer */
  function zoom(factor, anchor) {
    const span0 = view.t1 - view.t0;
    const span1 = Math.min(Math.max(span0 * factor, 0.001), Math.max(sessionEnd, 1) * 4);
    const f = (anchor - view.t0) / span0;
    view.t0 = anchor - f * span1;
    view.t1 = view.t0 + span1;
    redraw();
  }
  /** @param {number} dt */
  function pan(dt) {
    view.t0 += dt;
    view.t1 += dt;
    redraw();
  }

  /** @param {MouseEvent} ev */
  function taskAt(ev) {
    const box = canvas.getBoundingClientRect();
    const x = ev.clientX - box.left;
    const y = ev.clientY - box.top;
    if (y >= AXIS_H && y < TOP) {
      const t = tOf(x);
      return data.critical.find((i) => (started[i] >= 0 ? started[i] : created[i]) <= t && t <= end[i]) ?? -1;
    }
    const r = Math.floor((y - TOP + gantt.scrollTop) / ROW_H);
    const v = y >= TOP && r >= 0 && r < rows.length ? rows[r] : -1;
    return v >= 0 ? v : -1;
  }

  /** @param {number} i */
  function describe(i) {
    const s = started[i];
    const lines = [
      `${data.names[data.name[i]]} (${data.uid[i]}): ${data.kind[i] === 2 ? "block" : data.kind[i] === 1 ? "executable" : "function"} on ${data.backends[data.backend[i]]}, ${["DONE", "FAILED", "CANCELLED", "RUNNING", "PENDING"][state[i]]}${onPath[i] ? ", on the critical path" : ""}`,
      `created +${fmt(created[i])}` + (resolved[i] >= 0 ? `, ready +${fmt(resolved[i])}` : "") + (s >= 0 ? `, started +${fmt(s)}` : ", never started") + (data.end[i] >= 0 ? `, ended +${fmt(end[i])}` : ", no end in the trace"),
      s >= 0 ? `ran ${fmt(end[i] - s)}, waited ${fmt(s - created[i])}` : "",
      data.where[i] >= 0 ? `on ${data.wheres[data.where[i]]}` : "",
      data.workflow[i] >= 0 ? `workflow ${data.workflows[data.workflow[i]]}` : "",
      retryOff[i + 1] > retryOff[i] ? `${retryOff[i + 1] - retryOff[i]} retr${retryOff[i + 1] - retryOff[i] === 1 ? "y" : "ies"}` : "",
      errors.get(i) ?? "",
    ];
    return lines.filter((l) => l !== "").join("\n");
  }

  /** @param {number} i */
  function select(i) {
    selected = i;
    if (i < 0) {
      details.textContent = "";
      redraw();
      return;
    }
    const deps = [];
    for (let k = data.depOff[i]; k < data.depOff[i + 1]; k++) {
      const d = data.dep[k];
      deps.push(`  ${data.names[data.name[d]]} (${data.uid[d]}) ended +${fmt(end[d])}`);
    }
    const parent = data.parent[i];
    details.textContent = `${describe(i)}${parent >= 0 ? `\nmade in block ${data.names[data.name[parent]]} (${data.uid[parent]})` : ""}\n${deps.length > 0 ? `dependencies:\n${deps.join("\n")}` : "no dependencies"}`;
    redraw();
  }

  /** Scrolls row of task i into the middle and its bar into view. @param {number} i */
  function reveal(i) {
    if (rowOf[i] < 0) {
      criticalOnly.checked = false;
      buildRows();
    }
    gantt.scrollTop = Math.max(0, rowOf[i] * ROW_H - (gantt.clientHeight - TOP) / 2);
    const a = started[i] >= 0 ? started[i] : created[i];
    if (a < view.t0 || end[i] > view.t1) {
      const s = view.t1 - view.t0;
      view.t0 = a - s * 0.1;
      view.t1 = view.t0 + s;
    }
    select(i);
  }

  canvas.addEventListener("mousemove", (ev) => {
    if (drag !== null) return;
    const i = taskAt(ev);
    if (i < 0) {
      tip.hidden = true;
      return;
    }
    tip.textContent = describe(i);
    tip.style.left = `${ev.clientX + 14}px`;
    tip.style.top = `${ev.clientY + 14}px`;
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => (tip.hidden = true));
  /** @type {{ x: number, y: number, t0: number, top: number, moved: boolean } | null} */
  let drag = null;
  canvas.addEventListener("mousedown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, t0: view.t0, top: gantt.scrollTop, moved: false };
  });
  window.addEventListener("mousemove", (ev) => {
    if (drag === null) return;
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    tip.hidden = true;
    const s = view.t1 - view.t0;
    view.t0 = drag.t0 - (dx / plotW()) * s;
    view.t1 = view.t0 + s;
    gantt.scrollTop = drag.top - dy;
    redraw();
  });
  window.addEventListener("mouseup", (ev) => {
    if (drag !== null && !drag.moved) select(taskAt(ev));
    drag = null;
  });
  gantt.addEventListener(
    "wheel",
    (ev) => {
      const box = canvas.getBoundingClientRect();
      if (ev.ctrlKey || ev.metaKey) {
        ev.preventDefault();
        zoom(Math.exp(ev.deltaY * 0.002), tOf(Math.max(ev.clientX - box.left, GUTTER)));
      } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        ev.preventDefault();
        pan(((ev.shiftKey ? ev.deltaY : ev.deltaX) / plotW()) * (view.t1 - view.t0));
      }
    },
    { passive: false },
  );
  gantt.addEventListener("scroll", redraw);
  window.addEventListener("resize", redraw);
  byId("fit", HTMLButtonElement).addEventListener("click", () => {
    view.t0 = 0;
    view.t1 = Math.max(sessionEnd, 1);
    redraw();
  });
  byId("zoom-in", HTMLButtonElement).addEventListener("click", () => zoom(0.5, (view.t0 + view.t1) / 2));
  byId("zoom-out", HTMLButtonElement).addEventListener("click", () => zoom(2, (view.t0 + view.t1) / 2));
  criticalOnly.addEventListener("change", () => {
    buildRows();
    gantt.scrollTop = 0;
    redraw();
  });
  byId("find", HTMLInputElement).addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !(ev.target instanceof HTMLInputElement)) return;
    const q = ev.target.value.trim();
    if (q === "") return;
    let i = data.uid.indexOf(q);
    if (i < 0) {
      for (let k = 1; k <= n && i < 0; k++) {
        const j = (Math.max(selected, 0) + k) % n;
        if (data.names[data.name[j]].includes(q)) i = j;
      }
    }
    if (i >= 0) reveal(i);
  });

  buildRows();
  draw();
  status.frames = 1;
  status.renderMs = Math.round(performance.now());
  status.ready = true;
})();
