/**
 * What the report page draws, computed here from the inputs (the page only renders it):
 * every run's throughput, free memory and ring depth on one time grid; latency percentile
 * curves from the histograms' buckets; comparison bars with spreads; sweep cells.
 */
import { LATENCIES, type LatencyName } from '@zreclaim/engine';
import { Histogram } from '@zreclaim/shm';
import type { CompareRun } from '../compare-schema.js';
import { METRICS, summarize, trimRun } from '../compare-stats.js';
import type { SweepResult } from '../sweep/points.js';
import { shortName, type Inputs } from './load.js';

export const REPORT_DATA_SCHEMA = 'zreclaim.report-data/v1';

type Num = number | null;

export interface TimelineRun {
  id: string;
  label: string;
  /** pipeline · codec: the group whose latency histograms merge (and whose colour it has). */
  group: string;
  /** The RAM budget as configured ("50%" or pages): runs of one group differ by it (and by its line's dash). */
  ram: string;
  source: string;
  workers: number;
  /** Pages the rings hold at most (workers × ring capacity); 0 inline. */
  ringCapacity: number;
  /** pgsteal_anon per second over each grid step; null outside the run. */
  throughput: Num[];
  /** Free pages (mean over each step). */
  free: Num[];
  /** Pages in the rings (mean over each step); null when the result has no ring_depth. */
  ring: Num[] | null;
  wmark: { min: number; low: number; high: number; managed: number };
}

export interface Timeline {
  stepMs: number;
  /** Seconds since each run's start. */
  t: number[];
  runs: TimelineRun[];
}

export interface LatencySeries {
  label: string;
  /** pipeline · codec. */
  group: string;
  /** 'histogram': percentiles from merged buckets; 'summary': the medians of a compare variant's p50/p90/p99/p99.9. */
  kind: 'histogram' | 'summary';
  runs: number;
  count: number;
  /** µs at each x; null where the histogram has too few records for that percentile. */
  values: Num[];
}

export interface LatencyChart {
  name: LatencyName;
  series: LatencySeries[];
}

export interface Latency {
  /** 1/(1−p): 1 = p0, 2 = p50, 10 = p90, 100 = p99 … */
  x: number[];
  charts: LatencyChart[];
}

export interface BarMetric {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower' | 'none';
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export interface Comparison {
  title: string;
  source: string;
  repeat: number;
  variants: { name: string; spread: Record<string, Spread | null> }[];
}

export interface SweepCell {
  key: string;
  pipeline: string;
  batch: number;
  codec: string;
  ram: string;
  ran: string;
  values: Record<string, Num>;
  ok: boolean;
}

export interface SweepView {
  id: string;
  files: string[];
  gridSize: number;
  duplicates: string[];
  axes: { pipeline: string[]; batch: number[]; codec: string[]; ram: string[] };
  cells: SweepCell[];
  /** The config every point shares (the first point's, without pipeline, codec and ram). */
  config: Record<string, unknown>;
}

export interface EnvironmentView {
  rows: [string, string][];
  sources: string[];
  started: [string, string];
}

export interface ReportData {
  schema: typeof REPORT_DATA_SCHEMA;
  generatedAt: string;
  /** Every pipeline · codec, in display order: a group keeps its colour in every chart. */
  groups: string[];
  sources: Inputs['sources'];
  notes: string[];
  environments: EnvironmentView[];
  timeline: Timeline;
  latency: Latency;
  barMetrics: BarMetric[];
  comparisons: Comparison[];
  sweepMetrics: BarMetric[];
  sweeps: SweepView[];
}

// ---- time series ----

/** A grid step (ms): the samples' 100 ms, or coarser so the longest run has ≤ 240 steps. */
export function stepFor(maxMs: number): number {
  const nice = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 30_000, 60_000];
  return nice.find((s) => maxMs / s <= 240) ?? Math.ceil(maxMs / 240 / 60_000) * 60_000;
}

