/**
 * The report page's script: it runs in the browser, inlined into the HTML after uPlot (a
 * global `uPlot`) and the data (`<script id="report-data" type="application/json">`). It draws
 * the charts; the tables are already in the HTML. This file is compiled with the CLI (no DOM
 * types in this project: the DOM is typed loosely here) and read from dist by html.ts.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type UPlot from 'uplot';
import type { ReportData } from './model.js';

declare const uPlot: typeof UPlot;
declare const document: any;
declare const window: any;

type Num = number | null;
type Opts = ConstructorParameters<typeof UPlot>[0];

const data: ReportData = JSON.parse(document.getElementById('report-data').textContent);

/** Distinct colours (Okabe–Ito, then Tableau), then repeated with a dash. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8c564b', '#7f7f7f', '#bcbd22', '#17becf', '#9467bd'];
const color = (i: number) => PALETTE[i % PALETTE.length];
const dashFor = (i: number) => (i < PALETTE.length ? undefined : [6, 3]);
/** A pipeline · codec has one colour in every chart. */
const groupColor = (g: string) => color(Math.max(0, data.groups.indexOf(g)));
/** Runs of one group differ by their RAM budget: solid, dashed, dotted … */
const RAMS = [...new Set(data.timeline.runs.map((r) => r.ram))].sort((a, b) => parseFloat(a) - parseFloat(b));
const RAM_DASH: (number[] | undefined)[] = [undefined, [8, 4], [2, 3], [12, 4, 3, 4]];
const ramDash = (ram: string) => RAM_DASH[RAMS.indexOf(ram) % RAM_DASH.length];

interface Drawn {
  id: string;
  title: string;
  u: UPlot;
  colors: string[];
}
const drawn: Drawn[] = [];
const errors: string[] = [];

function widthOf(el: any): number {
  return Math.max(360, Math.min(1100, Math.floor(el.clientWidth || 900)));
}

function chart(id: string, title: string, opts: Omit<Opts, 'width' | 'height'> & { height?: number }, d: any[], colors: string[]): UPlot | undefined {
  const el = document.getElementById(id);
  if (!el) return undefined;
  const prev = drawn.findIndex((c) => c.id === id);
  if (prev >= 0) {
    drawn[prev].u.destroy();
    drawn.splice(prev, 1);
  }
  try {
    const u = new uPlot({ height: 320, ...opts, title, width: widthOf(el) } as Opts, d as any, el);
    drawn.push({ id, title, u, colors });
    return u;
  } catch (e) {
    errors.push(`${id}: ${String(e)}`);
    el.textContent = `This chart could not be drawn: ${String(e)}`;
    return undefined;
  }
}

function say(id: string, text: string): void {
  const el = document.getElementById(id);
  if (el) {
    el.classList.add('empty');
    el.textContent = text;
  }
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const valueFmt = (digits = 0) => (_u: unknown, v: Num) => (v == null ? '–' : digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits));

function lineSeries(label: string, i: number, extra: Record<string, unknown> = {}): any {
  return { label, stroke: color(i), width: 1.5, dash: dashFor(i), spanGaps: false, points: { show: false }, value: valueFmt(), ...extra };
}

const timeAxis = { label: 'time since the run started (s)', values: (_u: unknown, splits: number[]) => splits.map((s) => s.toFixed(1)) };

// ---- over time ----

function drawThroughput(): void {
  const tl = data.timeline;
  if (tl.runs.length === 0) return say('chart-throughput', 'No run result or sweep point given: compare documents keep no time series.');
  chart(
    'chart-throughput',
    'pgsteal_anon/s over time, every run (pages reclaimed per second, by kswapd and direct reclaim)',
    {
      scales: { x: { time: false } },
      axes: [timeAxis, { label: 'pgsteal_anon/s (pages/s)', size: 70 }],
      series: [{ label: 't (s)', value: valueFmt(1) }, ...tl.runs.map((r, i) => lineSeries(r.label, i, { stroke: groupColor(r.group), dash: ramDash(r.ram) }))],
    },
    [tl.t, ...tl.runs.map((r) => r.throughput)],
    tl.runs.map((r) => groupColor(r.group)),
  );
}

