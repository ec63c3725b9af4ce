// zram's mm_stat gauges (orig_data_size, compr_data_size, same_pages, huge_pages) are
// atomics updated at once in the kernel: a reader never sees a page's free before its
// store. Here a page is often stored by one thread and freed by another (a compression
// worker or kswapd stores it, the application faults it in or unmaps it), so the store's
// gauge updates must be published before the page is, never left in the storing thread's
// per-slice counts or its diff block until a later flush or fold.
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CounterSet, Inflight, InflightMark, PageState, STATE_MASK } from '@zreclaim/shm';
import { recoverInflight } from './compressor.js';
import { resolveConfig, type Config } from './config.js';
import type { RunResult } from './internal.js';
import { createSharedMm, Mm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { createStore, onDisk, slotBytes, StoreResult, type ZramStore } from './store.js';
import { trackEngines } from './testing/engines.js';
import { mapAllPages } from './testing/mapped.js';
import { VMSTAT } from './vmstat.js';

const PS = 4096;
type Gauges = Record<'orig_data_size' | 'compr_data_size' | 'same_pages' | 'huge_pages', number>;

/** What the gauges must say: the pages the page table shows stored, and their slots' bytes. */
function fromPageTable(mm: Mm): Gauges {
  const g: Gauges = { orig_data_size: 0, compr_data_size: 0, same_pages: 0, huge_pages: 0 };
  for (let p = 0; p < mm.pages; p++) {
    const st = mm.pt.load(p) & STATE_MASK;
    if (st === PageState.SAME_FILLED) {
      g.same_pages++;
      g.orig_data_size += PS;
    } else if (st === PageState.SWAPPED && !onDisk(mm.slots.length[p])) {
      const len = slotBytes(mm.slots.length[p]);
      g.orig_data_size += PS;
      g.compr_data_size += len;
      if (len === PS) g.huge_pages++;
    }
  }
  return g;
}

/** The shared gauges, as the sampler and the result read them. */
function gauges(mm: Mm): Gauges {
  const s = mm.vm.snapshot();
  return { orig_data_size: s.orig_data_size, compr_data_size: s.compr_data_size, same_pages: s.same_pages, huge_pages: s.huge_pages };
}

/**
 * 256 pages mapped and written: compressible, same-filled, and every 7th incompressible
 * (a huge page). Returns the config, the shared memory and the main thread's view.
 */
function setup(): { c: Config; mm: Mm } {
  const c = resolveConfig({ pages: 256, ram: '90%', content: { kind: 'mix', ratio: 2.3, same: 0.2, zero: 0 }, poison: true });
  const mm = new Mm(createSharedMm(c));
  mapAllPages(mm, c.content, 7);
  for (let p = 0; p < mm.pages; p += 7) randomFillSync(mm.arena.bytes, mm.arena.offset(p), PS);
  return { c, mm };
}

/** A compression worker's attachment: its own Mm counting through a diff block, its store and reclaimer. */
function workerView(c: Config, mm: Mm) {
  const diffs = new SharedArrayBuffer(CounterSet.diffBytes(VMSTAT.length));
  const wm = new Mm(mm.shared, { vmDiffs: diffs });
  const store = createStore(wm, c);
  return { wm, diffs, store, reclaimer: new Reclaimer(wm, store) };
}

/** The application faults page p in (do_swap_page) if it is stored; true if it did. */
function faultIn(mm: Mm, app: ZramStore, p: number): boolean {
  const w = mm.pt.load(p);
  const st = w & STATE_MASK;
  if (st !== PageState.SWAPPED && st !== PageState.SAME_FILLED) return false;
  expect(mm.pt.cas(p, w, PageState.LOCKED)).toBe(true);
  mm.zone.addResident(1);
  app.swapIn(p, st === PageState.SAME_FILLED);
  mm.pt.release(p, PageState.RESIDENT, true);
  return true;
}

/** The application unmaps stored page p (zap_pte_range: the slot is freed). */
function unmap(mm: Mm, app: ZramStore, p: number): void {
  const w = mm.pt.load(p);
  const st = w & STATE_MASK;
  expect(mm.pt.cas(p, w, PageState.UNMAPPED)).toBe(true);
  app.freeSlot(p, st === PageState.SAME_FILLED);
}

describe('mm_stat gauges', () => {
  it('a page a compression worker stored is in the gauges when it is published, before the worker flushes or folds; the application freeing it at once never takes a gauge below 0', () => {
    const { c, mm } = setup();
    const app = createStore(mm, c);
    const w = workerView(c, mm);
    let low = Infinity;
    for (let p = 0; p < mm.pages; p++) {
      // The worker's request of one page: stored and published, its counters not flushed
      // (flush() ends a batch, every 16 pages here) and never folded until the end.
      expect(mm.pt.cas(p, mm.pt.load(p), PageState.ISOLATED)).toBe(true);
      const same = w.store.trySameFilled(p);
      if (!same) {
        const len = w.store.codec.compress!(mm.arenaBuf, mm.arena.offset(p), PS, w.store.scratch);
        w.store.storeCompressed(p, w.store.scratchBytes, len, w.store.codec.id);
      }
      mm.pt.release(p, same ? PageState.SAME_FILLED : PageState.SWAPPED);
      w.reclaimer.countFreed(true);
      if (p % 16 === 15) w.reclaimer.flush();
      expect(gauges(mm)).toEqual(fromPageTable(mm));
      // The application takes the page back at once: by a fault, or by unmapping it.
      if (p % 3 === 2) unmap(mm, app, p);
      else expect(faultIn(mm, app, p)).toBe(true);
      for (const v of Object.values(gauges(mm))) low = Math.min(low, v);
      expect(gauges(mm)).toEqual(fromPageTable(mm));
    }
    expect(low).toBe(0);
    w.reclaimer.flush();
    w.wm.vm.fold();
    const v = mm.vm.snapshot();
    expect(v.pswpout).toBe(mm.pages);
    expect(v.pgsteal_kswapd).toBe(mm.pages);
    expect(v.notify_free).toBe(mm.pages);
    expect(gauges(mm)).toEqual({ orig_data_size: 0, compr_data_size: 0, same_pages: 0, huge_pages: 0 });
    expect(mm.pool.objectsLive).toBe(0);
  });

  it('every kind of page (compressed, same-filled, huge) is in the gauges before any flush or fold; only pswpout waits for the flush', () => {
    const { c, mm } = setup();
    const w = workerView(c, mm);
    let same = 0;
    let huge = 0;
    for (let p = 0; p < mm.pages; p++) {
      mm.pt.cas(p, mm.pt.load(p), PageState.ISOLATED);
      const r = w.store.swapOut(p);
      mm.pt.release(p, r === StoreResult.SAME_FILLED ? PageState.SAME_FILLED : PageState.SWAPPED);
      if (r === StoreResult.SAME_FILLED) same++;
      else if (slotBytes(mm.slots.length[p]) === PS) huge++;
    }
    expect(same).toBeGreaterThan(0);
    expect(huge).toBeGreaterThan(0);
    expect(same + huge).toBeLessThan(mm.pages);
    // Nothing flushed or folded: the gauges are already complete; pswpout (an event) is not.
    expect(gauges(mm)).toEqual(fromPageTable(mm));
    expect(gauges(mm).same_pages).toBe(same);
    expect(gauges(mm).huge_pages).toBe(huge);
    expect(mm.vm.read('pswpout')).toBe(0);
    w.store.flushStats();
    w.wm.vm.fold();
    expect(mm.vm.read('pswpout')).toBe(mm.pages);
    expect(gauges(mm)).toEqual(fromPageTable(mm));
  });

  it("an application faulting in each page inline kswapd publishes, before kswapd's slice ends, never takes a gauge below 0", () => {
    const { c, mm } = setup();
    const app = createStore(mm, c);
    let low = Infinity;
    let faults = 0;
    let behind = 0;
    // kswapd on the main thread; the application faults in every page the moment it is
    // published (countFreed follows each publish), before shrink() flushes the slice.
    class RacedReclaimer extends Reclaimer {
      override countFreed(kswapd: boolean): void {
        super.countFreed(kswapd);
        if (JSON.stringify(gauges(mm)) !== JSON.stringify(fromPageTable(mm))) behind++;
        for (let p = 0; p < mm.pages; p++) if (faultIn(mm, app, p)) faults++;
        for (const v of Object.values(gauges(mm))) low = Math.min(low, v);
      }
    }
    const kswapdStore = createStore(mm, c);
    const freed = new RacedReclaimer(mm, kswapdStore).shrink(64, true);
    expect(freed).toBe(64);
    expect(faults).toBe(64);
    expect(behind).toBe(0);
    expect(low).toBe(0);
    const v = mm.vm.snapshot();
    expect(v.pswpout).toBe(64);
    expect(v.notify_free).toBe(64);
    expect(gauges(mm)).toEqual({ orig_data_size: 0, compr_data_size: 0, same_pages: 0, huge_pages: 0 });
  });

  it('a worker that died after storing, before its flush or fold, has its pages in the gauges once, even those the application freed before recovery ran', () => {
    const { c, mm } = setup();
    const app = createStore(mm, c);
    const w = workerView(c, mm);
    const inflight = new Inflight(8);
    const batch = Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17]);
    for (const p of batch) mm.pt.cas(p, mm.pt.load(p), PageState.ISOLATED);
    inflight.begin(batch, 8);
    // Pages 0–3 stored and published, 4–5 stored and not published, 6–7 not stored.
    for (let i = 0; i < 6; i++) {
      const p = batch[i];
      const same = w.store.swapOut(p) === StoreResult.SAME_FILLED;
      inflight.mark(i, same ? InflightMark.STORED_SAME : InflightMark.STORED);
      if (i < 4) {
        mm.pt.release(p, same ? PageState.SAME_FILLED : PageState.SWAPPED);
        inflight.mark(i, same ? InflightMark.PUBLISHED_SAME : InflightMark.PUBLISHED);
      }
      w.reclaimer.countFreed(true);
    }
    // The worker dies here, its store's pending counts with it. Before the main thread
    // recovers it, the application faults in one published page and unmaps another: their
    // slots are cleared, and their frees subtracted what the dead worker's store had added.
    expect(faultIn(mm, app, batch[0])).toBe(true);
    unmap(mm, app, batch[1]);
    const r = recoverInflight(mm, inflight, w.diffs);
    expect(r).toEqual({ returned: 2, kept: 6 });
    const v = mm.vm.snapshot();
    expect(v.pswpout).toBe(6);
    expect(v.pgsteal_kswapd).toBe(6);
    expect(v.notify_free).toBe(2);
    expect(gauges(mm)).toEqual(fromPageTable(mm));
    expect(gauges(mm).orig_data_size).toBe(4 * PS);
    expect(mm.pool.objectsLive).toBe(4 - gauges(mm).same_pages);
  });
});

