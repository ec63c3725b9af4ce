/**
 * `pnpm bench:gc`: the zram GC thread's experiments (seed 002), gc: sync against gc: async.
 *
 *   (a) kill: one application unmaps a 256 MiB region (65536 pages of 4 KiB) that is all
 *       swapped out into the store — time of the kill() call. Seed: 3.4× faster with the GC
 *       worker (63.1 ms → 18.6 ms on an RK3588).
 *   (b) swap-in: the same region read back page by page (every read a fault) — total time.
 *       Seed: 1.22× (1.358 s → 1.104 s), pages filled with "1024 one", "1024 two", ...
 *   (c) the cap: the kill with the 64 MiB cap against no cap — the most compressed bytes
 *       whose free was pending at once (gc_bytes_pending, as the GC worker saw it at each
 *       pop) and the pool footprint still held when kill() returned.
 *   (d) the parts, on one thread: ZsPool.free against GcQueue.push against the GC worker's
 *       popBatch + freeBulk, per object.
 *
 * The region is paged out with PageApi.pageout (MADV_PAGEOUT) so no page is resident when
 * the timed part starts, and the RAM budget holds the whole region, so the swap-in never
 * reclaims. The arena is twice the region (the budget must be smaller than the arena).
 * Verification is off in these runs (a read is the fault alone, no checksum); the tests
 * check correctness. With gc: async the GC worker is a thread of its own: on a 2-core
 * machine the application and the GC worker each get a core, as the seed's GC worker ran on
 * other CPUs than the unmapping task. Memory is plentiful here, so the GC worker lets frees
 * pile up (within the cap) until the application goes quiet (gc.ts): what (a) and (b) time
 * is the application's own path; "all returned after" in (c) includes the GC's part.
 * Variants run interleaved, round by round, after one warm-up round; each variant has its
 * own engine (warm threads).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createCodec, createEngine, GC_BATCH, type ConfigInput, type Engine, type RunResult } from '@zreclaim/engine/internal';
import { GcQueue, ZsPool } from '@zreclaim/shm';
import { machineLine, median } from './bench-drain.js';
import { createContentSource } from '@zreclaim/workloads';
import { PATTERNS, type GcBenchParams, type GcBenchReport } from './gc-bench-workload.js';

const WORKLOAD = fileURLToPath(new URL('./gc-bench-workload.js', import.meta.url));
const CHANNEL = `zreclaim-bench-gc-${process.pid}`;
const MiB = 1024 * 1024;

const region = Number(process.env.ZRECLAIM_GC_REGION ?? 65_536);
const rounds = Number(process.env.ZRECLAIM_GC_ROUNDS ?? 5);
/** Experiments to run (a, a2, b, b2, d), default all: ZRECLAIM_GC_ONLY=a,b. */
const only = new Set((process.env.ZRECLAIM_GC_ONLY ?? 'a,a2,b,b2,d').split(','));
const settle = () => (globalThis as { gc?: () => void }).gc?.();

const reports = new Map<number, (r: GcBenchReport) => void>();
const channel = new BroadcastChannel(CHANNEL);
channel.onmessage = (ev) => {
  const r = (ev as unknown as { data: GcBenchReport }).data;
  reports.get(r.runId)?.(r);
};
let runIds = 0;

type Gc = ConfigInput['gc'];
interface Variant {
  name: string;
  gc: Gc;
  engine?: Engine;
}

function config(gc: Gc, pattern: boolean): ConfigInput {
  return {
    pages: 2 * region,
    // The whole region fits in RAM with its compressed copy: the swap-in never reclaims.
    ram: Math.floor(1.9 * region),
    apps: 1,
    duration: 1,
    verify: false,
    poison: false,
    // liblz4 into a reused buffer: the pageout leaves no Buffer per page behind to collect.
    codec: 'lz4-native',
    content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 },
    // The pool needs ~0.45 of the region for mix content; its buffer is prefaulted, keep it small.
    store: { memLimit: Math.floor(0.6 * region) },
    gc,
    seed: pattern ? 2 : 1,
  };
}

interface Measured {
  report: GcBenchReport;
  result: RunResult;
}