function drawFree(index: number): void {
  const tl = data.timeline;
  if (tl.runs.length === 0) return say('chart-free', 'No run result or sweep point given.');
  const r = tl.runs[index];
  const flat = (v: number) => tl.t.map((_, k) => (r.free[k] == null ? null : v));
  const colors = ['#0072B2', '#D55E00', '#E69F00', '#009E73'];
  // The run starts with its whole budget free and frees it again at the end: clip the y axis
  // near the watermarks, where reclaim works, instead of squashing them under those two peaks.
  const frees = r.free.filter((v): v is number => v != null).sort((a, b) => a - b);
  const p90 = frees[Math.floor(frees.length * 0.9)] ?? r.wmark.high;
  const top = Math.max(3 * r.wmark.high, p90 * 1.1);
  const low = Math.min(0, frees[0] ?? 0);
  const clipped = (frees.at(-1) ?? 0) > top ? `; y axis clipped at ${Math.round(top)}` : '';
  chart(
    'chart-free',
    `Free memory and the watermarks: ${r.label} (RAM budget ${r.wmark.managed} pages${clipped})`,
    {
      scales: { x: { time: false }, y: { range: [low, top] } },
      axes: [timeAxis, { label: 'free pages (nr_free_pages)', size: 70 }],
      series: [
        { label: 't (s)', value: valueFmt(1) },
        lineSeries('free', 0, { stroke: colors[0], width: 2 }),
        lineSeries(`wmark min (${r.wmark.min}: direct reclaim, allocstall)`, 1, { stroke: colors[1], dash: [6, 4] }),
        lineSeries(`wmark low (${r.wmark.low}: kswapd wakes)`, 2, { stroke: colors[2], dash: [6, 4] }),
        lineSeries(`wmark high (${r.wmark.high}: kswapd sleeps)`, 3, { stroke: colors[3], dash: [6, 4] }),
      ],
    },
    [tl.t, r.free, flat(r.wmark.min), flat(r.wmark.low), flat(r.wmark.high)],
    colors,
  );
}

/** Runs with compression workers and a recorded ring depth. */
const ringRuns = () => data.timeline.runs.filter((r) => r.workers > 0 && r.ring);

function drawRing(index: number): void {
  const tl = data.timeline;
  const runs = ringRuns();
  if (runs.length === 0) {
    const old = tl.runs.some((r) => r.workers > 0);
    return say('chart-ring', old ? 'The runs with compression workers were recorded before ring_depth existed in the time series.' : 'No run with compression workers: inline has no rings (depth 0).');
  }
  const r = runs[index];
  const cap = tl.t.map((_, k) => ((r.ring as Num[])[k] == null ? null : r.ringCapacity));
  const colors = [groupColor(r.group), '#7f7f7f'];
  chart(
    'chart-ring',
    `Ring depth over time: ${r.label} (pages published to the rings, not yet taken by a worker)`,
    {
      scales: { x: { time: false }, y: { range: [0, r.ringCapacity * 1.05] } },
      axes: [timeAxis, { label: 'pages in the rings', size: 60 }],
      series: [
        { label: 't (s)', value: valueFmt(1) },
        lineSeries('ring depth (sum over the rings)', 0, { stroke: colors[0], width: 2 }),
        lineSeries(`capacity (${r.workers} ring${r.workers === 1 ? '' : 's'} × ${r.ringCapacity / r.workers})`, 1, { stroke: colors[1], dash: [6, 4] }),
      ],
    },
    [tl.t, r.ring as Num[], cap],
    colors,
  );
}

// ---- latency ----

const PCT: Record<number, string> = { 1: 'p0', 2: 'p50', 10: 'p90', 100: 'p99', 1000: 'p99.9', 10000: 'p99.99', 100000: 'p99.999' };

function drawLatency(): void {
  const box = document.getElementById('latency-charts');
  if (!box) return;
  const lat = data.latency;
  if (lat.charts.length === 0) return say('latency-charts', 'No latency was recorded.');
  for (const c of lat.charts) {
    const div = document.createElement('div');
    div.className = 'chart';
    div.id = `chart-latency-${c.name}`;
    box.appendChild(div);
    const last = Math.max(...c.series.map((s) => lat.x[s.values.findLastIndex((v) => v != null)] ?? 2));
    const ys = c.series.flatMap((s) => s.values.filter((v): v is number => v != null && v > 0));
    // Whole decades on the log y axis, so its ticks are 1, 10, 100 … µs.
    const yLo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
    const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
    chart(
      div.id,
      `${c.name}: latency by percentile (µs)`,
      {
        scales: {
          x: { time: false, distr: 3, log: 10, range: [1, Math.max(10, last)] },
          y: { distr: 3, log: 10, range: [yLo, yHi > yLo ? yHi : yLo * 10] },
        },
        axes: [
          {
            label: 'percentile, on a log 1/(1−p) axis',
            splits: (u: UPlot) => Object.keys(PCT).map(Number).filter((x) => x <= (u.scales.x.max ?? 1e9)),
            // Every split labelled (a log axis would otherwise keep only the powers of ten, hiding p50).
            filter: (_u: unknown, s: number[]) => s,
            values: (_u: unknown, s: number[]) => s.map((x) => PCT[x] ?? ''),
          },
          { label: `${c.name} latency (µs, log)`, size: 70, values: (_u: unknown, s: number[]) => s.map((v) => (v == null ? '' : v >= 1 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(2))))) },
        ],
        series: [
          { label: 'p', value: (_u: unknown, x: Num) => (x == null ? '–' : `p${(100 * (1 - 1 / x)).toPrecision(x < 10 ? 3 : Math.ceil(Math.log10(x)) + 2)}`) },
          ...c.series.map((s, i) =>
            lineSeries(s.label, i, {
              stroke: groupColor(s.group),
              value: valueFmt(2),
              spanGaps: s.kind === 'summary',
              dash: s.kind === 'summary' ? [3, 4] : undefined,
              points: { show: s.kind === 'summary', size: 7, stroke: groupColor(s.group), fill: '#fff' },
            }),
          ),
        ],
      },
      [lat.x, ...c.series.map((s) => s.values.map((v) => (v != null && v > 0 ? v : null)))],
      c.series.map((s) => groupColor(s.group)),
    );
  }
}

