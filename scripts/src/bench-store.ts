/**
 * The compressed pool's costs, as ratios measured in one process:
 *
 * 1. Allocation + write + free per object: the zsmalloc-style ZsPool (shared memory, class
 *    locks, size classes) against a plain `Map<number, Buffer>` store doing the same work
 *    (a Buffer allocated and filled per object, deleted later), on the byte strings that
 *    lz4-napi makes of `mix` pages (ratio 2.3). Steady-state churn: LIVE objects stay
 *    live, each step stores a new one and frees the oldest. Rounds alternate A B A B; the
 *    ratio is taken round by round. The pool's cost per object is also put beside the
 *    time a `padata:2` drain spends per page, to show whether the pool is its bottleneck.
 * 2. Pool efficiency at steady state: mem_used_total ÷ compr_data_size over the second
 *    half of a default `zreclaim run` (mix content), from its time series.
 */
import { createRequire } from 'node:module';
import { ZsPool } from '@zreclaim/shm';
import { createEngine } from '@zreclaim/engine/internal';
import { createContentSource } from '@zreclaim/workloads';
import { machineLine, median } from './bench-drain.js';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressSync(b: Buffer): Buffer };

const PAGE = 4096;
const LIVE = 8192;
const STEPS = 200_000;

/** Compressed images of `n` mix pages, as the store receives them. */
function objects(n: number): Buffer[] {
  const src = createContentSource({ kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, PAGE, 5);
  const page = Buffer.alloc(PAGE);
  const out: Buffer[] = [];
  for (let p = 0; p < n; p++) {
    src.fill(page, 0, PAGE, p, 1);
    out.push(lz4.compressSync(page));
  }
  return out;
}

function poolRound(objs: Buffer[]): number {
  const pool = new ZsPool({ pageSize: PAGE, maxPages: LIVE * 2 });
  const handles = new Int32Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    const o = objs[i % objs.length];
    handles[i] = pool.alloc(o.length);
    pool.write(handles[i], o, 0, o.length);
  }
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    const slot = s % LIVE;
    pool.free(handles[slot]);
    const o = objs[(s * 7) % objs.length];
    const h = pool.alloc(o.length);
    if (h < 0) throw new Error('pool full');
    pool.write(h, o, 0, o.length);
    handles[slot] = h;
  }
  return ((performance.now() - t0) * 1e6) / STEPS;
}

function mapRound(objs: Buffer[]): number {
  const map = new Map<number, Buffer>();
  for (let i = 0; i < LIVE; i++) map.set(i, Buffer.from(objs[i % objs.length]));
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    const key = s % LIVE;
    map.delete(key);
    const o = objs[(s * 7) % objs.length];
    const b = Buffer.allocUnsafe(o.length);
    o.copy(b);
    map.set(key, b);
  }
  const ns = ((performance.now() - t0) * 1e6) / STEPS;
  if (map.size !== LIVE) throw new Error('map lost entries');
  return ns;
}

function settle(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function benchStore(rounds = 7) {
  const objs = objects(4096);
  const avg = objs.reduce((s, o) => s + o.length, 0) / objs.length;
  poolRound(objs);
  mapRound(objs);
  const pairs: { pool: number; map: number; ratio: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    settle();
    const pool = poolRound(objs);
    settle();
    const map = mapRound(objs);
    pairs.push({ pool, map, ratio: pool / map });
  }
  // A padata:2 drain's time per page, and the pool's steady-state footprint from a run.
  const engine = createEngine({ pages: 16384, pipeline: 'padata:2', kswapd: { onFull: 'wait' }, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } });
  let drainNsPerPage: number[] = [];
  let efficiency: number[] = [];
  try {
    await engine.drain();
    for (let i = 0; i < 3; i++) drainNsPerPage.push(1e9 / (await engine.drain()).pagesPerSec);
  } finally {
    await engine.close();
  }
  const runEngine = createEngine({ duration: 6 });
  try {
    const r = await runEngine.run();
    const ts = r.timeseries;
    const half = ts.t_ms.findIndex((t) => t >= ts.t_ms[ts.t_ms.length - 1] / 2);
    for (let i = Math.max(0, half); i < ts.t_ms.length; i++) {
      if (ts.compr_data_size[i] > 0) efficiency.push((ts.pool_pages[i] * r.config.pageSize) / ts.compr_data_size[i]);
    }
  } finally {
    await runEngine.close();
  }
  drainNsPerPage = drainNsPerPage.sort((a, b) => a - b);
  efficiency = efficiency.sort((a, b) => a - b);
  return { avgObjectBytes: avg, pairs, drainNsPerPage, efficiency };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchStore();
  for (const p of r.pairs) console.log(`pool ${p.pool.toFixed(0)} ns/object  Map<number, Buffer> ${p.map.toFixed(0)} ns/object  ratio ${p.ratio.toFixed(2)}`);
  const pool = median(r.pairs.map((p) => p.pool));
  const drain = median(r.drainNsPerPage);
  console.log(`objects: lz4-napi images of mix pages, ${r.avgObjectBytes.toFixed(0)} B average; ${LIVE} live, ${STEPS} alloc+write+free steps per round`);
  console.log(`median pool ÷ Map: ${median(r.pairs.map((p) => p.ratio)).toFixed(2)} (pool ${pool.toFixed(0)} ns/object)`);
  // Two workers share the drain: each spends 2 × (wall time per page) on each of its pages.
  console.log(
    `padata:2 drain: ${drain.toFixed(0)} ns/page wall (median of 3), so ${(2 * drain).toFixed(0)} ns per page in each worker — the pool's alloc+write+free is ${((pool / (2 * drain)) * 100).toFixed(1)} % of that`,
  );
  console.log(
    `pool efficiency mem_used_total ÷ compr_data_size, second half of a default run: median ${median(r.efficiency).toFixed(3)} (${r.efficiency[0]?.toFixed(3)}–${r.efficiency[r.efficiency.length - 1]?.toFixed(3)}, ${r.efficiency.length} samples)`,
  );
  console.log(machineLine());
}