/** A cumulative counter at time t, interpolated between samples; null outside them. */
export function interpolate(t: number[], v: number[], at: number): Num {
  if (t.length === 0 || at < t[0] || at > t[t.length - 1]) return null;
  let i = 1;
  while (i < t.length && t[i] < at) i++;
  if (i >= t.length) return v[t.length - 1];
  const t0 = t[i - 1];
  const t1 = t[i];
  if (t1 === t0) return v[i];
  return v[i - 1] + ((v[i] - v[i - 1]) * (at - t0)) / (t1 - t0);
}

/** Per-second rate of a cumulative counter over each step ending at grid[k]. */
export function rateOnGrid(t: number[], v: number[], grid: number[]): Num[] {
  return grid.map((g, k) => {
    if (k === 0) return null;
    const a = interpolate(t, v, grid[k - 1]);
    const b = interpolate(t, v, g);
    return a === null || b === null ? null : ((b - a) * 1000) / (g - grid[k - 1]);
  });
}

/** A gauge's mean over each step (t_{k−1}, t_k]; the nearest sample when the step holds none; null outside the run. */
export function gaugeOnGrid(t: number[], v: number[], grid: number[]): Num[] {
  if (t.length === 0) return grid.map(() => null);
  const last = t[t.length - 1];
  return grid.map((g, k) => {
    if (g < t[0] || g > last + (grid[1] ?? 0) - (grid[0] ?? 0)) return null;
    const lo = k === 0 ? -Infinity : grid[k - 1];
    let sum = 0;
    let n = 0;
    let nearest = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i] > lo && t[i] <= g) {
        sum += v[i];
        n++;
      }
      if (Math.abs(t[i] - g) < Math.abs(t[nearest] - g)) nearest = i;
    }
    return n > 0 ? sum / n : v[nearest];
  });
}

interface AnyRun {
  id: string;
  label: string;
  source: string;
  result: SweepResult;
}

const ramOf = (r: SweepResult) => String((r.config as { ram?: unknown }).ram);
const groupOf = (pipeline: string, codec: string) => `${pipeline} · ${codec}`;

function runLabel(r: SweepResult): string {
  return `${groupOf(r.pipeline.name, r.pipeline.codec)} · ram ${ramOf(r)}`;
}

