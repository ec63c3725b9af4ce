/**
 * The result of a run: one versioned schema, the same object the API returns and the CLI
 * prints with --json. `RunResultSchema` validates it (tests and `report`/`gate` readers use
 * it); `resultJsonSchema()` gives it as JSON Schema for other tools.
 */
import { z } from 'zod';
import type { HistogramSummary } from '@zreclaim/shm';
import type { Config } from './config.js';
import { LATENCIES, VMSTAT, type LatencyName, type VmstatName } from './vmstat.js';

export const RESULT_SCHEMA = 'zreclaim.result/v1';

const n = z.number();
/** A latency value: the JSON Schema says its unit, as the TypeScript type (LatencySummary) does. */
const ns = (what: string) => n.describe(`${what}, in nanoseconds`);
const HistogramSummarySchema = z
  .object({
    count: n.describe('Samples recorded'),
    min: ns('Lower bound of the lowest non-empty bucket (≤ the true minimum, within 1/32)'),
    max: ns('Upper bound of the highest non-empty bucket (≥ the true maximum, within 1/32)'),
    mean: ns('Mean, from bucket midpoints (within 1/64 of the true mean)'),
    p50: ns('50th percentile: upper bound of its bucket (never below the true value, at most 1/32 above)'),
    p90: ns('90th percentile, as p50'),
    p99: ns('99th percentile, as p50'),
    p999: ns('99.9th percentile, as p50'),
    buckets: z.array(z.tuple([n, n])).describe('Non-empty buckets as [upper bound in nanoseconds, count], ascending'),
  })
  .describe('A latency histogram: every value in nanoseconds (all 0 when count is 0)');

/**
 * One latency histogram of a result (`result.latency.<name>`). Every value is in
 * nanoseconds: `result.latency.alloc_stall.p99 / 1e6` is milliseconds. @zreclaim/shm's
 * HistogramSummary, which documents each field, under the name results use.
 */
export type LatencySummary = HistogramSummary;

const record = <K extends string>(keys: readonly K[], v: z.ZodType) =>
  z.object(Object.fromEntries(keys.map((k) => [k, v])) as Record<K, z.ZodType>).strict();

export const EnvironmentSchema = z.object({
  node: z.string(),
  v8: z.string(),
  platform: z.string(),
  kernel: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  memoryGiB: n,
  libuvThreadpoolSize: z.number().int().positive(),
  commit: z.string().nullable(),
  configHash: z.string(),
  startedAt: z.string(),
});

export const MmStatSchema = z.object({
  orig_data_size: n,
  compr_data_size: n,
  mem_used_total: n,
  mem_limit: n,
  mem_used_max: n,
  same_pages: n,
  pages_compacted: n,
  huge_pages: n,
  /** When this snapshot was taken (ms into the run): the sample with the most data stored. */
  at_ms: n,
});

export const AppStatsSchema = z.object({
  appId: z.number().int(),
  pages: z.number().int(),
  maps: n,
  unmaps: n,
  reads: n,
  writes: n,
  faults: n,
  stalls: n,
  writebackWaits: n,
  verified: n,
  mismatches: n,
  mismatchPages: z.array(n),
});

export const PipelineReportSchema = z.object({
  name: z.string(),
  /** Compression workers (0 = inline). */
  workers: z.number().int(),
  batch: z.number().int(),
  /** How kswapd spreads pages over the workers' rings. */
  shard: z.enum(['round-robin', 'none']),
  ringCapacity: z.number().int(),
  codec: z.string(),
  /** Compression workers that died and were replaced. */
  crashes: z.number().int(),
  /** Pages of dead workers' batches that went back to RESIDENT, and that stayed stored. */
  pages_returned: z.number().int(),
  pages_kept: z.number().int(),
  compressors: z.array(
    z.object({ workerId: z.number().int(), pages: n, batches: n, rejected: n, idleWaits: n }),
  ),
});
export type PipelineReport = z.infer<typeof PipelineReportSchema>;

