/**
 * `zreclaim compare --json`: one document, schema `zreclaim.compare/v1`. Each variant keeps
 * its runs in a trimmed form (no time series, latency summaries without buckets) with the
 * round and the global order in which it ran, so the interleaving can be checked.
 */
import { z } from 'zod';
import { LATENCIES, RunResultSchema, type VmstatName } from '@zreclaim/engine';

export const COMPARE_SCHEMA = 'zreclaim.compare/v1';

const n = z.number();

/** A latency histogram's summary (nanoseconds), without its buckets. */
export const LatencySummarySchema = z.object({ count: n, min: n, max: n, mean: n, p50: n, p90: n, p99: n, p999: n }).strict();

const run = RunResultSchema.shape;

export const CompareRunSchema = z
  .object({
    /** 1-based repetition. */
    round: z.number().int().positive(),
    /** 0-based position in the whole schedule: (round − 1) × variants + variant index. */
    order: z.number().int().nonnegative(),
    startedAt: z.string(),
    ended: run.ended,
    elapsedMs: n,
    counters: run.counters,
    mm_stat: run.mm_stat,
    rates: run.rates,
    compression_ratio: n,
    kswapd: run.kswapd,
    latency: z.object(Object.fromEntries(LATENCIES.map((k) => [k, LatencySummarySchema]))).strict(),
    pipeline: run.pipeline,
    checks: run.checks,
  })
  .strict();
export type LatencySummary = z.infer<typeof LatencySummarySchema>;
/** The schema's type, with the per-name records typed by their declared names. */
export type CompareRun = Omit<z.infer<typeof CompareRunSchema>, 'counters' | 'latency'> & {
  counters: Record<VmstatName, number>;
  latency: Record<(typeof LATENCIES)[number], LatencySummary>;
};

export const MetricSchema = z.object({
  key: z.string(),
  /** As the table shows it (kernel names). */
  label: z.string(),
  unit: z.string(),
  /** Which direction is an improvement; 'none' for metrics that only describe. */
  better: z.enum(['higher', 'lower', 'none']),
});
export type Metric = z.infer<typeof MetricSchema>;

/** A metric over a variant's runs; null when no run had the event (e.g. ring_wait inline). */
export const SpreadSchema = z.object({ median: n, min: n, max: n, runs: z.number().int().nonnegative() });

export const VariantSchema = z.object({
  name: z.string(),
  pipeline: z.string(),
  codec: z.string(),
  configHash: z.string(),
  runs: z.array(CompareRunSchema),
  medians: z.record(z.string(), n.nullable()),
  spread: z.record(z.string(), SpreadSchema.nullable()),
});
export type Variant = z.infer<typeof VariantSchema>;

export const CompareResultSchema = z.object({
  schema: z.literal(COMPARE_SCHEMA),
  kind: z.literal('compare'),
  environment: run.environment,
  /** The config every variant shares (pipeline and codec are per variant). */
  config: z.record(z.string(), z.unknown()),
  pipelines: z.array(z.string()),
  codecs: z.array(z.string()),
  repeat: z.number().int().positive(),
  /** Every round runs each variant once, in the order of `variants`. */
  schedule: z.literal('interleaved'),
  metrics: z.array(MetricSchema),
  variants: z.array(VariantSchema).min(1),
  /** Combinations the engine refused, with its reason. */
  skipped: z.array(z.object({ pipeline: z.string(), codec: z.string(), reason: z.string() })),
  /** For every variant after the first: its median ÷ the first variant's median (null: undefined). */
  ratios: z.array(z.object({ variant: z.string(), baseline: z.string(), values: z.record(z.string(), n.nullable()) })),
  /** Runs whose checks failed. */
  failures: z.array(z.object({ variant: z.string(), round: z.number().int().positive(), problems: z.array(z.string()) })),
  ok: z.boolean(),
});
export type CompareResult = z.infer<typeof CompareResultSchema>;