/** inline, kcompressd, batch:B, padata:N, padata:N+batch:B; within a kind by its numbers. */
export function pipelineOrder(a: string, b: string): number {
  const rank = (p: string) => (p === 'inline' ? 0 : p === 'kcompressd' ? 1 : p.startsWith('batch:') ? 2 : p.startsWith('padata:') ? 3 : 4);
  const nums = (p: string) => (p.match(/\d+/g) ?? []).map(Number);
  const [na, nb] = [nums(a), nums(b)];
  for (let i = 0; rank(a) === rank(b) && i < Math.max(na.length, nb.length); i++) if ((na[i] ?? -1) !== (nb[i] ?? -1)) return (na[i] ?? -1) - (nb[i] ?? -1);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export const ramOrder = (a: string, b: string) => parseFloat(a) - parseFloat(b) || (a < b ? -1 : a > b ? 1 : 0);

function groupOrder(a: { pipeline: string; codec: string }, b: { pipeline: string; codec: string }): number {
  return pipelineOrder(a.pipeline, b.pipeline) || (a.codec < b.codec ? -1 : a.codec > b.codec ? 1 : 0);
}

/** Every run result and sweep point, labelled (labels made unique). */
export function allRuns(inputs: Inputs): AnyRun[] {
  const out: AnyRun[] = [];
  inputs.runs.forEach((r, i) => out.push({ id: `run-${i}`, label: runLabel(r.result), source: shortName(r.file), result: r.result }));
  inputs.sweeps.forEach((s, j) =>
    s.points.forEach((p, i) => out.push({ id: `sweep-${j}-${i}`, label: runLabel(p.result), source: `sweep ${s.id}`, result: p.result })),
  );
  // Grouped for reading: by pipeline and codec, then ram (sort is stable: files keep their order).
  const key = (r: AnyRun) => ({ pipeline: r.result.pipeline.name, codec: r.result.pipeline.codec });
  out.sort((a, b) => groupOrder(key(a), key(b)) || ramOrder(ramOf(a.result), ramOf(b.result)));
  const seen = new Map<string, number>();
  for (const r of out) seen.set(r.label, (seen.get(r.label) ?? 0) + 1);
  const nth = new Map<string, number>();
  for (const r of out) {
    if ((seen.get(r.label) ?? 0) > 1) {
      const n = (nth.get(r.label) ?? 0) + 1;
      nth.set(r.label, n);
      r.label = `${r.label} (${r.source}${n > 1 ? ` #${n}` : ''})`;
    }
  }
  return out;
}

export function timeline(runs: AnyRun[]): Timeline {
  const maxMs = Math.max(0, ...runs.map((r) => r.result.timeseries.t_ms.at(-1) ?? 0));
  const stepMs = stepFor(maxMs);
  const grid: number[] = [];
  for (let g = 0; g <= maxMs + stepMs / 2; g += stepMs) grid.push(g);
  return {
    stepMs,
    t: grid.map((g) => g / 1000),
    runs: runs.map((r) => {
      const ts = r.result.timeseries;
      return {
        id: r.id,
        label: r.label,
        group: groupOf(r.result.pipeline.name, r.result.pipeline.codec),
        ram: ramOf(r.result),
        source: r.source,
        workers: r.result.pipeline.workers,
        ringCapacity: r.result.pipeline.workers * r.result.pipeline.ringCapacity,
        throughput: rateOnGrid(ts.t_ms, ts.pgsteal_anon, grid),
        free: gaugeOnGrid(ts.t_ms, ts.free, grid),
        ring: ts.ring_depth ? gaugeOnGrid(ts.t_ms, ts.ring_depth, grid) : null,
        wmark: ts.wmark,
      };
    }),
  };
}

// ---- latency percentiles ----

/** The x axis of the percentile curves, 1/(1−p), from p0 (1) to p99.999 (100000), ten steps a decade. */
export function percentileAxis(): number[] {
  const xs: number[] = [];
  for (let k = 0; k <= 50; k++) {
    const x = 10 ** (k / 10);
    xs.push(k === 3 ? 2 : Number(x.toPrecision(6)));
  }
  return xs;
}

/** Percentile values (µs) of a histogram's buckets at each x; null past what its count can tell (x > count). */
export function percentileCurve(buckets: [number, number][], xs: number[]): Num[] {
  const h = Histogram.fromSummary({ buckets });
  const count = buckets.reduce((s, b) => s + b[1], 0);
  return xs.map((x) => (count === 0 || x > count ? null : h.percentile(100 * (1 - 1 / x)) / 1000));
}

function mergeBuckets(all: [number, number][][]): [number, number][] {
  const m = new Map<number, number>();
  for (const bs of all) for (const [v, c] of bs) m.set(v, (m.get(v) ?? 0) + c);
  return [...m].sort((a, b) => a[0] - b[0]);
}

/** x of the compare documents' summaries: p50, p90, p99, p99.9. */
const SUMMARY_X: [number, 'p50' | 'p90' | 'p99' | 'p999'][] = [
  [2, 'p50'],
  [10, 'p90'],
  [100, 'p99'],
  [1000, 'p999'],
];

export function latency(runs: AnyRun[], inputs: Inputs): Latency {
  const x = percentileAxis();
  const groups = new Map<string, SweepResult[]>();
  for (const r of runs) {
    const g = groupOf(r.result.pipeline.name, r.result.pipeline.codec);
    groups.set(g, [...(groups.get(g) ?? []), r.result]);
  }
  const charts: LatencyChart[] = [];
  for (const name of LATENCIES) {
    const series: LatencySeries[] = [];
    for (const [g, rs] of groups) {
      const buckets = mergeBuckets(rs.map((r) => r.latency[name].buckets));
      const count = buckets.reduce((s, b) => s + b[1], 0);
      if (count === 0) continue;
      series.push({ label: `${g} (${rs.length} run${rs.length === 1 ? '' : 's'})`, group: g, kind: 'histogram', runs: rs.length, count, values: percentileCurve(buckets, x) });
    }
    for (const c of inputs.compares) {
      for (const v of c.doc.variants) {
        const withData = v.runs.filter((r) => r.latency[name].count > 0);
        if (withData.length === 0) continue;
        const med = (k: 'p50' | 'p90' | 'p99' | 'p999') => {
          const s = withData.map((r) => r.latency[name][k]).sort((a, b) => a - b);
          const m = s.length >> 1;
          return (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) / 1000;
        };
        const values: Num[] = x.map(() => null);
        const count = Math.min(...withData.map((r) => r.latency[name].count));
        for (const [px, k] of SUMMARY_X) if (px <= count) values[x.indexOf(px)] = med(k);
        series.push({ label: `${groupOf(v.pipeline, v.codec)} (${shortName(c.file)}, median of ${withData.length})`, group: groupOf(v.pipeline, v.codec), kind: 'summary', runs: withData.length, count, values });
      }
    }
    if (series.length > 0) charts.push({ name, series });
  }
  return { x, charts };
}

// ---- comparisons ----

export const BAR_METRICS = ['pgsteal_anon_per_s', 'allocstall', 'alloc_stall_p99_us', 'kswapd_busy_ms'];

function asCompareRun(r: SweepResult, i: number): CompareRun {
  return trimRun({ ...r, apps: [] } as Parameters<typeof trimRun>[0], 1, i);
}

export function comparisons(inputs: Inputs): Comparison[] {
  const out: Comparison[] = inputs.compares.map((c) => ({
    title: `${c.doc.variants.map((v) => v.name).join(' vs ')} (${c.doc.repeat} interleaved run${c.doc.repeat === 1 ? '' : 's'} each)`,
    source: shortName(c.file),
    repeat: c.doc.repeat,
    variants: c.doc.variants.map((v) => ({ name: v.name, spread: v.spread })),
  }));
  // Run results given as files: one bar per pipeline · codec, spread over its runs.
  if (inputs.runs.length > 1) {
    const groups = new Map<string, CompareRun[]>();
    inputs.runs.forEach((r, i) => {
      const g = `${r.result.pipeline.name} · ${r.result.pipeline.codec}`;
      groups.set(g, [...(groups.get(g) ?? []), asCompareRun(r.result, i)]);
    });
    const most = Math.max(...[...groups.values()].map((g) => g.length));
    out.push({
      title: `run results given as files, by pipeline · codec (${inputs.runs.length} runs)`,
      source: inputs.runs.map((r) => shortName(r.file)).join(', '),
      repeat: most,
      variants: [...groups].map(([name, rs]) => ({ name, spread: summarize(rs).spread })),
    });
  }
  return out;
}

// ---- sweeps ----

export const SWEEP_METRICS = ['pgsteal_anon_per_s', 'allocstall', 'alloc_stall_p99_us', 'kswapd_busy_ms', 'ring_depth_mean', 'ring_wait_p99_us', 'compression_ratio'];

/** Beyond compare's metrics: the rings' mean depth over the run's samples (null inline, or for results from before ring_depth). */
const RING_DEPTH_MEAN: BarMetric = { key: 'ring_depth_mean', label: 'ring depth, mean', unit: 'pages', better: 'none' };

function ringDepthMean(r: SweepResult): Num {
  const d = r.timeseries.ring_depth;
  if (!d || d.length === 0 || r.pipeline.workers === 0) return null;
  return d.reduce((s, x) => s + x, 0) / d.length;
}

export function sweeps(inputs: Inputs): SweepView[] {
  const read = new Map(METRICS.map((m) => [m.key, m.read]));
  return inputs.sweeps.map((s) => {
    const uniq = <T>(xs: T[]) => [...new Set(xs)];
    const pts = s.points;
    const byNum = (a: number, b: number) => a - b;
    const { pipeline: _p, pipe: _pipe, codec: _c, ram: _r, ramPages: _rp, wmark: _w, ...config } = (pts[0]?.result.config ?? {}) as Record<string, unknown>;
    return {
      id: s.id,
      files: s.files.map(shortName),
      gridSize: s.gridSize,
      duplicates: s.duplicates,
      axes: {
        pipeline: uniq(pts.map((p) => p.params.pipeline)).sort(pipelineOrder),
        batch: uniq(pts.map((p) => p.params.batch)).sort(byNum),
        codec: uniq(pts.map((p) => p.params.codec)).sort(),
        ram: uniq(pts.map((p) => p.params.ram)).sort(ramOrder),
      },
      cells: pts.map((p, i) => {
        const run = asCompareRun(p.result, i);
        return {
          key: p.key,
          ...p.params,
          ran: p.pipeline,
          values: Object.fromEntries(SWEEP_METRICS.map((k) => [k, k === RING_DEPTH_MEAN.key ? ringDepthMean(p.result) : (read.get(k)?.(run) ?? null)])),
          ok: p.result.checks.counters_add_up && p.result.checks.mismatches === 0,
        };
      }),
      config,
    };
  });
}


// ---- environments ----

export function environments(inputs: Inputs): EnvironmentView[] {
  const envs: { env: SweepResult['environment']; source: string }[] = [
    ...inputs.runs.map((r) => ({ env: r.result.environment, source: shortName(r.file) })),
    ...inputs.compares.map((c) => ({ env: c.doc.environment, source: shortName(c.file) })),
    ...inputs.sweeps.flatMap((s) => s.points.map((p) => ({ env: p.result.environment, source: `sweep ${s.id}` }))),
  ];
  const byMachine = new Map<string, EnvironmentView>();
  for (const { env: e, source } of envs) {
    const rows: [string, string][] = [
      ['machine (CPU model)', e.cpuModel.trim()],
      ['cores', String(e.cores)],
      ['memory', `${e.memoryGiB} GiB`],
      ['OS', `${e.platform} ${e.arch}, kernel ${e.kernel}`],
      ['Node.js', e.node],
      ['V8', e.v8],
      ['libuv thread pool (UV_THREADPOOL_SIZE)', String(e.libuvThreadpoolSize)],
      ['commit', e.commit ?? 'unknown (not a git checkout)'],
    ];
    const id = JSON.stringify(rows);
    const v = byMachine.get(id);
    if (!v) byMachine.set(id, { rows, sources: [source], started: [e.startedAt, e.startedAt] });
    else {
      if (!v.sources.includes(source)) v.sources.push(source);
      if (e.startedAt < v.started[0]) v.started[0] = e.startedAt;
      if (e.startedAt > v.started[1]) v.started[1] = e.startedAt;
    }
  }
  return [...byMachine.values()];
}

export function buildReportData(inputs: Inputs, now = new Date()): ReportData {
  const runs = allRuns(inputs);
  const def = (keys: string[]) =>
    keys.map((k) => {
      const m = METRICS.find((x) => x.key === k) ?? RING_DEPTH_MEAN;
      return { key: m.key, label: m.label, unit: m.unit, better: m.better };
    });
  const lat = latency(runs, inputs);
  const groups = [...new Set([...runs.map((r) => groupOf(r.result.pipeline.name, r.result.pipeline.codec)), ...lat.charts.flatMap((c) => c.series.map((s) => s.group))])];
  return {
    schema: REPORT_DATA_SCHEMA,
    generatedAt: now.toISOString(),
    groups,
    sources: inputs.sources,
    notes: inputs.notes,
    environments: environments(inputs),
    timeline: timeline(runs),
    latency: lat,
    barMetrics: def(BAR_METRICS),
    comparisons: comparisons(inputs),
    sweepMetrics: def(SWEEP_METRICS),
    sweeps: sweeps(inputs),
  };
}
