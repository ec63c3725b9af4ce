/**
 * Inline kswapd drain against a bare lz4-napi loop, on the same pages, in one process.
 *
 * The arena is filled with cold pages (content `mix`, lz4 ratio 2.3, as resident anonymous
 * memory of a Node process measured here), no application runs, and the engine's real
 * kswapd loop (slices, event-loop yields, CLOCK scan, same-filled check, compression, pool
 * allocation and copy, page-table publication, counters, histograms) reclaims until the
 * high watermark (Engine.drain(); it notices the end with a 1 ms poll, about 1 % of a
 * drain here). The reference is `compressSync` over the same pages in a bare loop on one
 * thread; and, beside it, liblz4 (node-lz4 encodeBlock into one reused buffer, the
 * `lz4-native` codec's call) in a bare loop. Runs alternate A B A B and the ratio is taken
 * pair by pair. `benchDrain({ codec: 'lz4-native' })` drains with that codec instead, so
 * the engine's own overhead shows apart from lz4-napi's Buffer per page.
 *
 * On this 2-vCPU machine a single-threaded loop runs at two speeds (3.2 or 8 µs per
 * lz4-napi call, measured here) depending on whether the other vCPU — likely its SMT
 * sibling — is busy; a pair whose halves land in different modes gives a wild ratio. Hence
 * many short pairs and the median; run it on an otherwise idle machine.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { createEngine } from '@zreclaim/engine';
import { createContentSource } from '@zreclaim/workloads';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressSync(b: Buffer): Buffer };
const nodeLz4 = require('lz4') as { encodeBlock(input: Buffer, output: Buffer, startIdx?: number, endIdx?: number): number };

export interface DrainPair {
  enginePagesPerSec: number;
  /** The bare lz4-napi compressSync loop. */
  rawPagesPerSec: number;
  /** engine ÷ the lz4-napi loop. */
  ratio: number;
  /** The bare liblz4 loop (node-lz4 encodeBlock into one reused buffer). */
  rawNativePagesPerSec: number;
  reclaimed: number;
}

/** The engine codec a drain uses: lz4 (lz4-napi, the kswapd codec) or lz4-native. */
export type DrainCodec = 'lz4' | 'lz4-native';

const PAGE_SIZE = 4096;
/** Cold pages of `mix` content (lz4 ratio 2.3, no same-filled share), as the drain fills them. */
const CONTENT = { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } as const;
const SEED = 11;

/** The same pages the engine's drain filled (page p at version 1), for the bare loop. */
function samePages(pages: number): Buffer {
  const bytes = Buffer.alloc(pages * PAGE_SIZE);
  const content = createContentSource(CONTENT, PAGE_SIZE, SEED);
  for (let p = 0; p < pages; p++) content.fill(bytes, p * PAGE_SIZE, PAGE_SIZE, p, 1);
  return bytes;
}

function rawLoop(bytes: Buffer, pages: number, pageSize: number): number {
  const views: Buffer[] = [];
  for (let p = 0; p < pages; p++) views.push(bytes.subarray(p * pageSize, (p + 1) * pageSize));
  const t0 = performance.now();
  let sink = 0;
  for (let p = 0; p < pages; p++) sink += lz4.compressSync(views[p]).length;
  const secs = (performance.now() - t0) / 1000;
  if (sink === 0) throw new Error("nothing compressed");
  if (process.env.ZRECLAIM_BENCH_DEBUG) console.error(`raw: ${pages} pages, ${(sink / pages).toFixed(0)} B avg, ${((secs / pages) * 1e6).toFixed(2)} us/page`);
  return secs;
}

function rawNativeLoop(bytes: Buffer, pages: number, pageSize: number): number {
  const views: Buffer[] = [];
  for (let p = 0; p < pages; p++) views.push(bytes.subarray(p * pageSize, (p + 1) * pageSize));
  const out = Buffer.allocUnsafeSlow(pageSize);
  const t0 = performance.now();
  let sink = 0;
  for (let p = 0; p < pages; p++) sink += nodeLz4.encodeBlock(views[p], out, 0, pageSize - 1);
  const secs = (performance.now() - t0) / 1000;
  if (sink === 0) throw new Error('nothing compressed');
  return secs;
}

/**
 * lz4-napi returns a new Buffer per page; the garbage one phase leaves behind is collected
 * in the next. Collect between phases (node --expose-gc) so neither pays for the other.
 */
function settle(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function benchDrain(opts: { pages?: number; runs?: number; codec?: DrainCodec } = {}): Promise<DrainPair[]> {
  const pages = opts.pages ?? 16384;
  const runs = opts.runs ?? 9;
  const out: DrainPair[] = [];
  // The engine's own pure drain (inline pipeline): kswapd reclaims about 90 % of the arena.
  const engine = createEngine({ pages, content: CONTENT, seed: SEED, poison: false, codec: opts.codec ?? 'lz4' });
  try {
    await engine.drain(); // warm-up: JIT, lz4-napi loaded
    const bytes = samePages(pages);
    for (let i = 0; i < runs; i++) {
      settle();
      const e = await engine.drain();
      settle();
      // The bare loop compresses as many of the same pages as the engine reclaimed.
      const rawSecs = rawLoop(bytes, e.pages, PAGE_SIZE);
      const rawPagesPerSec = e.pages / rawSecs;
      settle();
      const rawNativePagesPerSec = e.pages / rawNativeLoop(bytes, e.pages, PAGE_SIZE);
      out.push({ enginePagesPerSec: e.pagesPerSec, rawPagesPerSec, ratio: e.pagesPerSec / rawPagesPerSec, rawNativePagesPerSec, reclaimed: e.pages });
    }
  } finally {
    await engine.close();
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const codec = (process.argv[2] ?? 'lz4') as DrainCodec;
  if (codec !== 'lz4' && codec !== 'lz4-native') throw new Error(`usage: bench-drain.js [lz4|lz4-native], got ${codec}`);
  const pairs = await benchDrain({ codec });
  for (const p of pairs) {
    console.log(
      `engine/${codec} ${Math.round(p.enginePagesPerSec)} pages/s  raw lz4-napi ${Math.round(p.rawPagesPerSec)}  raw liblz4 ${Math.round(p.rawNativePagesPerSec)}  ratio ${p.ratio.toFixed(3)}  (${p.reclaimed} pages)`,
    );
  }
  console.log(
    `median engine/${codec} ÷ lz4-napi loop ${median(pairs.map((p) => p.ratio)).toFixed(3)}, ÷ liblz4 loop ${median(pairs.map((p) => p.enginePagesPerSec / p.rawNativePagesPerSec)).toFixed(3)} — ${machineLine()}`,
  );
}
