/**
 * The one config schema. The CLI, the API and (later) the gate all validate through
 * `resolveConfig`, which gives either a complete config or one ConfigError naming the
 * field, the value and the fix.
 */
import { constants as buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The largest arena, in bytes: the arena is one SharedArrayBuffer seen through one
 * Uint8Array (and one Int32Array, and one Buffer for the codecs), and 4 GiB is the longest
 * typed array and Buffer Node 20 makes (buffer.constants.MAX_LENGTH; Node 22 allows more,
 * but the limit stays the same on every line so a config runs or is refused alike). Byte
 * offsets into it are doubles, never Int32 (see PageArena).
 */
export const MAX_ARENA_BYTES = Math.min(2 ** 32, buffer.MAX_LENGTH);
const MIN_PAGE_SIZE = 512;
/**
 * The most pages, whatever the page size: a 4 GiB arena of the default 4 KiB pages. The field
 * says so (and --help with it, a range the default page size accepts); the refinement at the
 * end of the schema caps larger pages at MAX_ARENA_BYTES.
 */
const MAX_PAGES = maxPages(4096);

/** Most pages an arena of `pageSize`-byte pages can have. */
export function maxPages(pageSize: number): number {
  return Math.floor(MAX_ARENA_BYTES / pageSize);
}

function gib(bytes: number): string {
  return `${+(bytes / 2 ** 30).toFixed(2)} GiB`;
}

const percent = z
  .string()
  .regex(/^\d+(\.\d+)?%$/, 'expected a number of pages or a percentage such as "50%"');

const pagesOrPercent = z.union([z.number().int().positive(), percent]);

const fraction = (what: string) =>
  z.number().min(0, `${what} must be between 0 and 1`).max(1, `${what} must be between 0 and 1`);

export const ContentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zero') }).strict(),
  z.object({ kind: z.literal('same-filled') }).strict(),
  z.object({ kind: z.literal('text') }).strict(),
  z.object({ kind: z.literal('random') }).strict(),
  z
    .object({
      kind: z.literal('mix'),
      ratio: z.number().min(1, 'ratio must be ≥ 1 (1 means incompressible)').max(64),
      same: fraction('same').default(0.1),
      zero: fraction('zero').default(0),
    })
    .strict(),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
]);

export const UsememSchema = z
  .object({
    kind: z.literal('usemem'),
    /** Share of each application's pages that is hot. */
    hot: fraction('hot').default(0.2),
    /** Share of accesses that go to the hot set. */
    hotAccess: fraction('hotAccess').default(0.8),
    /** Share of accesses that write (a new version of the page) rather than read. */
    writeFraction: fraction('writeFraction').default(0.1),
    /** Unmap every page at the end (usemem exits). */
    unmap: z.boolean().default(true),
    /** How the pages go at the end (with unmap): 'unmap' one by one (the default), or 'kill' all at once. Optional, so configs without it keep their hash. */
    exit: z.enum(['unmap', 'kill']).optional(),
  })
  .strict();

