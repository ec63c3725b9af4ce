/**
 * The numbers of `zreclaim compare`: the headline metrics (kernel names), each read from a
 * trimmed run, their median and min–max over a variant's runs, and the ratio of each
 * variant's median to the first variant's.
 */
import { LATENCIES, type RunResult } from '@zreclaim/engine';
import type { CompareRun, Metric, Variant } from './compare-schema.js';

type Read = (r: CompareRun) => number | null;

export interface MetricDef extends Metric {
  read: Read;
}

/** A latency percentile in µs; null when the histogram is empty (the event never happened). */
const lat =
  (name: (typeof LATENCIES)[number], p: 'p50' | 'p99'): Read =>
  (r) =>
    r.latency[name].count > 0 ? r.latency[name][p] / 1000 : null;

const latency = (name: (typeof LATENCIES)[number], p: 'p50' | 'p99'): MetricDef => ({
  key: `${name}_${p}_us`,
  label: `${name} ${p} µs`,
  unit: 'µs',
  better: 'lower',
  read: lat(name, p),
});

export const METRICS: MetricDef[] = [
  { key: 'pgsteal_anon_per_s', label: 'pgsteal_anon/s', unit: '/s', better: 'higher', read: (r) => r.rates.pgsteal_anon_per_s },
  { key: 'pgscan_per_s', label: 'pgscan/s', unit: '/s', better: 'none', read: (r) => r.rates.pgscan_per_s },
  { key: 'allocstall', label: 'allocstall', unit: 'count', better: 'lower', read: (r) => r.counters.allocstall },
  latency('alloc_stall', 'p50'),
  latency('alloc_stall', 'p99'),
  { key: 'kswapd_busy_ms', label: 'kswapd CPU ms (busy_ms)', unit: 'ms', better: 'lower', read: (r) => r.kswapd.busy_ms },
  latency('compress', 'p50'),
  latency('compress', 'p99'),
  latency('compress_batch', 'p50'),
  latency('ring_wait', 'p50'),
  latency('ring_wait', 'p99'),
  latency('swapin', 'p50'),
  latency('swapin', 'p99'),
  latency('writeback_wait', 'p99'),
  { key: 'compression_ratio', label: 'compression ratio', unit: '×', better: 'higher', read: (r) => (r.compression_ratio > 0 ? r.compression_ratio : null) },
  { key: 'kcompressd_enqueued', label: 'kcompressd_enqueued', unit: 'count', better: 'none', read: (r) => r.counters.kcompressd_enqueued },
  { key: 'kcompressd_fifo_full', label: 'kcompressd_fifo_full', unit: 'count', better: 'lower', read: (r) => r.counters.kcompressd_fifo_full },
  { key: 'batch_count', label: 'batch_count', unit: 'count', better: 'none', read: (r) => r.counters.batch_count },
  { key: 'crashes', label: 'crashes', unit: 'count', better: 'lower', read: (r) => r.pipeline.crashes },
];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Runs that had a value (fewer than R when some runs never saw the event). */
  runs: number;
}

export function spreadOf(xs: (number | null)[]): Spread | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), runs: v.length };
}

/** a ÷ b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

/** The part of a RunResult a compare document keeps. */
export function trimRun(r: RunResult, round: number, order: number): CompareRun {
  const latency = Object.fromEntries(
    LATENCIES.map((k) => {
      const { count, min, max, mean, p50, p90, p99, p999 } = r.latency[k];
      return [k, { count, min, max, mean, p50, p90, p99, p999 }];
    }),
  ) as CompareRun['latency'];
  return {
    round,
    order,
    startedAt: r.environment.startedAt,
    ended: r.ended,
    elapsedMs: r.elapsedMs,
    counters: r.counters,
    mm_stat: r.mm_stat,
    rates: r.rates,
    compression_ratio: r.compression_ratio,
    kswapd: r.kswapd,
    latency,
    pipeline: r.pipeline,
    checks: r.checks,
  };
}

/** Medians and spreads of every metric over a variant's runs. */
export function summarize(runs: CompareRun[]): Pick<Variant, 'medians' | 'spread'> {
  const spread: Variant['spread'] = {};
  const medians: Variant['medians'] = {};
  for (const m of METRICS) {
    const s = spreadOf(runs.map(m.read));
    spread[m.key] = s;
    medians[m.key] = s?.median ?? null;
  }
  return { medians, spread };
}

/** Whether a run's checks passed: counters add up and no read mismatched. */
export function runProblems(r: CompareRun): string[] {
  const c = r.checks;
  if (c.counters_add_up && c.mismatches === 0) return [];
  if (c.problems.length > 0) return c.problems;
  const out: string[] = [];
  if (!c.counters_add_up) out.push(`pswpout − notify_free = ${c.stored_by_counters}, but ${c.stored_pages} pages are stored`);
  if (c.mismatches > 0) out.push(`${c.mismatches} reads did not match what was written`);
  return out;
}
