import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, RunResultSchema, settleHeap, type Engine, type RunResult } from './internal.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function run(config: Parameters<typeof createEngine>[0], opts?: Parameters<Engine['run']>[0]): Promise<RunResult> {
  const engine = createEngine(config);
  engines.push(engine);
  return engine.run(opts);
}

/** Every page accounted for: stored once, popped once, counters in step. */
function expectConsistent(r: RunResult): void {
  const c = r.counters;
  expect(r.checks.problems).toEqual([]);
  expect(r.checks.mismatches).toBe(0);
  expect(c.pswpout - c.notify_free).toBe(r.checks.stored_pages);
  // Every reclaimed page was compressed (or found same-filled) exactly once.
  expect(c.pswpout).toBe(c.pgsteal_anon);
  expect(c.pgsteal_anon).toBe(c.pgsteal_kswapd + c.pgsteal_direct);
  if (r.pipeline.workers > 0 && r.pipeline.crashes === 0) {
    // Every index kswapd pushed was popped exactly once: stored or returned by a worker.
    const popped = r.pipeline.compressors.reduce((s, w) => s + w.pages + w.rejected, 0);
    expect(popped).toBe(c.kcompressd_enqueued);
    const byWorkers = r.pipeline.compressors.reduce((s, w) => s + w.pages, 0);
    // kswapd's own stores are the ring-full fallbacks (and nothing else).
    expect(c.pgsteal_kswapd - byWorkers).toBeLessThanOrEqual(c.kcompressd_fifo_full);
    expect(r.pipeline.compressors).toHaveLength(r.pipeline.workers);
  }
}

const small = { pages: 1024, ram: '60%', duration: 0.6, seed: 3 } as const;

