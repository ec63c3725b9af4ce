/**
 * `zreclaim gate`'s files, each with a versioned schema:
 *
 * - a scenario (`zreclaim.gate-scenario/v1`, one file each under bench/gate/scenarios/):
 *   the variants it runs on one config (engine drains through a pipeline, the bare codec
 *   loop on the same pages, or a reclaim run), how many pairs or runs make one round, and
 *   its metrics: each the ratio of two figures measured side by side in the same round,
 *   with the direction that is better and optional thresholds;
 * - the baseline (`zreclaim.gate-baseline/v1`, bench/gate/baseline.json): per scenario the
 *   hash of every variant's resolved config and, per metric, its definition, the median of
 *   the per-round ratios and their band, with the environment that recorded it;
 * - the gate's result (`zreclaim.gate/v1`, --json).
 */
import { z } from 'zod';

export const SCENARIO_SCHEMA = 'zreclaim.gate-scenario/v1';
export const BASELINE_SCHEMA = 'zreclaim.gate-baseline/v1';
export const GATE_SCHEMA = 'zreclaim.gate/v1';

/** The noise band the gate uses, as every output names it. */
export const BAND_METHOD = 'min–max of the per-round ratios';

/** A threshold: a fraction (0.25) or a percentage string ("25%"). Checked by parseThreshold. */
export const ThresholdInput = z.union([z.number(), z.string()]);

const name = z.string().regex(/^[a-z0-9][a-z0-9_.:-]*$/i, 'names are letters, digits and _ . : - (no spaces)');

const ThresholdsSchema = z.object({ warn: ThresholdInput.optional(), fail: ThresholdInput.optional() }).strict();

/** Repetitions inside one round: `full` for a full gate, `short` for --short. */
const Reps = z
  .object({ full: z.number().int().min(1).max(1000), short: z.number().int().min(1).max(1000) })
  .strict();

/** Engine config (validated by the engine's resolveConfig when the scenario is loaded). */
const ConfigObject = z.record(z.string(), z.unknown());

const DrainVariant = z
  .object({
    /** An engine drain (engine.drain()) through this variant's config: the scenario's config with `config` merged over it. */
    kind: z.literal('drain'),
    config: ConfigObject.default({}),
  })
  .strict();

const CodecLoopVariant = z
  .object({
    /** The bare codec loop: the engine's codec (createCodec) over the same pages the drain filled, as many as a drain reclaims, on this thread. */
    kind: z.literal('codec-loop'),
    config: ConfigObject.default({}),
  })
  .strict();

const MetricBase = {
  name,
  /** One line for people: what the ratio says. */
  description: z.string().optional(),
  better: z.enum(['bigger', 'smaller']),
  warn: ThresholdInput.optional(),
  fail: ThresholdInput.optional(),
};

const DrainMetric = z
  .object({
    ...MetricBase,
    /** Variant names: pages/s of the numerator ÷ pages/s of the denominator, pair by pair. */
    numerator: name,
    denominator: name,
  })
  .strict();

/** A figure of a run: latency.<histogram>.<p50|p90|p99|p999|mean|max>, rates.<rate> or counters.<counter>. */
export const RUN_FIGURE_RE = /^(latency\.[a-z_]+\.(p50|p90|p99|p999|mean|max)|rates\.[a-z_]+|counters\.[a-z_]+)$/;

const RunMetric = z
  .object({
    ...MetricBase,
    numerator: z.string().regex(RUN_FIGURE_RE, 'expected latency.<name>.<p50|p90|p99|p999|mean|max>, rates.<name> or counters.<name>'),
    denominator: z.string().regex(RUN_FIGURE_RE, 'expected latency.<name>.<p50|p90|p99|p999|mean|max>, rates.<name> or counters.<name>'),
  })
  .strict();

const common = {
  schema: z.literal(SCENARIO_SCHEMA),
  name,
  description: z.string().optional(),
  /** The engine config every variant starts from. */
  config: ConfigObject,
  /** Scenario-wide thresholds (each metric may set its own). */
  thresholds: ThresholdsSchema.optional(),
};

