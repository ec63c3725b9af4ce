import { CounterSet, Inflight, InflightMark, PageState, STATE_MASK } from '@zreclaim/shm';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { recoverInflight } from './compressor.js';
import { createSharedMm, Mm } from './mm.js';
import { createStore } from './store.js';
import { mapAllPages } from './testing/mapped.js';
import { VMSTAT } from './vmstat.js';

describe('recovering a dead compression worker', () => {
  it('folds the counts it had not published (its diff block) into the shared counters', () => {
    const shared = createSharedMm(resolveConfig({ pages: 64, poison: false }));
    const mm = new Mm(shared);
    // The dead worker's view: it counted through its diff block and never folded.
    const diffs = new SharedArrayBuffer(CounterSet.diffBytes(VMSTAT.length));
    const dead = new Mm(shared, { vmDiffs: diffs });
    dead.vm.add(dead.ev.pswpout, 24);
    dead.vm.add(dead.ev.pgsteal_kswapd, 24);
    dead.vm.add(dead.ev.compr_data_size, 24 * 1800);
    dead.vm.inc(dead.ev.batch_count);
    expect(mm.vm.read('pswpout')).toBe(0);
    // No batch in flight: only the diffs are left to settle.
    const r = recoverInflight(mm, new Inflight(8), diffs);
    expect(r).toEqual({ returned: 0, kept: 0 });
    const c = mm.vm.snapshot();
    expect([c.pswpout, c.pgsteal_kswapd, c.compr_data_size, c.batch_count]).toEqual([24, 24, 24 * 1800, 1]);
  });

  it('settles a batch the worker died in, page by page: not yet stored back to RESIDENT, stored ones published and counted once', () => {
    // The end-to-end crash (pipeline.test.ts) lands wherever timing puts it in its batch;
    // here one batch holds a page at every stage a worker can leave it in.
    const c = resolveConfig({ pages: 64, ram: '90%', poison: false });
    const mm = new Mm(createSharedMm(c));
    mapAllPages(mm, c.content, 5);
    const store = createStore(mm, c);
    const at = [InflightMark.ISOLATED, InflightMark.STORED, InflightMark.STORED_SAME, InflightMark.PUBLISHED, InflightMark.PUBLISHED_SAME, InflightMark.RETURNED] as const;
    const pages = Int32Array.from(at, (_, i) => 10 + i);
    for (const p of pages) mm.pt.cas(p, mm.pt.load(p), PageState.ISOLATED);
    const inflight = new Inflight(8);
    inflight.begin(pages, pages.length);
    const bytes = new Uint8Array(1000).fill(7);
    // What the dead worker did to each before it died: its stores added the pages to the
    // mm_stat gauges at once; its event counters (pswpout, pgsteal) never left its thread.
    const [, stored, storedSame, published, publishedSame, returned] = pages;
    store.storeCompressed(stored, bytes, 1000, store.codec.id, false);
    store.storeSameFilled(storedSame, 3, 3);
    store.storeCompressed(published, bytes, 1000, store.codec.id, false);
    mm.pt.release(published, PageState.SWAPPED);
    store.storeSameFilled(publishedSame, 4, 4);
    mm.pt.release(publishedSame, PageState.SAME_FILLED);
    mm.pt.release(returned, PageState.RESIDENT, true);
    at.forEach((m, i) => inflight.mark(i, m));

    const r = recoverInflight(mm, inflight, new SharedArrayBuffer(CounterSet.diffBytes(VMSTAT.length)));
    expect(r).toEqual({ returned: 1, kept: 4 });
    const state = (p: number) => mm.pt.load(p) & STATE_MASK;
    expect([...pages].map(state)).toEqual([PageState.RESIDENT, PageState.SWAPPED, PageState.SAME_FILLED, PageState.SWAPPED, PageState.SAME_FILLED, PageState.RESIDENT]);
    const v = mm.vm.snapshot();
    expect([v.pswpout, v.pgsteal_kswapd, v.pgsteal_anon, v.same_pages, v.compr_data_size]).toEqual([4, 4, 4, 2, 2000]);
    expect(mm.zone.nrResident).toBe(64 - 4);
    expect(inflight.count).toBe(0);
    expect(inflight.done).toBe(6);
  });
});