/** The slot GC (gc: sync or async); optional in the schema, so results from before it still parse. */
export const GcReportSchema = z.object({
  mode: z.enum(['sync', 'async']),
  /** The queue's byte cap (0 = none). */
  cap_bytes: n,
  /** Pool objects queued to the GC worker (gc_slots_queued); the rest were freed by the thread that unmapped or faulted. */
  slots_queued: n,
  /** Pool objects the GC worker freed (gc_slots_freed); equals slots_queued after a run. */
  slots_freed: n,
  /** Bulk frees the GC worker did, their compressed bytes, and the largest batch. */
  bulk_frees: n,
  bytes_freed: n,
  max_batch: n,
  /** Times the GC worker looked at its queue and let it be (a 1 ms timer), slept on the empty queue (woken by the next push), and its time spent freeing. */
  naps: n,
  sleeps: n,
  busy_ms: n,
  /** Most bytes seen queued at once (the cap bounds it). */
  peak_queued_bytes: n,
  /** Most gc_bytes_pending seen: queued plus the batch being freed (≤ cap + one batch). */
  peak_pending_bytes: n,
});
export type GcReport = z.infer<typeof GcReportSchema>;

export const RunResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA),
  kind: z.literal('run'),
  /** 'aborted' when the run was stopped through its AbortSignal before its end. */
  ended: z.enum(['completed', 'aborted']),
  pipeline: PipelineReportSchema,
  environment: EnvironmentSchema,
  config: z.record(z.string(), z.unknown()),
  elapsedMs: n,
  /** Every counter at the end of the run (gauges such as orig_data_size included). */
  counters: record(VMSTAT, n),
  mm_stat: MmStatSchema,
  rates: z.object({
    pgsteal_anon_per_s: n,
    pgscan_per_s: n,
    pswpout_per_s: n,
    pswpin_per_s: n,
    allocstall_per_s: n,
  }),
  /** orig_data_size / compr_data_size over compressed (non same-filled) pages, at mm_stat's snapshot. */
  compression_ratio: n,
  kswapd: z.object({ busy_ms: n, pageoutrun: n }),
  gc: GcReportSchema.optional(),
  /** Latency histograms by kernel-side name (alloc_stall, swapin, compress, …), all in nanoseconds. */
  latency: record(LATENCIES, HistogramSummarySchema).describe('Latency histograms by name; every value in nanoseconds'),
  timeseries: z.object({
    t_ms: z.array(n),
    free: z.array(n),
    resident: z.array(n),
    pool_pages: z.array(n),
    pgsteal_anon: z.array(n),
    pswpin: z.array(n),
    orig_data_size: z.array(n),
    compr_data_size: z.array(n),
    gc_bytes_pending: z.array(n).optional(),
    /** Pages in the kswapd → worker rings (published, not yet popped) at each sample, summed over the rings; 0 inline. Optional: results from before it still parse. */
    ring_depth: z.array(n).optional(),
    wmark: z.object({ min: n, low: n, high: n, managed: n }),
  }),
  apps: z.array(AppStatsSchema),
  checks: z.object({
    /** Reads whose checksum was checked, across applications. */
    verified: n,
    mismatches: n,
    /** Pages in SWAPPED or SAME_FILLED state at the end (a page-table census). */
    stored_pages: n,
    /** pswpout − notify_free (slots freed by swap-in and by unmap), which must equal stored_pages. */
    stored_by_counters: n,
    /** Lowest free memory seen in the samples (pages; negative = RAM overcommitted). */
    min_free: n,
    /**
     * The compressed pool at the end, audited (every list walked under its locks): its
     * footprint in pages, its live objects (which must equal the pages stored in it: no slot
     * leaked or freed twice) and 'ok' or what the audit found.
     */
    pool: z.object({ pages_used: n, objects: n, audit: z.string() }).optional(),
    counters_add_up: z.boolean(),
    problems: z.array(z.string()),
  }),
});

type Inferred = z.infer<typeof RunResultSchema>;
/**
 * The schema's type, with the per-name records typed by their declared names. Units: times
 * say theirs in the name (`elapsedMs`, `busy_ms`, `t_ms`, rates `*_per_s`), sizes are bytes
 * as in zram's mm_stat, counters count pages or events as /proc/vmstat does; `latency` is
 * the one exception: its histograms are all in nanoseconds (LatencySummary).
 */
export type RunResult = Omit<Inferred, 'counters' | 'latency' | 'config'> & {
  counters: Record<VmstatName, number>;
  /** Latency histograms by name, every value in nanoseconds: `latency.alloc_stall.p99` is the 99th-percentile allocation stall in ns. */
  latency: Record<LatencyName, LatencySummary>;
  config: Config;
};

export function resultJsonSchema(): unknown {
  return z.toJSONSchema(RunResultSchema);
}
