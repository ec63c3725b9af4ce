/**
 * Inline kswapd drain against bare codec loops, on the same pages, in one process.
 *
 * The arena is filled with cold pages (content `mix`, lz4 ratio 2.3, as resident anonymous
 * memory of a Node process measured here), no application runs, and the engine's real
 * kswapd loop (slices, event-loop yields, CLOCK scan, same-filled check, compression, pool
 * allocation and copy, page-table publication, counters, histograms) reclaims until the
 * high watermark (Engine.drain(), which ends when kswapd goes back to sleep). Beside it, on
 * the same pages:
 *   - the bare lz4-napi `compressSync` loop on one thread (the goal's reference);
 *   - the bare liblz4 loop (node-lz4 encodeBlock into one reused buffer, the `lz4-native`
 *     codec's call);
 *   - the floor for the drain's codec: its bare loop plus the two things any engine that
 *     stores into shared memory from an event-loop thread does — copy the output into a
 *     SharedArrayBuffer, yield as often as kswapd does (every KSWAPD_RESCHED_MS; lz4-napi's
 *     Buffers are finalized in those turns).
 * Every phase starts on a settled heap (settleHeap: GC, then the queued Node-API
 * finalizers), so none pays for another's garbage. Each ratio is taken pair by pair, and
 * the engine and the bare lz4-napi loop swap order every other pair.
 * `benchDrain({ codec: 'lz4-native' })` drains with that codec instead.
 *
 * On this 2-vCPU machine a single-threaded loop runs at two speeds (3.2 or 8 µs per
 * lz4-napi call, measured here) depending on whether the other vCPU — likely its SMT
 * sibling — is busy; a pair whose halves land in different modes gives a wild ratio. Hence
 * many short pairs and the median; run it on an otherwise idle machine.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { setImmediate as turn } from 'node:timers/promises';
import { createEngine, KSWAPD_RESCHED_MS, settleHeap, type DrainResult } from '@zreclaim/engine/internal';
import { createContentSource } from '@zreclaim/workloads';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressSync(b: Buffer): Buffer };
const nodeLz4 = require('lz4') as { encodeBlock(input: Buffer, output: Buffer, startIdx?: number, endIdx?: number): number };

export interface DrainPair {
  enginePagesPerSec: number;
  /** The bare lz4-napi compressSync loop (the goal's reference). */
  rawPagesPerSec: number;
  /** engine ÷ the lz4-napi loop. */
  ratio: number;
  /** The bare liblz4 loop (node-lz4 encodeBlock into one reused buffer). */
  rawNativePagesPerSec: number;
  /**
   * The floor for the engine's codec: the bare loop plus what any engine that stores into
   * shared memory from a thread with an event loop must do — copy each output into a
   * SharedArrayBuffer (16-byte-aligned, as pool objects are) and yield the event loop as
   * often as kswapd does (KSWAPD_RESCHED_MS), which is where lz4-napi's Buffers are finalized.
   */
  floorPagesPerSec: number;
  reclaimed: number;
}

/** The engine codec a drain uses: lz4 (lz4-napi, the kswapd codec) or lz4-native. */
export type DrainCodec = 'lz4' | 'lz4-native';

const PAGE_SIZE = 4096;
/** Cold pages of `mix` content (lz4 ratio 2.3, no same-filled share), as the drain fills them. */
const CONTENT = { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } as const;
const SEED = 11;