// ---- comparison bars ----

function drawComparisons(): void {
  data.comparisons.forEach((cmp, ci) => {
    for (const m of data.barMetrics) {
      const id = `chart-bars-${ci}-${m.key}`;
      const names = cmp.variants.map((v) => v.name);
      const spreads = cmp.variants.map((v) => v.spread[m.key] ?? null);
      if (spreads.every((s) => s == null)) {
        say(id, `${m.label}: no variant recorded it.`);
        continue;
      }
      const med = spreads.map((s) => (s ? s.median : null));
      const hi = Math.max(...spreads.map((s) => (s ? s.max : 0)));
      const whiskers = (u: UPlot) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#222';
        ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1);
        spreads.forEach((s, i) => {
          if (!s) return;
          const x = u.valToPos(i, 'x', true);
          const y0 = u.valToPos(s.min, 'y', true);
          const y1 = u.valToPos(s.max, 'y', true);
          const cap = 8 * (window.devicePixelRatio || 1);
          ctx.beginPath();
          ctx.moveTo(x, y0);
          ctx.lineTo(x, y1);
          ctx.moveTo(x - cap, y0);
          ctx.lineTo(x + cap, y0);
          ctx.moveTo(x - cap, y1);
          ctx.lineTo(x + cap, y1);
          ctx.stroke();
        });
        ctx.restore();
      };
      const arrow = m.better === 'higher' ? ' ↑ higher is better' : m.better === 'lower' ? ' ↓ lower is better' : '';
      const whole = m.unit === '/s' || m.unit === 'count' || m.unit === 'ms';
      const named = m.label.includes(m.unit) ? m.label : `${m.label} (${m.unit})`;
      chart(
        id,
        `${named}:${arrow}; bar = median, whiskers = min–max of ${cmp.repeat} run${cmp.repeat === 1 ? '' : 's'}`,
        {
          height: 260,
          scales: { x: { time: false, range: [-0.5, names.length - 0.5] }, y: { range: [0, hi > 0 ? hi * 1.12 : 1] } },
          axes: [
            { label: 'pipeline', splits: () => names.map((_, i) => i), values: (_u: unknown, s: number[]) => s.map((i) => names[i] ?? ''), grid: { show: false } },
            { label: named, size: 70, values: (_u: unknown, s: number[]) => s.map((v) => (whole ? Math.round(v).toLocaleString('en-US') : fmt(v))) },
          ],
          series: [
            { label: 'pipeline', value: (_u: unknown, i: Num) => (i == null ? '–' : (names[i] ?? '')) },
            { label: `median ${m.label}`, stroke: color(0), fill: 'rgba(0,114,178,0.55)', width: 1, paths: uPlot.paths.bars!({ size: [0.6, 120] }), points: { show: false }, value: valueFmt(m.unit === '/s' || m.unit === 'count' ? 0 : 2) },
          ],
          hooks: { draw: [whiskers] },
          legend: { show: false },
        },
        [names.map((_, i) => i), med],
        [color(0)],
      );
    }
  });
}

// ---- wiring ----

function setupRunSelect(id: string, runs: { label: string }[], draw: (i: number) => void): void {
  const sel = document.getElementById(id);
  if (!sel) return;
  if (runs.length === 0) sel.parentElement.hidden = true;
  runs.forEach((r, i) => {
    const o = document.createElement('option');
    o.value = String(i);
    o.textContent = r.label;
    sel.appendChild(o);
  });
  sel.addEventListener('change', () => draw(Number(sel.value)));
}

function setupHeatmapSelects(): void {
  for (const sel of document.querySelectorAll('select.heat-metric')) {
    const show = () => {
      for (const t of document.querySelectorAll(`[data-sweep="${sel.dataset.sweep}"][data-metric]`)) t.hidden = t.dataset.metric !== sel.value;
    };
    sel.addEventListener('change', show);
    show();
  }
}

function main(): void {
  setupRunSelect('free-run', data.timeline.runs, drawFree);
  setupRunSelect('ring-run', ringRuns(), drawRing);
  setupHeatmapSelects();
  drawThroughput();
  drawFree(0);
  drawRing(0);
  drawLatency();
  drawComparisons();
  let resize: any;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = setTimeout(() => {
      for (const c of drawn) {
        const el = document.getElementById(c.id);
        if (el) c.u.setSize({ width: widthOf(el), height: c.u.height });
      }
    }, 150);
  });
  // For tests and the curious: what was drawn, with how many points per series.
  window.zreclaimReport = {
    errors,
    charts: drawn.map((c) => ({
      id: c.id,
      title: c.title,
      width: c.u.width,
      height: c.u.height,
      series: c.u.series.slice(1).map((s, i) => ({ label: String(s.label), color: c.colors[i], points: (c.u.data[i + 1] as Num[]).filter((v) => v != null).length })),
    })),
  };
  document.body.dataset.ready = 'true';
}

main();
