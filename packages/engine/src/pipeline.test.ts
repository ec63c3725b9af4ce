import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CODECS, createEngine, resolveConfig, RunResultSchema, settleHeap, type Engine, type RunResult } from './internal.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

async function run(config: Parameters<typeof createEngine>[0], opts?: Parameters<Engine['run']>[0]): Promise<RunResult> {
  const engine = newEngine(config);
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
  if (r.pipeline.workers === 0) return;
  expect(r.pipeline.compressors).toHaveLength(r.pipeline.workers);
  const byWorkers = r.pipeline.compressors.reduce((s, w) => s + w.pages, 0);
  const rejected = r.pipeline.compressors.reduce((s, w) => s + w.rejected, 0);
  if (r.pipeline.crashes === 0) {
    // Every index kswapd pushed was popped exactly once: stored or returned by a worker.
    expect(byWorkers + rejected).toBe(c.kcompressd_enqueued);
    // kswapd's own stores are the ring-full fallbacks (and nothing else).
    expect(c.pgsteal_kswapd - byWorkers).toBeLessThanOrEqual(c.kcompressd_fifo_full);
    return;
  }
  // A worker died: its statistics died with it, the shared counters did not. With kswapd
  // waiting for room (it stores nothing itself) and no page rejected, every index pushed was
  // popped exactly once if and only if it was stored once (pgsteal_kswapd, which recovery
  // completes for the dead worker's last batch) or returned RESIDENT by recovery.
  expect(r.config.kswapd.onFull, 'a crash run checks exactly-once with kswapd.onFull wait').toBe('wait');
  expect(c.reject_compress_fail + c.reject_alloc_fail + c.reject_compress_poor + rejected).toBe(0);
  expect(c.pgsteal_kswapd + r.pipeline.pages_returned).toBe(c.kcompressd_enqueued);
}

const small = { pages: 1024, ram: '60%', duration: 0.6, seed: 3 } as const;

const PIPELINES = ['inline', 'kcompressd', 'padata:2', 'batch:8', 'padata:2+batch:32'] as const;
/** Every pipeline with every codec it can run (zstd needs compression workers), once each. */
const CASES = PIPELINES.flatMap((pipeline) => CODECS.filter((codec) => pipeline !== 'inline' || codec !== 'zstd').map((codec) => ({ pipeline, codec })));
/**
 * Maps, writes and reads back all its pages, however long that takes (not a duration), and
 * leaves reclaim to kswapd (so to the pipeline), whatever the host's speed.
 */
const PACED = fileURLToPath(new URL('../dist/testing/paced-writer-workload.js', import.meta.url));

describe('every pipeline with every codec', () => {
  it('has every case: 5 pipelines × 3 codecs, less inline with zstd', () => {
    expect(CASES).toHaveLength(14);
    expect(CASES.filter((k) => k.codec === 'lz4-native').map((k) => k.pipeline)).toEqual([...PIPELINES]);
  });

  CASES.forEach(({ pipeline, codec }, i) => {
    // One or two applications, alternately, and a seed of its own each.
    const apps = 1 + (i % 2);
    it(`${pipeline} × ${codec} (${apps} app${apps > 1 ? 's' : ''}) loses nothing, pops every index once and keeps the counters in step`, async () => {
      // RAM below one application's share: kswapd must store pages even if the other
      // application has finished before this one starts (at 60 % a late second one found room
      // for all its pages), and every page is read back (faulted in) and checked.
      const config = { pages: 1024, ram: '40%', apps, seed: 11 + i, duration: 300, pipeline, codec } as const;
      const low = resolveConfig(config).wmark.low;
      const r = await run({ ...config, workload: { kind: 'module', module: PACED, params: { low } } });
      expect(r.pipeline.name).toBe(pipeline);
      expect(r.pipeline.codec).toBe(codec);
      expect(r.counters.pgsteal_kswapd).toBeGreaterThan(0);
      expect(r.counters.pgsteal_direct).toBe(0);
      expect(r.counters.pswpin).toBeGreaterThan(0);
      expect(r.checks.verified).toBe(1024);
      if (pipeline !== 'inline') expect(r.counters.kcompressd_enqueued).toBeGreaterThan(0);
      expectConsistent(r);
    });
  });
});