describe('reclaim pipelines', () => {
  it('lose nothing, pop every index once and keep the counters in step, whatever the pipeline, batch, workers and codec', async () => {
    const combos = fc.record({
      pipeline: fc.constantFrom('inline', 'kcompressd', 'padata:2', 'batch:8', 'padata:2+batch:32'),
      codec: fc.constantFrom('lz4', 'lz4-native', 'zstd'),
      apps: fc.constantFrom(1, 2),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(combos, async ({ pipeline, codec, apps, seed }) => {
        if (pipeline === 'inline' && codec === 'zstd') return; // a config error, tested elsewhere
        const r = await run({ ...small, apps, seed, pipeline, codec });
        expect(r.pipeline.name).toBe(pipeline);
        expect(r.counters.pgsteal_anon).toBeGreaterThan(0);
        expectConsistent(r);
        await Promise.all(engines.splice(0).map((e) => e.close()));
      }),
      { numRuns: 8, seed: 42 },
    );
  });

  it('kswapd compresses inline and counts kcompressd_fifo_full when the ring is tiny and the worker slow', async () => {
    const r = await run({ ...small, apps: 1, pipeline: 'kcompressd', ringCapacity: 2, codec: 'zstd' });
    expect(r.counters.kcompressd_fifo_full).toBeGreaterThan(0);
    expect(r.counters.kcompressd_enqueued).toBeGreaterThan(0);
    expectConsistent(r);
  });

  it('a page whose compression fails in a batch goes back to RESIDENT alone; the rest of the batch is stored', async () => {
    // Arena page 5 belongs to app 1 and is cold: kswapd queues it, the worker fails it.
    const r = await run({ ...small, apps: 1, pipeline: 'batch:8', inject: { compressFailPage: 5, compressorExitAfter: 0 } });
    expect(r.counters.reject_compress_fail).toBeGreaterThan(0);
    const rejected = r.pipeline.compressors.reduce((s, w) => s + w.rejected, 0);
    // Only the injected page fails (the pool has room): every rejection is that page's.
    expect(rejected).toBe(r.counters.reject_compress_fail);
    expect(r.counters.batch_count).toBeGreaterThan(0);
    expect(r.pipeline.compressors[0].pages).toBeGreaterThan(r.counters.batch_count); // batches held several pages
    expectConsistent(r);
  });

  it('a worker with the async codec keeps answering control calls while it waits for work', async () => {
    // RAM large enough that kswapd never wakes: the worker only ever waits on its ring.
    const seen: number[] = [];
    const r = await run(
      { pages: 1024, ram: '60%', apps: 1, duration: 1, pipeline: 'kcompressd', codec: 'zstd', workload: { kind: 'module', module: fileURLToPath(new URL('../dist/testing/idle-workload.js', import.meta.url)), params: {} } },
      { progressIntervalMs: 100, onProgress: (p) => seen.push(p.compressors.length === 1 ? p.compressors[0].idleWaits : -1) },
    );
    expect(r.counters.kcompressd_enqueued).toBe(0);
    expect(seen.filter((x) => x >= 0).length).toBeGreaterThan(3);
    expect(seen[seen.length - 1]).toBeGreaterThan(0);
  });

  it('a compression worker that dies mid-batch: its pages go back or stay stored intact, it is replaced, the run goes on and says so', async () => {
    // The 36th page is the 4th of a full batch of 8: three published, one stored but not
    // published, four not yet stored.
    const r = await run({ ...small, apps: 1, duration: 1, pipeline: 'batch:8', inject: { compressFailPage: -1, compressorExitAfter: 36 } });
    expect(r.pipeline.crashes).toBe(1);
    expect(r.pipeline.pages_returned).toBeGreaterThan(0);
    expect(r.pipeline.pages_kept).toBeGreaterThan(0);
    // The replacement kept compressing after the crash.
    expect(r.pipeline.compressors[0].pages).toBeGreaterThan(0);
    expect(r.checks.mismatches).toBe(0);
    expect(r.checks.problems).toEqual([]);
    expect(r.counters.pswpout - r.counters.notify_free).toBe(r.checks.stored_pages);
  });

  it('a compression worker that dies while busy: the counts it had not yet folded are counted once, no more', async () => {
    // 50 µs of injected work a page keeps the worker behind kswapd, so it never idles and folds
    // its counter diffs only every VMSTAT_FOLD_MS (~40 pages): when it dies at page 100, the
    // pages stored since its last fold are counted only in its diff block (8–16 pages here).
    // Recovery folds the block; the replacement, which takes over the same block, must not
    // fold them again (a recovery that left them there fails this test).
    const r = await run({ ...small, apps: 1, duration: 0.6, pipeline: 'batch:8', kswapd: { onFull: 'wait' }, inject: { compressFailPage: -1, compressorExitAfter: 100, compressSpinNs: 50_000 } });
    expect(r.pipeline.crashes).toBe(1);
    expect(r.checks.mismatches).toBe(0);
    expect(r.checks.problems).toEqual([]);
    expect(r.counters.pswpout - r.counters.notify_free).toBe(r.checks.stored_pages);
    expect(r.counters.pswpout).toBe(r.counters.pgsteal_anon);
  });

  it('a pure drain reclaims through the workers, and closing the engine during one ends it promptly', async () => {
    const engine = createEngine({ pages: 2048, pipeline: 'padata:2+batch:8', poison: false });
    engines.push(engine);
    const d = await engine.drain();
    expect(d.pages).toBeGreaterThan(1024);
    expect(d.pipeline.compressors.reduce((s, w) => s + w.pages, 0)).toBeGreaterThan(0);
    expect(d.counters.pswpout).toBe(d.counters.pgsteal_anon);
    // zstd one page per request with kswapd waiting for room: slow enough to be cut short.
    const slow = createEngine({ pages: 65_536, pipeline: 'batch:1', codec: 'zstd', kswapd: { onFull: 'wait' }, poison: false });
    const outcome = slow.drain().then(
      () => new Error('the drain finished before close()'),
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await slow.close();
    expect(String(await outcome)).toMatch(/engine was closed/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('drain after drain through the workers, memory stays flat: no run keeps its arena and pool allocated after it', async () => {
    const pages = 8192; // 32 MiB of arena and up to 32 MiB of pool a drain
    const engine = createEngine({ pages, pipeline: 'kcompressd', poison: false });
    engines.push(engine);
    const mib = () => Math.round(process.memoryUsage().arrayBuffers / 2 ** 20);
    const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
    await engine.drain();
    await settleHeap();
    const base = { ab: mib(), rss: rss() };
    for (let i = 0; i < 8; i++) {
      await engine.drain();
      await settleHeap();
    }
    // Eight more drains held on to would be 8 × 64 MiB; let one or two be in flight.
    expect(mib() - base.ab, `ArrayBuffer memory ${base.ab} → ${mib()} MiB`).toBeLessThan(160);
    expect(rss() - base.rss, `RSS ${base.rss} → ${rss()} MiB`).toBeLessThan(240);
  });

  it('the time series holds the rings\' depth: 0 inline, within the rings\' capacity with workers, and filled when kswapd outruns them', async () => {
    const inline = await run({ ...small, apps: 1, duration: 0.5, pipeline: 'inline' });
    const ts = inline.timeseries;
    expect(ts.ring_depth).toHaveLength(ts.t_ms.length);
    expect(ts.ring_depth!.every((d) => d === 0)).toBe(true);
    // zstd one page per request behind rings of 16 with kswapd waiting for room: the rings stay full.
    const r = await run({ ...small, pages: 2048, apps: 1, duration: 1, pipeline: 'padata:2', codec: 'zstd', ringCapacity: 16, kswapd: { onFull: 'wait' } });
    const depth = r.timeseries.ring_depth!;
    expect(depth).toHaveLength(r.timeseries.t_ms.length);
    expect(Math.min(...depth)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...depth)).toBeLessThanOrEqual(2 * 16);
    expect(Math.max(...depth)).toBeGreaterThan(0);
    // A result from before the field still validates.
    const { ring_depth: _gone, ...older } = r.timeseries;
    expect(RunResultSchema.safeParse({ ...r, timeseries: older }).success).toBe(true);
    expectConsistent(r);
  });

  it('zstd without compression workers is refused with a clear config error', () => {
    expect(() => createEngine({ pipeline: 'inline', codec: 'zstd' })).toThrow(/^config\.codec: zstd .*--pipeline kcompressd/);
    expect(() => createEngine({ pipeline: 'padata:0x' })).toThrow(/^config\.pipeline: pipeline must be inline, kcompressd/);
  });
});