export const DrainScenarioSchema = z
  .object({
    ...common,
    kind: z.literal('drain'),
    variants: z.record(name, z.discriminatedUnion('kind', [DrainVariant, CodecLoopVariant])),
    /** Pairs per round: every variant runs once per pair, the order alternating pair by pair; a round's ratio is the median of its pairs' ratios. */
    pairs: Reps,
    metrics: z.array(DrainMetric).min(1),
  })
  .strict();

export const RunScenarioSchema = z
  .object({
    ...common,
    kind: z.literal('run'),
    /** Runs per round (engine.run() on the scenario's config); a round's ratio is the median of its runs' ratios. */
    runs: Reps,
    metrics: z.array(RunMetric).min(1),
  })
  .strict();

export const ScenarioSchema = z.discriminatedUnion('kind', [DrainScenarioSchema, RunScenarioSchema]);
export type Scenario = z.infer<typeof ScenarioSchema>;
export type DrainScenario = z.infer<typeof DrainScenarioSchema>;
export type RunScenario = z.infer<typeof RunScenarioSchema>;

const n = z.number();
const Band = z.tuple([n, n]);

export const BaselineMetricSchema = z
  .object({
    /** "inline ÷ codec, bigger is better": changing it needs a new baseline. */
    definition: z.string(),
    better: z.enum(['bigger', 'smaller']),
    /** Median of the per-round ratios. */
    value: n.positive(),
    band: Band,
    rounds: z.array(n).min(1),
  })
  .strict();

export const BaselineSchema = z
  .object({
    schema: z.literal(BASELINE_SCHEMA),
    recordedAt: z.string(),
    mode: z.enum(['full', 'short']),
    rounds: z.number().int().positive(),
    band: z.string(),
    environment: z.record(z.string(), z.unknown()),
    scenarios: z.record(
      name,
      z
        .object({
          /** Hash of every variant's kind and resolved engine config. */
          configHash: z.string(),
          /** Per variant: its kind and configHash(resolveConfig(config)), to say which one changed. */
          variants: z.record(name, z.string()),
          metrics: z.record(name, BaselineMetricSchema),
        })
        .strict(),
    ),
  })
  .strict();
export type Baseline = z.infer<typeof BaselineSchema>;
export type BaselineMetric = z.infer<typeof BaselineMetricSchema>;

export type Verdict = 'ok' | 'noise' | 'better' | 'warn' | 'fail';

export interface MetricResult {
  scenario: string;
  metric: string;
  /** scenario/metric */
  id: string;
  description: string | undefined;
  definition: string;
  better: 'bigger' | 'smaller';
  baseline: number | null;
  now: number;
  /** now ÷ baseline − 1 (signed), null without a baseline. */
  change: number | null;
  /** How much worse than the baseline (positive) or better (negative), as a fraction of it. */
  worse: number | null;
  band: [number, number];
  rounds: number[];
  /** Every pair's (or run's) ratio, round by round. */
  pairs: number[][];
  warn: number;
  fail: number;
  verdict: Verdict;
}

export interface GateResult {
  schema: typeof GATE_SCHEMA;
  kind: 'gate';
  environment: Record<string, unknown>;
  mode: 'full' | 'short';
  rounds: number;
  band: string;
  /** Busy work injected per compressed page (ns; ZRECLAIM_INJECT_COMPRESS_NS), 0 normally. */
  injectCompressNs: number;
  baseline: { file: string; recordedAt: string; mode: 'full' | 'short'; rounds: number; commit: unknown } | null;
  scenarios: { name: string; file: string; kind: string; configHash: string; seconds: number }[];
  metrics: MetricResult[];
  /** ids of the metrics that failed. */
  regressions: string[];
  warnings: string[];
  updated: boolean;
  ok: boolean;
  seconds: number;
}
