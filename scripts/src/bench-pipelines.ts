/**
 * The pipelines' drain benchmark (issue 4, "Benchmarks"): pure drains — the arena full of
 * cold pages (the config's default content, `mix` with lz4 ratio 2.3 and 10 % same-filled),
 * no application, kswapd reclaiming through the variant's pipeline until free memory reaches
 * the high watermark (about half the arena) and every queued page is stored.
 *
 * Groups run one after another. Within a group, one Engine per variant, kept for the whole
 * group so its compression workers stay warm (piscina keeps the threads between drains);
 * one warm-up round, then R rounds, every round running every variant of the group once in
 * the same order (interleaved), so drift on this noisy machine hits all variants alike; the
 * group's engines are closed before the next group starts. A ratio, always between two
 * variants of one group, is taken round by round (A_r ÷ B_r, both measured seconds apart)
 * and quoted as the median with min–max over the rounds.
 *
 * Groups and the ratios they report:
 *   lz4         inline, kcompressd, padata:2 (onFull inline and wait)
 *                                                  kcompressd ÷ inline (≥ 0.9), padata:2 ÷ inline (≥ 1.4)
 *   zstd        batch:1, batch:32, each with kswapd.onFull 'wait' and 'inline'
 *                                                  batch:32 ÷ batch:1 (≥ 1.8), taken with onFull 'wait'
 *   lz4-native  inline, padata:2, and the kernel's own zram store of the same pages (dd, two
 *               writers, /dev/zram0; see kernel-zram.ts) measured in the same rounds
 *                                                  padata:2 ÷ kernel zram (≥ 0.75); where the
 *               kernel's zram cannot be used (not root, no unconfigured zram0), ÷ the 291k
 *               pages/s anchor of 2026-11-23, and the table says why
 *   unmap       lz4 inline, kcompressd, padata:2 with unmapCostNs 3000 (kswapd has work
 *               besides compression, as the kernel's does)   kcompressd and padata:2 ÷ inline
 *
 * Why zstd's ratio uses onFull 'wait': with the default 'inline' fallback, a full ring makes
 * kswapd compress the page itself, and kswapd on the main thread cannot wait for an
 * asynchronous codec, so it stores it with the synchronous fallback codec (lz4). A zstd
 * 'inline' drain is then a mix of zstd pages from the worker and lz4 pages from kswapd, and
 * the slower the worker (batch:1) the more lz4 it gets; the ratio would measure that mix,
 * not batching. With 'wait' kswapd waits for room and only the worker compresses, so the
 * ratio is zstd batch:32 against zstd batch:1. Both are printed, with the share of pages
 * kswapd compressed inline (kcompressd_fifo_full ÷ pages).
 *
 *   node --expose-gc scripts/dist/bench-pipelines.js [--rounds R] [--pages N] [--groups lz4,zstd,lz4-native,unmap]
 */
import os from 'node:os';
import { canCollect, createEngine, resolveConfig, settleHeap, type DrainResult, type Engine } from '@zreclaim/engine/internal';
import { createContentSource } from '@zreclaim/workloads';
import { median } from './bench-drain.js';
import { kernelZramUnavailable, measureKernelZram, PagesFile } from './kernel-zram.js';

/** The kernel's zram store rate on this machine (heap-like pages, two 4 KiB writers, dd O_DIRECT), 2026-11-23. */
export const KERNEL_ZRAM_STORE_PAGES_PER_SEC = 291_000;
export const KERNEL_ANCHOR = `kernel zram lz4 store, two 4 KiB writers, ${KERNEL_ZRAM_STORE_PAGES_PER_SEC / 1000}k pages/s (measured on this machine 2026-11-23)`;

/** The kernel zram row of the lz4-native group (not a pipeline: `dd` into /dev/zram0). */
export const KERNEL_VARIANT = 'kernel zram (dd, 2 writers)';

export const GROUPS = ['lz4', 'zstd', 'lz4-native', 'unmap'] as const;
export type Group = (typeof GROUPS)[number];