export const CustomWorkloadSchema = z
  .object({
    kind: z.literal('module'),
    /** Path or file URL of an ES module whose default export is a Workload. */
    module: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const WorkloadSchema = z.discriminatedUnion('kind', [UsememSchema, CustomWorkloadSchema]);

/** Compression workers a pipeline may have (padata:N), and pages per batch (batch:B). */
export const MAX_PIPELINE_WORKERS = 16;
export const MAX_PIPELINE_BATCH = 256;

/** Pipeline names as users write them; `padata:N`, `batch:B` and `padata:N+batch:B` take numbers. */
export const PIPELINES = ['inline', 'kcompressd', 'padata:N', 'batch:B', 'padata:N+batch:B'] as const;
export const CODECS = ['lz4', 'lz4-native', 'zstd'] as const;

/** A parsed pipeline: how many compression workers kswapd hands pages to, and the batch size. */
export interface PipelineSpec {
  name: string;
  /** 0 = inline (kswapd compresses itself). */
  workers: number;
  /** Pages a worker takes per request (1 = one page per request). */
  batch: number;
}

const PIPELINE_RE = /^(inline|kcompressd|padata:(\d+)|batch:(\d+)|padata:(\d+)\+batch:(\d+))$/;

const PIPELINE_FORMS = `inline, kcompressd, padata:N (N 1..${MAX_PIPELINE_WORKERS}), batch:B (B 1..${MAX_PIPELINE_BATCH}) or padata:N+batch:B`;

/** Why `name` is not a pipeline the engine can run, or undefined when it is one. */
export function pipelineProblem(name: string): string | undefined {
  const m = PIPELINE_RE.exec(name);
  if (!m) return `pipeline must be ${PIPELINE_FORMS}`;
  const numbers = [
    { digits: m[2] ?? m[4], what: 'padata:N, the number of compression workers,', max: MAX_PIPELINE_WORKERS },
    { digits: m[3] ?? m[5], what: 'batch:B, the pages a worker takes per request,', max: MAX_PIPELINE_BATCH },
  ];
  for (const { digits, what, max } of numbers) {
    if (digits === undefined) continue;
    // One spelling per pipeline: results and sweep points are keyed by the name.
    if (/^0\d/.test(digits)) return `${what} is written without leading zeros`;
    const n = Number(digits);
    if (n < 1 || n > max) return `${what} must be 1..${max}${n === 0 && max === MAX_PIPELINE_WORKERS ? ' (inline is the pipeline without workers)' : ''}`;
  }
  return undefined;
}

/** Parse a pipeline name; undefined if it is not one the engine can run (see pipelineProblem). */
export function parsePipeline(name: string): PipelineSpec | undefined {
  const m = PIPELINE_RE.exec(name);
  if (!m || pipelineProblem(name) !== undefined) return undefined;
  if (m[1] === 'inline') return { name, workers: 0, batch: 1 };
  if (m[1] === 'kcompressd') return { name, workers: 1, batch: 1 };
  const workers = Number(m[2] ?? m[4] ?? 1);
  const batch = Number(m[3] ?? m[5] ?? 1);
  return { name, workers, batch };
}

export const ConfigSchema = z
  .object({
    /** Pages in the arena: the applications' virtual memory. */
    /** At most 1048576, and pages × pageSize at most MAX_ARENA_BYTES (the refinement below). */
    pages: z
      .number()
      .int()
      .min(64, 'pages must be ≥ 64')
      .max(MAX_PAGES, `pages must be ≤ ${MAX_PAGES} (an arena of ${gib(MAX_ARENA_BYTES)} of 4 KiB pages, one typed array at most)`)
      .default(16_384),
    pageSize: z
      .number()
      .int()
      .refine((n) => n >= MIN_PAGE_SIZE && n <= 65_536 && (n & (n - 1)) === 0, `pageSize must be a power of two from ${MIN_PAGE_SIZE} to 65536`)
      .default(4096),
    /** RAM budget (resident pages + compressed pool footprint), pages or a share of `pages`. */
    ram: pagesOrPercent.default('60%'),
    /** Watermarks as shares of the RAM budget, free pages: min ≤ low ≤ high. */
    watermarks: z
      .object({ min: fraction('min').default(0.01), low: fraction('low').default(0.03), high: fraction('high').default(0.06) })
      .strict()
      .default({ min: 0.01, low: 0.03, high: 0.06 }),
    /** Application worker threads. */
    apps: z.number().int().min(1, 'apps must be ≥ 1').max(64, 'apps must be ≤ 64').default(2),
    workload: WorkloadSchema.default({ kind: 'usemem', hot: 0.2, hotAccess: 0.8, writeFraction: 0.1, unmap: true }),
    content: ContentSchema.default({ kind: 'mix', ratio: 2.3, same: 0.1, zero: 0 }),
    /** Seconds the applications run their access phase. */
    duration: z.number().positive('duration must be > 0 seconds').max(86_400).default(10),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    pipeline: z
      .string()
      .superRefine((v, ctx) => {
        const why = pipelineProblem(v);
        if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
      })
      .default('inline'),
    /** Capacity of each kswapd → worker ring (a power of two; the kcompressd patch's kfifo holds 256). */
    ringCapacity: z
      .number()
      .int()
      .refine((n) => n >= 2 && n <= 65_536 && (n & (n - 1)) === 0, 'ringCapacity must be a power of two from 2 to 65536')
      .default(256),
    codec: z.enum(CODECS).default('lz4'),
    /**
     * Fault injection, for tests: the compressor fails on arena page `compressFailPage`
     * (reject_compress_fail); a compression worker exits after `compressorExitAfter` pages;
     * `compressSpinNs` adds that much busy work to every page compressed anywhere (kswapd,
     * direct reclaim, compression workers), a real slowdown for the gate to catch (default
     * 0; optional, so configs without it keep their hash; ZRECLAIM_INJECT_COMPRESS_NS sets it
     * for every engine, see withEnvInjection).
     */
    inject: z
      .object({
        compressFailPage: z.number().int().min(-1).default(-1),
        compressorExitAfter: z.number().int().min(0).default(0),
        compressSpinNs: z.number().int('compressSpinNs must be a whole number of nanoseconds').min(0, 'compressSpinNs must be ≥ 0').max(10_000_000, 'compressSpinNs must be ≤ 10000000 (10 ms per page)').optional(),
      })
      .strict()
      .default({ compressFailPage: -1, compressorExitAfter: 0 }),
    store: z
      .object({
        /**
         * zram: huge pages are stored as they are, the pool grows up to mem_limit / the RAM
         * budget. zswap: huge pages are rejected (reject_compress_poor) and stay resident;
         * the pool is capped at maxPoolPercent of RAM and its oldest entries are written
         * back to a backing file when it is full.
         */
        mode: z.enum(['zram', 'zswap']).default('zram'),
        /** Compressed size above this share of a page makes a huge page (stored as is). */
        hugeThreshold: z.number().gt(0).max(1).default(0.75),
        /** zram mem_limit in pool pages; 0 = none. A store past it fails and the page stays resident. */
        memLimit: z.number().int().min(0).default(0),
        /**
         * Compact the pool (zsmalloc's shrinker): kswapd moves objects out of sparse zspages
         * at the start of each balance pass when that frees ≥ 2 % of the pool (pages_compacted).
         */
        compact: z.boolean().default(true),
        /** zswap max_pool_percent: the pool's cap as a share of the RAM budget (the kernel's default is 20). */
        maxPoolPercent: z.number().int().min(1, 'maxPoolPercent must be 1..100').max(100, 'maxPoolPercent must be 1..100').default(20),
        /**
         * zswap backing file (the swap device written-back pages go to): made at this path,
         * which must not exist, and unlinked as soon as it is opened (see mm.ts); default: an
         * unnamed file in the OS temp directory. Nothing is left behind, whatever ends the run.
         */
        writebackFile: z.string().min(1).optional(),
      })
      .strict()
      .default({ mode: 'zram', hugeThreshold: 0.75, memLimit: 0, compact: true, maxPoolPercent: 20 }),
    /**
     * Freeing the slots of unmapped (and swapped-in) pages. sync: the thread that unmaps or
     * faults frees each slot itself (today's zram). async: it only queues the pool handle
     * and a GC worker frees queued handles in bulk (the zram GC worker); queued bytes are
     * capped at capBytes (0 = no cap), past which slots are freed synchronously again.
     */
    gc: z
      .object({
        mode: z.enum(['sync', 'async']).default('sync'),
        capBytes: z.number().int().min(0).default(64 * 1024 * 1024),
      })
      .strict()
      .default({ mode: 'sync', capBytes: 64 * 1024 * 1024 }),
    kswapd: z
      .object({
        /** false: no kswapd, every reclaim is direct (allocation stalls). */
        enabled: z.boolean().default(true),
        /** Pages kswapd reclaims before it yields the event loop. */
        slice: z.number().int().min(1).max(4096).default(64),
        /**
         * When every worker's ring is full: 'inline' compresses the page in kswapd (the
         * kcompressd patch's fallback, counted as kcompressd_fifo_full); 'wait' puts the
         * page back and waits for room, so only the workers compress (to measure a
         * pipeline by itself).
         */
        onFull: z.enum(['inline', 'wait']).default('inline'),
      })
      .strict()
      .default({ enabled: true, slice: 64, onFull: 'inline' }),
    /** Pages one direct reclaim tries to free (SWAP_CLUSTER_MAX). */
    directReclaimBatch: z.number().int().min(1).max(1024).default(32),
    /**
     * A model knob, 0 (off) by default: nanoseconds of busy work the reclaiming thread
     * (kswapd or a direct reclaimer) spends on each page it reclaims (stores, or hands to
     * a compression worker) — the kernel's try_to_unmap in shrink_folio_list (rmap walk,
     * PTE clears, TLB flush), which this engine's pages, owned by one application and
     * never mapped twice, do not otherwise cost. Compression workers never pay it: it is
     * the share of kswapd's work that offloading compression leaves behind. Results
     * always report it (config.unmapCostNs, and the run and compare headers).
     */
    unmapCostNs: z
      .number()
      .int('unmapCostNs must be a whole number of nanoseconds')
      .min(0, 'unmapCostNs must be ≥ 0')
      .max(1_000_000, 'unmapCostNs must be ≤ 1000000 (1 ms per page)')
      .default(0),
    /** Applications checksum every page they write and check it on every read. */
    verify: z.boolean().default(true),
    /** Overwrite a page's bytes once it is stored, so a fault that skipped the store shows. */
    poison: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    const bytes = c.pages * c.pageSize;
    if (bytes > MAX_ARENA_BYTES) {
      const most = maxPages(c.pageSize);
      ctx.addIssue({
        code: 'custom',
        path: ['pages'],
        message: `the arena (pages × pageSize = ${gib(bytes)}) must fit one typed array of at most ${gib(MAX_ARENA_BYTES)}: with ${c.pageSize}-byte pages give at most ${most} pages`,
      });
    }
  });

export type ConfigInput = z.input<typeof ConfigSchema>;
export type ContentConfig = z.output<typeof ContentSchema>;
export type WorkloadConfig = z.output<typeof WorkloadSchema>;

/** A validated config with every default filled in and the derived page counts. */
export type Config = z.output<typeof ConfigSchema> & {
  /** The pipeline, parsed. */
  pipe: PipelineSpec;
  /** RAM budget in pages. */
  ramPages: number;
  /** Watermarks in free pages. */
  wmark: { min: number; low: number; high: number };
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly why: string,
  ) {
    super(`config.${field}: ${why} (got ${show(value)})`);
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Validate and complete a config; throws one ConfigError for the first problem. */
export function resolveConfig(input: unknown = {}): Config {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.') || '(root)';
    let why = issue.message;
    if (issue.code === 'unrecognized_keys') {
      return fail(field, issue.keys.join(', '), `unknown field${issue.keys.length > 1 ? 's' : ''}: remove ${issue.keys.join(', ')}`);
    }
    if (issue.code === 'invalid_value' || issue.code === 'invalid_union') why = `${why}`;
    return fail(field, at(input, issue.path), why);
  }
  const c = r.data;
  const ramPages = typeof c.ram === 'number' ? c.ram : Math.floor((c.pages * parseFloat(c.ram)) / 100);
  if (ramPages < 32) fail('ram', c.ram, `the RAM budget is ${ramPages} pages; give at least 32`);
  if (ramPages >= c.pages) {
    fail('ram', c.ram, `the RAM budget (${ramPages} pages) must be smaller than the arena (${c.pages} pages), or nothing is ever reclaimed`);
  }
  const { min, low, high } = c.watermarks;
  if (!(min <= low && low <= high)) {
    fail('watermarks', c.watermarks, 'watermarks must satisfy min ≤ low ≤ high');
  }
  if (high >= 0.5) fail('watermarks.high', high, 'high must be below 0.5 of the RAM budget');
  const wmark = {
    min: Math.max(1, Math.round(ramPages * min)),
    low: Math.max(2, Math.round(ramPages * low)),
    high: Math.max(3, Math.round(ramPages * high)),
  };
  if (c.apps > c.pages / 16) fail('apps', c.apps, `each application needs at least 16 pages; with ${c.pages} pages use at most ${Math.floor(c.pages / 16)} apps`);
  if (c.store.writebackFile !== undefined && c.store.mode !== 'zswap') {
    fail('store.writebackFile', c.store.writebackFile, 'a backing file is for store.mode zswap only: add --store zswap or drop it');
  }
  const pipe = parsePipeline(c.pipeline)!;
  if (pipe.workers === 0 && c.codec === 'zstd') {
    fail('codec', c.codec, 'zstd compresses asynchronously and needs compression workers: use --pipeline kcompressd, padata:N or batch:B');
  }
  return { ...c, pipe, ramPages, wmark };
}

function fail(field: string, value: unknown, why: string): never {
  throw new ConfigError(field, value, why);
}

/** The environment variable that injects a compression slowdown into every engine (nanoseconds per page). */
export const INJECT_COMPRESS_ENV = 'ZRECLAIM_INJECT_COMPRESS_NS';

/**
 * The config input with ZRECLAIM_INJECT_COMPRESS_NS applied as `inject.compressSpinNs` (when
 * the variable is set and the input does not set the field itself); the input unchanged
 * otherwise; a value that is not a whole number is a ConfigError naming the variable.
 */
export function withEnvInjection(input: ConfigInput, env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const raw = env[INJECT_COMPRESS_ENV];
  if (raw === undefined || raw.trim() === '') return input;
  const inject = (input.inject ?? {}) as NonNullable<ConfigInput['inject']>;
  if (inject.compressSpinNs !== undefined) return input;
  if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError('inject.compressSpinNs', raw, `${INJECT_COMPRESS_ENV} must be a whole number of nanoseconds per page, such as 5000`);
  return { ...input, inject: { ...inject, compressSpinNs: Number(raw) } };
}

/** Busy work standing in for a slower compressor: spin for `ns` nanoseconds on this thread. */
export function spinFor(ns: number): void {
  const end = performance.now() + ns / 1e6;
  while (performance.now() < end) {
    // busy: the slowdown must cost CPU, as a slower codec would
  }
}

/** Stable hash of a resolved config (results carry it so runs can be matched). */
export function configHash(c: Config): string {
  return createHash('sha256').update(canonical(c)).digest('hex').slice(0, 16);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