async function once(v: Variant, measure: 'kill' | 'swapin', pattern: boolean): Promise<Measured> {
  v.engine ??= createEngine(config(v.gc, pattern));
  const runId = ++runIds;
  const got = new Promise<GcBenchReport>((resolve, reject) => {
    reports.set(runId, resolve);
    setTimeout(() => reject(new Error(`no report from run ${runId}`)), 120_000).unref();
  });
  const params: GcBenchParams = { region, measure, pattern, channel: CHANNEL, runId };
  settle();
  const result = await v.engine.run({ workload: { kind: 'module', module: WORKLOAD, params: params as unknown as Record<string, unknown> } });
  const report = await got;
  reports.delete(runId);
  if (!result.checks.counters_add_up) throw new Error(`${v.name}: the run's counters do not add up: ${result.checks.problems.join('; ')}`);
  if (report.swappedOut !== region || report.residentBefore !== 0) {
    throw new Error(`${v.name}: ${report.swappedOut} of ${region} pages were paged out, ${report.residentBefore} resident before the timed part`);
  }
  return { report, result };
}

async function experiment(title: string, variants: Variant[], measure: 'kill' | 'swapin', pattern: boolean): Promise<Measured[][]> {
  console.log(`\n${title}`);
  for (const v of variants) await once(v, measure, pattern); // warm-up round
  const out: Measured[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Alternate the order round by round so drift hits every variant alike.
    const order = variants.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) out[i].push(await once(variants[i], measure, pattern));
  }
  await Promise.all(variants.map((v) => v.engine?.close()));
  for (const v of variants) v.engine = undefined;
  return out;
}

const fmt = (xs: number[], digits = 1) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

function timeTable(variants: Variant[], runs: Measured[][], unit: string): void {
  for (let i = 0; i < variants.length; i++) {
    const ms = runs[i].map((m) => m.report.ms);
    console.log(`  ${variants[i].name.padEnd(22)} ${fmt(ms, 2).padStart(24)} ${unit}   runs: ${ms.map((x) => x.toFixed(1)).join(' ')}`);
    if (process.env.ZRECLAIM_BENCH_DEBUG) {
      for (const m of runs[i]) console.log(`    ${m.report.ms.toFixed(2)} ms, held at return ${((m.report.poolPagesAtReturn * 4096) / MiB).toFixed(1)} MiB, gc bulk frees ${m.result.gc?.bulk_frees}, naps ${m.result.gc?.naps}, sleeps ${m.result.gc?.sleeps}`);
    }
  }
  const base = runs[0].map((m) => m.report.ms);
  for (let i = 1; i < variants.length; i++) {
    const ms = runs[i].map((m) => m.report.ms);
    const perRound = base.map((b, r) => b / ms[r]);
    console.log(`  ${variants[0].name} ÷ ${variants[i].name}: ratio of medians ×${(median(base) / median(ms)).toFixed(2)}, per round ${fmt(perRound, 2)}`);
  }
}

function killDetails(variants: Variant[], runs: Measured[][]): void {
  for (let i = 0; i < variants.length; i++) {
    const m = runs[i];
    const held = m.map((x) => (x.report.poolPagesAtReturn * 4096) / MiB);
    const before = m.map((x) => (x.report.poolPagesBefore * 4096) / MiB);
    const ret = m.map((x) => x.report.returnedMs);
    const peak = m.map((x) => (x.result.gc?.peak_pending_bytes ?? 0) / MiB);
    const queued = m.map((x) => x.result.counters.gc_slots_queued);
    const unmapHist = m.map((x) => (x.result.latency.unmap.min + x.result.latency.unmap.max) / 2 / 1e6);
    console.log(
      `  ${variants[i].name.padEnd(22)} pool before ${fmt(before)} MiB · held at kill return ${fmt(held)} MiB · all returned after ${fmt(ret)} ms · ` +
        `peak gc_bytes_pending ${fmt(peak)} MiB · slots queued ${fmt(queued, 0)} of ${region} · unmap histogram ${fmt(unmapHist, 2)} ms`,
    );
  }
}

console.log(`zreclaim bench:gc — ${machineLine()}${(globalThis as { gc?: unknown }).gc ? '' : ' (run with node --expose-gc)'}`);
console.log(`region ${region} pages × 4 KiB = ${(region * 4096) / MiB} MiB, 1 warm-up + ${rounds} interleaved rounds, medians (min–max)`);

const sync: Variant = { name: 'gc sync', gc: { mode: 'sync' } };
const async64: Variant = { name: 'gc async, cap 64 MiB', gc: { mode: 'async', capBytes: 64 * MiB } };
const asyncNoCap: Variant = { name: 'gc async, no cap', gc: { mode: 'async', capBytes: 0 } };