describe('mm_stat gauges in runs', () => {
  const newEngine = trackEngines();

  /**
   * No sample of the run saw a gauge below 0, and the end-of-run checks hold. Free memory
   * overshooting the RAM budget is left out: on a host whose cores are taken, the workers
   * can fall behind the applications' allocations far enough for that check to fire,
   * whatever the counters do (it is not what these tests are about).
   */
  function expectNeverNegative(r: RunResult): void {
    expect(r.checks.problems.filter((p) => !p.startsWith('RAM budget overcommitted'))).toEqual([]);
    for (const name of ['orig_data_size', 'compr_data_size'] as const) {
      expect(Math.min(...r.timeseries[name])).toBeGreaterThanOrEqual(0);
      expect(r.mm_stat[name]).toBeGreaterThanOrEqual(0);
    }
  }

  it('a zstd worker that dies mid-batch with same-filled pages after it: pages it had not published go back unstored and uncounted', async () => {
    // Half the pages same-filled: the async path finds them before its compressions come
    // back; it must not store them (slot, gauges) until it publishes them, or the pages
    // recovery returns to RESIDENT stay counted as stored.
    const e = newEngine({ pages: 1024, ram: '60%', apps: 1, duration: 1, seed: 3, pipeline: 'batch:8', codec: 'zstd', content: { kind: 'mix', ratio: 2.3, same: 0.5, zero: 0 }, inject: { compressFailPage: -1, compressorExitAfter: 36 } });
    const r = await e.run();
    expect(r.pipeline.crashes).toBe(1);
    expect(r.pipeline.pages_returned).toBeGreaterThan(0);
    expect(r.checks.mismatches).toBe(0);
    expectNeverNegative(r);
  });

  const kcompressd = { pages: 1024, ram: '60%', apps: 2, duration: 0.4, pipeline: 'kcompressd', workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.6, writeFraction: 0.2, unmap: true, exit: 'kill' } } as const;
  for (const [what, config] of [
    ['zstd', { ...kcompressd, seed: 9, codec: 'zstd' }],
    ['zswap, the worker writing back', { ...kcompressd, seed: 2, store: { mode: 'zswap', maxPoolPercent: 10 } }],
  ] as const) {
    it(`kcompressd (${what}): applications faulting in, unmapping and killing what the worker stores never see a gauge below 0`, async () => {
      // The configurations whose samples went below 0 most often before the gauges were
      // published at store time (with both cores taken: 5 and 7 runs of 25, down to
      // orig_data_size −126976); on an idle host it is rarer. The unit tests above are the
      // deterministic check; this one holds the invariant end to end.
      const e = newEngine(config);
      const r = await e.run();
      // Filling more pages than RAM holds makes kswapd hand pages to the worker, however slow the host.
      expect(r.counters.kcompressd_enqueued).toBeGreaterThan(0);
      expect(r.counters.notify_free).toBe(r.counters.pswpout);
      expectNeverNegative(r);
    });
  }
});
