/**
 * The report as one self-contained HTML file: uPlot's CSS and JS inlined from node_modules,
 * the data as JSON in a script element, the page script (page.ts, compiled) inlined; tables
 * are rendered here, charts by the page script. Nothing is fetched: the file works offline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { METRICS } from '../compare-stats.js';
import type { BarMetric, ReportData, SweepCell, SweepView } from './model.js';

const require = createRequire(import.meta.url);

function asset(spec: string): string {
  return readFileSync(require.resolve(spec), 'utf8');
}

/** The compiled page script (dist/report/page.js), without its module footer. */
function pageScript(): string {
  const here = fileURLToPath(import.meta.url);
  // Under a TypeScript runner (tests), read the compiled script from dist.
  const js = here.endsWith('.ts') ? fileURLToPath(new URL('../../dist/report/page.js', import.meta.url)) : fileURLToPath(new URL('./page.js', import.meta.url));
  return readFileSync(js, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Safe inside a <script> element: no "</script", no "<!--". */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

function fmt(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '–';
  if (unit === '/s' || unit === 'count' || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function table(head: string[] | undefined, rows: string[][], cls = ''): string {
  const thead = head ? `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` : '';
  return `<table${cls ? ` class="${cls}"` : ''}>${thead}<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A metric's label with its unit, unless the label says it already. */
const named = (m: BarMetric) => (m.label.includes(m.unit) ? m.label : `${m.label} (${m.unit})`);
const arrow = (m: BarMetric) => (m.better === 'higher' ? ' ↑' : m.better === 'lower' ? ' ↓' : '');

function sourcesSection(d: ReportData): string {
  const rows = d.sources.map((s) => [`<code>${esc(s.file)}</code>`, s.kind, esc(s.what)]);
  const notes = d.notes.length > 0 ? `<ul class="notes">${d.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `${table(['file', 'kind', 'what'], rows)}${notes}`;
}

function environmentSection(d: ReportData): string {
  if (d.environments.length === 0) return '<p>No environment recorded.</p>';
  const intro = d.environments.length > 1 ? `<p class="warn">These results come from ${d.environments.length} different environments: compare their figures with care.</p>` : '';
  return (
    intro +
    d.environments
      .map((e) => {
        const rows = [...e.rows, ['started', e.started[0] === e.started[1] ? e.started[0] : `${e.started[0]} … ${e.started[1]}`], ['results', e.sources.join(', ')]];
        return table(undefined, rows.map(([k, v]) => [esc(k), esc(v)]), 'env');
      })
      .join('')
  );
}

function comparisonSection(d: ReportData): string {
  if (d.comparisons.length === 0) return '<p class="empty">No compare document and no several run results given: nothing to compare side by side.</p>';
  return d.comparisons
    .map((c, ci) => {
      const bars = d.barMetrics.map((m) => `<div class="chart" id="chart-bars-${ci}-${m.key}"></div>`).join('');
      const keys = Object.keys(c.variants[0]?.spread ?? {});
      const rows = keys.map((k) => {
        const m: BarMetric = { key: k, label: k, unit: '', better: 'none', ...metricOf(k) };
        return [
          `${esc(m.label)}${arrow(m)}`,
          ...c.variants.map((v) => {
            const s = v.spread[k];
            return s ? `${fmt(s.median, m.unit)} <span class="range">[${fmt(s.min, m.unit)}–${fmt(s.max, m.unit)}]</span>` : '–';
          }),
        ];
      });
      return `<h3>${esc(c.title)}</h3><p class="meta">from ${esc(c.source)}</p><div class="bars">${bars}</div>
<details><summary>every metric: median [min–max]</summary>${table(['metric', ...c.variants.map((v) => esc(v.name))], rows, 'num')}</details>`;
    })
    .join('');
}

/** Labels and units of every compare metric (the page data keeps only the charted ones). */
const METRIC_INDEX = new Map<string, BarMetric>(METRICS.map(({ key, label, unit, better }) => [key, { key, label, unit, better }]));
const metricOf = (k: string) => METRIC_INDEX.get(k) ?? {};

function heatColour(t: number): [string, string] {
  // Light to dark blue; white text on the dark half.
  const a = [239, 246, 255];
  const b = [8, 69, 148];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return [`rgb(${c.join(',')})`, t > 0.55 ? '#fff' : '#111'];
}

function heatmaps(s: SweepView, metrics: BarMetric[], si: number): string {
  const cellAt = (pipeline: string, batch: number, codec: string, ram: string): SweepCell | undefined =>
    s.cells.find((c) => c.pipeline === pipeline && c.batch === batch && c.codec === codec && c.ram === ram);
  return metrics
    .map((m, mi) => {
      const vals = s.cells.map((c) => c.values[m.key]).filter((v): v is number => v !== null);
      const lo = Math.min(...vals);
      const hi = Math.max(...vals);
      const goodness = (v: number) => {
        const t = hi > lo ? (v - lo) / (hi - lo) : 1;
        return m.better === 'lower' ? 1 - t : t;
      };
      const panels = s.axes.codec.map((codec) =>
        s.axes.ram.map((ram) => {
          const rows = s.axes.pipeline.map((p) => [
            `<th>${esc(p)}</th>`,
            ...s.axes.batch.map((b) => {
              const c = cellAt(p, b, codec, ram);
              const v = c?.values[m.key] ?? null;
              if (!c) return '<td class="none" title="not a point of this grid (or not run)">·</td>';
              if (v === null) return `<td class="none" title="${esc(c.key)}">–</td>`;
              const [bg, fg] = heatColour(goodness(v));
              return `<td class="cell" style="background:${bg};color:${fg}" title="${esc(c.key)}${c.ok ? '' : ' (checks FAILED)'}">${fmt(v, m.unit)}${c.ok ? '' : ' ⚠'}</td>`;
            }),
          ]);
          return `<figure class="heat"><figcaption>codec ${esc(codec)} · ram ${esc(ram)}</figcaption><table class="heat"><thead><tr><th>pipeline \\ batch</th>${s.axes.batch
            .map((b) => `<th>${b}</th>`)
            .join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table></figure>`;
        }).join(''),
      );
      const scale = m.better === 'none' ? 'darker = higher' : 'darker = better';
      const rows = panels.map((row) => `<div class="heatrow">${row}</div>`).join('');
      return `<div class="heatmaps" data-sweep="${si}" data-metric="${m.key}"${mi === 0 ? '' : ' hidden'}><p class="meta">${esc(named(m))}${arrow(m)} · ${scale} · range ${fmt(lo, m.unit)} – ${fmt(hi, m.unit)}</p>${rows}</div>`;
    })
    .join('');
}

function sweepSection(d: ReportData): string {
  if (d.sweeps.length === 0) return '<p class="empty">No sweep JSON lines given.</p>';
  return d.sweeps
    .map((s, si) => {
      const options = d.sweepMetrics.map((m) => `<option value="${m.key}">${esc(m.label)}${arrow(m)}</option>`).join('');
      const pointRows = [...s.cells]
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((c) => [esc(c.ran), esc(c.codec), esc(c.ram), ...d.sweepMetrics.map((m) => fmt(c.values[m.key], m.unit)), c.ok ? 'ok' : '<b class="bad">FAILED</b>']);
      const dup = s.duplicates.length > 0 ? `; ${s.duplicates.length} duplicate point${s.duplicates.length === 1 ? '' : 's'} kept once` : '';
      return `<h3>sweep ${esc(s.id)}</h3>
<p class="meta">${s.cells.length} of the grid's ${s.gridSize} points, from ${s.files.map((f) => `<code>${esc(f)}</code>`).join(', ')}${dup}.
Rows: the pipeline as listed in the grid; columns: the batch size it was combined with (kcompressd × 8 runs batch:8, padata:2 × 8 runs padata:2+batch:8); · not a point.</p>
<label>metric <select class="heat-metric" data-sweep="${si}">${options}</select></label>
${heatmaps(s, d.sweepMetrics, si)}
<details><summary>every point</summary>${table(['pipeline (ran)', 'codec', 'ram', ...d.sweepMetrics.map((m) => `${esc(m.label)}${arrow(m)}`), 'checks'], pointRows, 'num')}</details>
<details><summary>the config every point shares</summary><pre>${esc(JSON.stringify(s.config, null, 2))}</pre></details>`;
    })
    .join('');
}

const CSS = `
[hidden] { display: none !important; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 0; background: #fff; }
header, nav, main { max-width: 1140px; margin: 0 auto; padding: 0 20px; }
header h1 { margin: 24px 0 4px; font-size: 26px; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
h3 { margin: 24px 0 4px; }
p.meta, .meta { color: #555; margin: 4px 0 10px; }
nav ol { columns: 2; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
table.num td { text-align: right; white-space: nowrap; }
table.num td:first-child { text-align: left; }
table.env td:first-child { color: #444; }
.range { color: #666; font-size: 12px; }
.chart { margin: 8px 0 24px; min-height: 40px; }
.chart.empty, p.empty { color: #666; font-style: italic; }
.bars { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 8px 24px; }
.heatmaps > p { margin: 6px 0 4px; }
.heatrow { display: flex; flex-wrap: wrap; gap: 12px 28px; margin-bottom: 12px; }
figure.heat { margin: 0; }
figure.heat figcaption { font-weight: 600; margin-bottom: 2px; }
table.heat td { text-align: right; min-width: 90px; font-variant-numeric: tabular-nums; }
table.heat td.none { color: #999; text-align: center; background: #fafafa; }
.warn { color: #8a4b00; }
.bad { color: #b00020; }
.notes { color: #8a4b00; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 320px; }
code { font-size: 13px; }
.u-title { font-size: 15px !important; font-weight: 600 !important; }
`;

export function renderHtml(d: ReportData): string {
  const sections: [string, string, string][] = [
    ['sources', 'Sources', sourcesSection(d)],
    ['environment', 'Environment', environmentSection(d)],
    [
      'throughput',
      'Reclaim throughput over time',
      '<p class="meta">pgsteal_anon per second (pages reclaimed from anonymous memory, by kswapd and by direct reclaim), over each step of the time grid, for every run result and sweep point. One colour per pipeline · codec (the same in every chart); the line’s dash tells the RAM budget apart. Click a legend entry to hide or show a run.</p><div class="chart" id="chart-throughput"></div>',
    ],
    [
      'free',
      'Free memory and watermarks over time',
      '<p class="meta">Free pages of one run against its watermarks: below low kswapd wakes, at high it sleeps, at min allocations stall and reclaim directly (allocstall).</p><label>run <select id="free-run"></select></label><div class="chart" id="chart-free"></div>',
    ],
    [
      'ring',
      'Ring depth over time',
      '<p class="meta">Pages kswapd has published to the compression workers’ rings (kcompressd’s kfifo, one per padata worker) and no worker has taken yet, summed over the rings, sampled every 100 ms, against the rings’ capacity. A full ring makes kswapd compress inline (kcompressd_fifo_full) or wait (--on-full wait). The sweep’s heat-maps show every point’s mean depth.</p><label>run <select id="ring-run"></select></label><div class="chart" id="chart-ring"></div>',
    ],
    [
      'latency',
      'Latency percentiles',
      '<p class="meta">One chart per latency histogram; x is 1/(1−p) on a log axis (p50, p90, p99, p99.9 …), y the latency in µs on a log axis. Solid curves: the histogram buckets of every run with that pipeline and codec, merged. Dotted with points: a compare document’s medians of p50/p90/p99/p99.9 (it keeps no buckets). A curve stops where its histogram holds too few records for the percentile.</p><div id="latency-charts"></div>',
    ],
    ['compare', 'Pipeline comparison', comparisonSection(d)],
    ['sweep', 'Sweep', sweepSection(d)],
  ];
  const toc = sections.map(([id, title]) => `<li><a href="#${id}">${esc(title)}</a></li>`).join('');
  const body = sections.map(([id, title, html], i) => `<section id="${id}"><h2>${i + 1}. ${esc(title)}</h2>${html}</section>`).join('\n');
  const json = JSON.stringify(d).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zreclaim report</title>
<style>${asset('uplot/dist/uPlot.min.css')}</style>
<style>${CSS}</style>
</head>
<body>
<header><h1>zreclaim report</h1><p class="meta">Generated ${esc(d.generatedAt)} from ${d.sources.length} file${d.sources.length === 1 ? '' : 's'}. Counter names are the kernel’s (/proc/vmstat, zram mm_stat). Self-contained: opens offline.</p></header>
<nav id="toc"><h2>Contents</h2><ol>${toc}</ol></nav>
<main>
${body}
</main>
<script>${scriptSafe(asset('uplot/dist/uPlot.iife.min.js'))}</script>
<script type="application/json" id="report-data">${json}</script>
<script type="module">${scriptSafe(pageScript())}</script>
</body>
</html>
`;
}