export interface VariantDef {
  /** Shown in the table, e.g. "lz4 padata:2", "zstd batch:32 (wait)". */
  name: string;
  group: Group;
  pipeline: string;
  codec: 'lz4' | 'lz4-native' | 'zstd';
  onFull: 'inline' | 'wait';
  /** config.unmapCostNs (default 0). */
  unmapCostNs?: number;
}

export interface RatioDef {
  name: string;
  group: Group;
  numerator: string;
  /** A variant's name, or a fixed rate in pages/s (an anchor). */
  denominator: string | number;
  goal: number;
  note?: string;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface VariantFigures extends VariantDef {
  /** pages/s of each measured round (warm-up excluded). */
  rates: number[];
  pagesPerSec: Spread;
  /** Pages reclaimed per drain (median). */
  pages: number;
  /** kcompressd_fifo_full ÷ pages (median): onFull inline, pages kswapd compressed itself; onFull wait, times it waited for room. */
  fifoFullShare: number;
  /** kswapd busy ms per drain (median). */
  kswapdBusyMs: number;
  /** compress p50 µs (median over rounds); compress_batch p50 µs for pipelines with workers. */
  compressP50Us: number | null;
  batchP50Us: number | null;
}

export interface RatioFigures extends RatioDef {
  values: number[];
  spread: Spread;
  pass: boolean;
}

export interface PipelinesBench {
  machine: string;
  /** Why the kernel's zram was not measured (its ratio then uses the 2026-11-23 anchor). */
  kernelSkipped?: string;
  pages: number;
  rounds: number;
  variants: VariantFigures[];
  ratios: RatioFigures[];
}

/**
 * The unmap group's modelled try_to_unmap cost (config.unmapCostNs): about one lz4 page
 * compression here, so inline kswapd spends half its per-page time outside compression.
 */
export const UNMAP_NS = 3000;

export const VARIANTS: VariantDef[] = [
  { name: 'lz4 inline', group: 'lz4', pipeline: 'inline', codec: 'lz4', onFull: 'inline' },
  { name: 'lz4 kcompressd', group: 'lz4', pipeline: 'kcompressd', codec: 'lz4', onFull: 'inline' },
  { name: 'lz4 padata:2', group: 'lz4', pipeline: 'padata:2', codec: 'lz4', onFull: 'inline' },
  { name: 'lz4 padata:2 (wait)', group: 'lz4', pipeline: 'padata:2', codec: 'lz4', onFull: 'wait' },
  { name: 'zstd batch:1 (wait)', group: 'zstd', pipeline: 'batch:1', codec: 'zstd', onFull: 'wait' },
  { name: 'zstd batch:32 (wait)', group: 'zstd', pipeline: 'batch:32', codec: 'zstd', onFull: 'wait' },
  { name: 'zstd batch:1 (inline)', group: 'zstd', pipeline: 'batch:1', codec: 'zstd', onFull: 'inline' },
  { name: 'zstd batch:32 (inline)', group: 'zstd', pipeline: 'batch:32', codec: 'zstd', onFull: 'inline' },
  { name: 'lz4-native inline', group: 'lz4-native', pipeline: 'inline', codec: 'lz4-native', onFull: 'inline' },
  { name: 'lz4-native padata:2', group: 'lz4-native', pipeline: 'padata:2', codec: 'lz4-native', onFull: 'inline' },
  { name: 'lz4 inline, unmap 3 µs', group: 'unmap', pipeline: 'inline', codec: 'lz4', onFull: 'inline', unmapCostNs: UNMAP_NS },
  { name: 'lz4 kcompressd, unmap 3 µs', group: 'unmap', pipeline: 'kcompressd', codec: 'lz4', onFull: 'inline', unmapCostNs: UNMAP_NS },
  { name: 'lz4 padata:2, unmap 3 µs', group: 'unmap', pipeline: 'padata:2', codec: 'lz4', onFull: 'inline', unmapCostNs: UNMAP_NS },
];

export const RATIOS: RatioDef[] = [
  { name: 'kcompressd ÷ inline (lz4)', group: 'lz4', numerator: 'lz4 kcompressd', denominator: 'lz4 inline', goal: 0.9 },
  { name: 'padata:2 ÷ inline (lz4)', group: 'lz4', numerator: 'lz4 padata:2', denominator: 'lz4 inline', goal: 1.4 },
  { name: 'padata:2 (onFull wait) ÷ inline (lz4)', group: 'lz4', numerator: 'lz4 padata:2 (wait)', denominator: 'lz4 inline', goal: 1.4 },
  { name: 'batch:32 ÷ batch:1 (zstd, onFull wait)', group: 'zstd', numerator: 'zstd batch:32 (wait)', denominator: 'zstd batch:1 (wait)', goal: 1.8 },
  {
    name: 'batch:32 ÷ batch:1 (zstd, onFull inline)',
    group: 'zstd',
    numerator: 'zstd batch:32 (inline)',
    denominator: 'zstd batch:1 (inline)',
    goal: 1.8,
    note: 'informative: ring-full pages are compressed by kswapd with lz4',
  },
  { name: 'padata:2 ÷ inline (lz4-native)', group: 'lz4-native', numerator: 'lz4-native padata:2', denominator: 'lz4-native inline', goal: 1.4, note: 'informative' },
  { name: 'padata:2 (lz4-native) ÷ kernel zram, same rounds', group: 'lz4-native', numerator: 'lz4-native padata:2', denominator: KERNEL_VARIANT, goal: 0.75 },
  { name: 'kcompressd ÷ inline (lz4, unmap 3 µs)', group: 'unmap', numerator: 'lz4 kcompressd, unmap 3 µs', denominator: 'lz4 inline, unmap 3 µs', goal: 0.9, note: 'informative: the kcompressd premise' },
  { name: 'padata:2 ÷ inline (lz4, unmap 3 µs)', group: 'unmap', numerator: 'lz4 padata:2, unmap 3 µs', denominator: 'lz4 inline, unmap 3 µs', goal: 1.4, note: 'informative' },
];

export function pipelinesMachineLine(): string {
  const uv = process.env.UV_THREADPOOL_SIZE;
  return (
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}, ` +
    `UV_THREADPOOL_SIZE ${uv ?? 'unset (libuv default 4)'}`
  );
}

function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export interface BenchPipelinesOptions {
  pages?: number;
  rounds?: number;
  groups?: readonly Group[];
  /** Measure the kernel's zram in the lz4-native group (default: where it can be used). */
  kernel?: boolean;
  /** Called after every drain (warm-up included, round 0). */
  onDrain?: (v: VariantDef, round: number, r: DrainResult) => void;
}

export async function benchPipelines(opts: BenchPipelinesOptions = {}): Promise<PipelinesBench> {
  const pages = opts.pages ?? 32768;
  const rounds = opts.rounds ?? 5;
  const groups = opts.groups ?? GROUPS;
  const defs = VARIANTS.filter((v) => groups.includes(v.group));
  const drains: DrainResult[][] = defs.map(() => []);
  // The kernel's zram, on the pages the drains fill (the config's content, version 1).
  let kernelSkipped: string | undefined;
  let pagesFile: PagesFile | undefined;
  if (groups.includes('lz4-native')) {
    kernelSkipped = opts.kernel === false ? 'not asked for' : (kernelZramUnavailable() ?? undefined);
    if (kernelSkipped === undefined) {
      const c = resolveConfig({ pages });
      pagesFile = new PagesFile(pages, c.pageSize, (buf) => {
        const content = createContentSource(c.content, c.pageSize, c.seed);
        for (let p = 0; p < pages; p++) content.fill(buf, p * c.pageSize, c.pageSize, p, 1);
      });
    }
  }
  const kernelRates: number[] = [];
  const lastNative = defs.findLastIndex((v) => v.group === 'lz4-native');
  try {
    // One group at a time, its variants interleaved round by round, its engines closed
    // before the next group starts: ratios never cross groups, and every engine left idle
    // costs the others CPU (13 idle engines kept the process's background threads, V8's
    // platform threads and libuv's pool, at ~12 % of a core for ~10 s after their drains
    // here), which a two-worker pipeline needs and inline does not.
    for (const group of GROUPS.filter((g) => groups.includes(g))) {
      const members = defs.flatMap((v, i) => (v.group === group ? [i] : []));
      const engines = new Map<number, Engine>(
        members.map((i) => {
          const v = defs[i];
          return [i, createEngine({ pages, poison: false, pipeline: v.pipeline, codec: v.codec, kswapd: { onFull: v.onFull }, unmapCostNs: v.unmapCostNs ?? 0 })];
        }),
      );
      try {
        for (let round = 0; round <= rounds; round++) {
          for (const i of members) {
            await settleHeap();
            const r = await engines.get(i)!.drain();
            opts.onDrain?.(defs[i], round, r);
            if (round > 0) drains[i].push(r);
            if (i === lastNative && pagesFile) {
              await settleHeap();
              const k = await measureKernelZram(pagesFile, 2);
              if (round > 0) kernelRates.push(k.pagesPerSec);
            }
          }
        }
      } finally {
        await Promise.all([...engines.values()].map((e) => e.close()));
      }
    }
  } finally {
    pagesFile?.remove();
  }
  const p50 = (r: DrainResult, k: 'compress' | 'compress_batch') => (r.latency[k].count > 0 ? r.latency[k].p50 / 1000 : null);
  const medOrNull = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? median(v) : null;
  };
  const variants: VariantFigures[] = defs.map((v, i) => {
    const ds = drains[i];
    const rates = ds.map((d) => d.pagesPerSec);
    return {
      ...v,
      rates,
      pagesPerSec: spread(rates),
      pages: median(ds.map((d) => d.pages)),
      fifoFullShare: median(ds.map((d) => (d.pages > 0 ? d.counters.kcompressd_fifo_full / d.pages : 0))),
      kswapdBusyMs: median(ds.map((d) => d.kswapdBusyMs)),
      compressP50Us: medOrNull(ds.map((d) => p50(d, 'compress'))),
      batchP50Us: v.pipeline === 'inline' ? null : medOrNull(ds.map((d) => p50(d, 'compress_batch'))),
    };
  });
  if (kernelRates.length > 0) {
    variants.splice(lastNative + 1, 0, {
      name: KERNEL_VARIANT,
      group: 'lz4-native',
      pipeline: 'kernel',
      codec: 'lz4',
      onFull: 'inline',
      rates: kernelRates,
      pagesPerSec: spread(kernelRates),
      pages,
      fifoFullShare: 0,
      kswapdBusyMs: 0,
      compressP50Us: null,
      batchP50Us: null,
    });
  }
  const byName = new Map(variants.map((v) => [v.name, v]));
  const ratios: RatioFigures[] = RATIOS.filter((r) => groups.includes(r.group)).map((r) => {
    const num = byName.get(r.numerator)!;
    // Without the kernel's row, the kernel ratio falls back to the anchor.
    const anchor = r.denominator === KERNEL_VARIANT && !byName.has(KERNEL_VARIANT);
    const def = anchor ? { ...r, name: r.name.replace('same rounds', `the ${KERNEL_ZRAM_STORE_PAGES_PER_SEC / 1000}k/s anchor`), denominator: KERNEL_ZRAM_STORE_PAGES_PER_SEC } : r;
    const den = typeof def.denominator === 'number' ? undefined : byName.get(def.denominator)!;
    const values = num.rates.map((x, k) => x / (den ? den.rates[k] : (def.denominator as number)));
    const s = spread(values);
    return { ...def, values, spread: s, pass: s.median >= def.goal };
  });
  return { machine: pipelinesMachineLine(), kernelSkipped, pages, rounds, variants, ratios };
}

const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
const us = (x: number | null) => (x === null ? '—' : x.toFixed(1));

/** The tables as Markdown (figures, then ratios). */
export function formatPipelines(b: PipelinesBench): string {
  const out: string[] = [];
  out.push(`Pure drain, ${b.pages} pages (mix, lz4 ratio 2.3, 10 % same-filled), poison off; 1 warm-up + ${b.rounds} rounds per group, the group's variants interleaved, one engine per variant.`);
  out.push(`Machine: ${b.machine}.`);
  out.push('');
  out.push('| variant | pages/s median | min–max | vs first of group | fifo_full ÷ pages | kswapd busy ms | compress p50 µs | batch p50 µs |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  const firstOf = new Map<string, VariantFigures>();
  for (const v of b.variants) {
    if (!firstOf.has(v.group)) firstOf.set(v.group, v);
    const f = firstOf.get(v.group)!;
    const rel = median(v.rates.map((x, i) => x / f.rates[i]));
    const kernel = v.pipeline === 'kernel';
    out.push(
      `| ${v.name} | ${k(v.pagesPerSec.median)} | ${k(v.pagesPerSec.min)}–${k(v.pagesPerSec.max)} | ${rel.toFixed(2)}× | ` +
        `${kernel ? '—' : `${(v.fifoFullShare * 100).toFixed(1)} %`} | ${kernel ? '—' : v.kswapdBusyMs.toFixed(0)} | ${us(v.compressP50Us)} | ${us(v.batchP50Us)} |`,
    );
  }
  out.push('');
  out.push(
    'fifo_full ÷ pages: with onFull inline, the share of pages kswapd compressed itself because every ring was full ' +
      '(with zstd it stores them with lz4, the synchronous fallback); with onFull wait, the times kswapd found every ring full and waited, per page.',
  );
  out.push('');
  out.push('| ratio (per round, median) | median | min–max | goal | |');
  out.push('|---|---:|---:|---:|---|');
  for (const r of b.ratios) {
    const verdict = r.note?.startsWith('informative') ? r.note : r.pass ? 'meets goal' : 'below goal';
    out.push(`| ${r.name} | ${r.spread.median.toFixed(2)} | ${r.spread.min.toFixed(2)}–${r.spread.max.toFixed(2)} | ≥ ${r.goal} | ${verdict} |`);
  }
  if (b.variants.some((v) => v.pipeline === 'kernel')) {
    out.push('', `${KERNEL_VARIANT}: the same pages written to /dev/zram0 (lz4) by two dd processes with 4 KiB direct writes, once a round after the lz4-native drains; the device is reset after each.`);
  }
  if (b.ratios.some((r) => typeof r.denominator === 'number')) {
    out.push('', `The kernel's zram was not measured (${b.kernelSkipped ?? 'unknown reason'}). Anchor instead: ${KERNEL_ANCHOR}; goal ≥ 0.75× = ${k(0.75 * KERNEL_ZRAM_STORE_PAGES_PER_SEC)} pages/s.`);
  }
  return out.join('\n');
}

function argOf(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(argOf('--rounds') ?? 5);
  const pages = Number(argOf('--pages') ?? 32768);
  const groups = (argOf('--groups')?.split(',') ?? [...GROUPS]) as Group[];
  const bad = groups.find((g) => !(GROUPS as readonly string[]).includes(g));
  if (bad !== undefined || !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(pages) || pages < 64) {
    console.error(bad !== undefined ? `--groups: unknown group ${bad} (choose from ${GROUPS.join(', ')})` : '--rounds and --pages take positive integers (pages ≥ 64)');
    process.exit(2);
  }
  if (!canCollect()) console.error('(V8 refused gc(): garbage may carry over between timed phases)');
  const b = await benchPipelines({
    rounds,
    pages,
    groups,
    onDrain: process.env.ZRECLAIM_BENCH_DEBUG
      ? (v, round, r) => console.error(`round ${round} ${v.name}: ${Math.round(r.pagesPerSec)} pages/s, ${r.pages} pages, fifo_full ${r.counters.kcompressd_fifo_full}`)
      : undefined,
  });
  console.log(formatPipelines(b));
}