describe('reclaim pipelines', () => {
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
    // A request holds what the ring had, at most the batch: how many depends on timing.
    const popped = r.pipeline.compressors[0].pages + rejected;
    expect(r.counters.batch_count).toBeGreaterThanOrEqual(Math.ceil(popped / 8));
    expect(r.counters.batch_count).toBeLessThanOrEqual(popped);
    expectConsistent(r);
  });

  it('a worker with the async codec keeps answering control calls while it waits for work', async () => {
    // RAM large enough that kswapd never wakes: the worker only ever waits on its ring. The
    // run lasts until the worker has answered four times, the last after it had waited (a
    // worker that stopped answering would time the test out).
    const seen: number[] = [];
    const ac = new AbortController();
    const r = await run(
      { pages: 1024, ram: '60%', apps: 1, duration: 3600, pipeline: 'kcompressd', codec: 'zstd', workload: { kind: 'module', module: fileURLToPath(new URL('../dist/testing/idle-workload.js', import.meta.url)), params: {} } },
      {
        signal: ac.signal,
        progressIntervalMs: 100,
        onProgress: (p) => {
          if (p.compressors.length === 1) seen.push(p.compressors[0].idleWaits);
          if (seen.length >= 4 && seen[seen.length - 1] > 0) ac.abort();
        },
      },
    );
    expect(r.ended).toBe('aborted');
    expect(r.counters.kcompressd_enqueued).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen[seen.length - 1]).toBeGreaterThan(0);
  });

  it('a compression worker that dies mid-batch: its pages go back or stay stored intact, it is replaced, the run goes on and says so', async () => {
    // The worker dies on its 36th page, stored but not yet published. Its batch held what the
    // ring had (at most 8): the pages before it in the batch are published, those after it not
    // yet stored (how many of each depends on timing; recover.test.ts settles a batch of
    // every kind). Recovery keeps the stored ones and returns the others.
    const r = await run({ ...small, apps: 1, duration: 1, pipeline: 'batch:8', kswapd: { onFull: 'wait' }, inject: { compressFailPage: -1, compressorExitAfter: 36 } });
    expect(r.pipeline.crashes).toBe(1);
    expect(r.pipeline.pages_kept).toBeGreaterThanOrEqual(1);
    expect(r.pipeline.pages_kept + r.pipeline.pages_returned).toBeLessThanOrEqual(8);
    // The replacement kept compressing after the crash.
    expect(r.pipeline.compressors[0].pages).toBeGreaterThan(0);
    expectConsistent(r);
  });

  it('a compression worker that dies while busy: the counts it had not yet folded are counted once, no more', async () => {
    // 50 µs of injected work a page keeps the worker behind kswapd, so it never idles and folds
    // its counter diffs only every VMSTAT_FOLD_MS (~40 pages): when it dies at page 100, the
    // pages stored since its last fold are counted only in its diff block (8–16 pages here).
    // Recovery folds the block; the replacement, which takes over the same block, must not
    // fold them again (a recovery that left them there fails this test).
    const r = await run({ ...small, apps: 1, duration: 0.6, pipeline: 'batch:8', kswapd: { onFull: 'wait' }, inject: { compressFailPage: -1, compressorExitAfter: 100, compressSpinNs: 50_000 } });
    expect(r.pipeline.crashes).toBe(1);
    expectConsistent(r);
  });

  it('a pure drain reclaims through the workers, and closing the engine during one ends it promptly', async () => {
    const engine = newEngine({ pages: 2048, pipeline: 'padata:2+batch:8', poison: false });
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
    await slow.close();
    // Stopped by close(), not finished: a close() that waited for the drain would get its result.
    expect(String(await outcome)).toMatch(/engine was closed/);
  });

  it('drain after drain through the workers, memory stays flat: no run keeps its arena and pool allocated after it', async () => {
    const pages = 8192; // 32 MiB of arena and up to 32 MiB of pool a drain
    const engine = newEngine({ pages, pipeline: 'kcompressd', poison: false });
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