/** The same pages the engine's drain filled (page p at version 1), as one view per page. */
function samePages(pages: number): Buffer[] {
  const bytes = Buffer.alloc(pages * PAGE_SIZE);
  const content = createContentSource(CONTENT, PAGE_SIZE, SEED);
  for (let p = 0; p < pages; p++) content.fill(bytes, p * PAGE_SIZE, PAGE_SIZE, p, 1);
  return Array.from({ length: pages }, (_, p) => bytes.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
}

/** Compress one page with the codec's bare call; returns the compressed bytes. */
type Compress = (page: Buffer) => Uint8Array;

function compressor(codec: DrainCodec): Compress {
  if (codec === 'lz4') return (page) => lz4.compressSync(page);
  const out = Buffer.allocUnsafeSlow(PAGE_SIZE);
  return (page) => out.subarray(0, nodeLz4.encodeBlock(page, out, 0, PAGE_SIZE - 1));
}

/** The bare loop: seconds for the first n pages. */
function bareLoop(compress: Compress, views: Buffer[], n: number): number {
  const t0 = performance.now();
  let sink = 0;
  for (let p = 0; p < n; p++) sink += compress(views[p]).length;
  const secs = (performance.now() - t0) / 1000;
  if (sink === 0) throw new Error('nothing compressed');
  return secs;
}

/** The floor (see DrainPair.floorPagesPerSec): seconds for the first n pages. */
async function floorLoop(compress: Compress, views: Buffer[], n: number, pool: Uint8Array): Promise<number> {
  const t0 = performance.now();
  let off = 0;
  let turnAt = t0;
  for (let p = 0; p < n; p++) {
    const out = compress(views[p]);
    if (off + out.length > pool.length) off = 0;
    pool.set(out, off);
    off += (out.length + 15) & ~15;
    if ((p & 15) === 15 && performance.now() - turnAt >= KSWAPD_RESCHED_MS) {
      await turn();
      turnAt = performance.now();
    }
  }
  return (performance.now() - t0) / 1000;
}

export async function benchDrain(opts: { pages?: number; runs?: number; codec?: DrainCodec } = {}): Promise<DrainPair[]> {
  const pages = opts.pages ?? 16384;
  const runs = opts.runs ?? 9;
  const codec = opts.codec ?? 'lz4';
  const out: DrainPair[] = [];
  // The engine's own pure drain (inline pipeline): kswapd reclaims about 90 % of the arena.
  const engine = createEngine({ pages, content: CONTENT, seed: SEED, poison: false, codec });
  try {
    // Warm-up (JIT, lz4-napi loaded). The loops compress as many of the same pages as a
    // drain reclaims (the first ones, as the CLOCK hand takes them): the same every drain.
    let n = (await engine.drain()).pages;
    const views = samePages(pages);
    const pool = new Uint8Array(new SharedArrayBuffer(pages * PAGE_SIZE)).fill(1);
    const napi = compressor('lz4');
    const native = compressor('lz4-native');
    const own = compressor(codec);
    for (let i = 0; i < runs; i++) {
      // The engine and the bare lz4-napi loop swap places every other pair, as the gate's
      // pairs do, so neither always runs first after the previous pair's phases.
      let e: DrainResult | undefined;
      if (i % 2 === 0) {
        await settleHeap();
        e = await engine.drain();
        n = e.pages;
      }
      await settleHeap();
      const rawPagesPerSec = n / bareLoop(napi, views, n);
      if (e === undefined) {
        await settleHeap();
        e = await engine.drain();
      }
      await settleHeap();
      const rawNativePagesPerSec = n / bareLoop(native, views, n);
      await settleHeap();
      const floorPagesPerSec = n / (await floorLoop(own, views, n, pool));
      out.push({ enginePagesPerSec: e.pagesPerSec, rawPagesPerSec, ratio: e.pagesPerSec / rawPagesPerSec, rawNativePagesPerSec, floorPagesPerSec, reclaimed: e.pages });
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

/** The medians a drain benchmark reports, each taken over its pairs. */
export function drainSummary(pairs: DrainPair[]) {
  const m = (f: (p: DrainPair) => number) => median(pairs.map(f));
  return {
    overNapi: m((p) => p.ratio),
    overNative: m((p) => p.enginePagesPerSec / p.rawNativePagesPerSec),
    overFloor: m((p) => p.enginePagesPerSec / p.floorPagesPerSec),
    floorOverNapi: m((p) => p.floorPagesPerSec / p.rawPagesPerSec),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const codec = (process.argv[2] ?? 'lz4') as DrainCodec;
  if (codec !== 'lz4' && codec !== 'lz4-native') {
    console.error(`usage: bench-drain.js [lz4|lz4-native]: unknown codec ${codec}`);
    process.exit(2);
  }
  const pairs = await benchDrain({ codec });
  for (const p of pairs) {
    console.log(
      `engine/${codec} ${Math.round(p.enginePagesPerSec)} pages/s  raw lz4-napi ${Math.round(p.rawPagesPerSec)}  raw liblz4 ${Math.round(p.rawNativePagesPerSec)}  floor/${codec} ${Math.round(p.floorPagesPerSec)}  ratio ${p.ratio.toFixed(3)}  (${p.reclaimed} pages)`,
    );
  }
  const s = drainSummary(pairs);
  console.log(
    `median engine/${codec} ÷ lz4-napi loop ${s.overNapi.toFixed(3)}, ÷ liblz4 loop ${s.overNative.toFixed(3)}, ÷ ${codec} floor ${s.overFloor.toFixed(3)}; floor ÷ lz4-napi loop ${s.floorOverNapi.toFixed(3)} — ${machineLine()}`,
  );
}