if (only.has('a')) {
const killMix = await experiment('(a) kill of the swapped-out region, mix content (lz4 ratio 2.3, no same-filled pages: every page a pool object)', [sync, async64, asyncNoCap], 'kill', false);
timeTable([sync, async64, asyncNoCap], killMix, 'ms');
console.log('(c) the cap, same runs:');
killDetails([sync, async64, asyncNoCap], killMix);
}
if (only.has('a2')) {
const killPattern = await experiment('(a′) kill of the swapped-out region, the seed\'s pattern pages', [sync, async64], 'kill', true);
timeTable([sync, async64], killPattern, 'ms');
killDetails([sync, async64], killPattern);
}
if (only.has('b')) {
const swapin = await experiment('(b) swap-in of the region, page by page, the seed\'s pattern pages', [sync, async64], 'swapin', true);
timeTable([sync, async64], swapin, 'ms');
}
if (only.has('b2')) {const swapinMix = await experiment('(b′) swap-in of the region, mix content', [sync, async64], 'swapin', false);
timeTable([sync, async64], swapinMix, 'ms');
}

if (only.has('d')) components();

/**
 * (d) What one free costs, on one thread with nothing else running: ZsPool.free per object
 * (what the unmapping thread does with gc: sync), GcQueue.push per object (what it does
 * with gc: async), and popBatch(256) + freeBulk per object (the GC worker's share). Objects
 * of mix-like sizes (1200–2400 bytes) and of the pattern pages' size (~40 bytes).
 */
function components(): void {
  console.log('\n(d) one free, one thread (ns per object, median of 5 (min–max), 65536 objects freed in the order they were allocated)');
  const n = 65_536;
  // The sizes lz4 gives the region's pages: mix content (as in (a)) and the seed's patterns.
  const codec = createCodec('lz4-native', 4096);
  if (!codec.sync || !codec.compress) throw new Error('lz4-native is a synchronous codec');
  const page = Buffer.alloc(4096);
  const out = Buffer.alloc(4096 + 64);
  const mix = createContentSource({ kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, 4096, 1);
  const mixSizes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    mix.fill(page, 0, 4096, i, 1);
    mixSizes[i] = Math.min(4096, codec.compress(page, 0, 4096, out));
  }
  const patSizes = PATTERNS.map((p) => {
    for (let i = 0; i < 4096; i++) page[i] = p.charCodeAt(i % p.length);
    return codec.compress!(page, 0, 4096, out);
  });
  const sizes = {
    [`mix (lz4: ${Math.min(...mixSizes)}–${Math.max(...mixSizes)} B)`]: (i: number) => mixSizes[i],
    [`pattern (lz4: ${patSizes.join('/')} B)`]: (i: number) => patSizes[i & 3],
  };
  for (const [label, size] of Object.entries(sizes)) {
    const t = { free: [] as number[], push: [] as number[], bulk: [] as number[] };
    for (let r = 0; r < 6; r++) {
      const pool = new ZsPool({ pageSize: 4096, maxPages: Math.ceil((n * 2500) / 4096) + 64 });
      pool.data.fill(0); // committed now, as the engine's pool is, not on the first free's write
      const q = new GcQueue(2 * n, 0);
      const handles = new Int32Array(n);
      const bytes = new Int32Array(n);
      const fill = () => {
        for (let i = 0; i < n; i++) {
          bytes[i] = size(i);
          handles[i] = pool.alloc(bytes[i]);
          if (handles[i] < 0) throw new Error('pool full');
        }
      };
      fill();
      let t0 = performance.now();
      for (let i = 0; i < n; i++) pool.free(handles[i]);
      const free = performance.now() - t0;
      fill();
      t0 = performance.now();
      for (let i = 0; i < n; i++) q.push(handles[i], bytes[i]);
      const push = performance.now() - t0;
      const h = new Int32Array(GC_BATCH);
      const b = new Int32Array(GC_BATCH);
      t0 = performance.now();
      for (let k; (k = q.popBatch(h, b, GC_BATCH)) > 0; ) pool.freeBulk(h, k);
      const bulk = performance.now() - t0;
      if (pool.pagesUsed !== 0) throw new Error('pool not empty after the bulk frees');
      if (r === 0) continue; // warm-up
      t.free.push((free * 1e6) / n);
      t.push.push((push * 1e6) / n);
      t.bulk.push((bulk * 1e6) / n);
    }
    console.log(`  ${label.padEnd(30)} ZsPool.free ${fmt(t.free, 0)} · GcQueue.push ${fmt(t.push, 0)} · popBatch+freeBulk ${fmt(t.bulk, 0)} · free ÷ push ×${(median(t.free) / median(t.push)).toFixed(2)}`);
  }
}

channel.close();
