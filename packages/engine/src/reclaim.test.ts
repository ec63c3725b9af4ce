// Inline reclaim stores the pages of one scan run as a batch (Reclaimer.storeRun,
// ZramStore.compressBatch/storeBatched): each page keeps its own outcome and its own
// compress latency.
import { describe, expect, it } from 'vitest';
import { PageState, STATE_MASK } from '@zreclaim/shm';
import { pageChecksum } from '@zreclaim/workloads';
import { createCodec, type SyncCodec } from './codec.js';
import { resolveConfig } from './config.js';
import { createSharedMm, Mm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { ZramStore } from './store.js';
import { mapAllPages } from './testing/mapped.js';

const PS = 4096;

describe('inline reclaim in batches', () => {
  it('a page whose compression fails goes back to RESIDENT intact alone; the rest of its batch is stored, one compress record each', () => {
    const pages = 256;
    const c = resolveConfig({ pages, ram: '90%', content: { kind: 'mix', ratio: 2.3, same: 0.1, zero: 0 }, poison: true });
    const mm = new Mm(createSharedMm(c));
    const sums = mapAllPages(mm, c.content, 9);
    // The failing page: one the codec sees (not same-filled), in the first batch.
    let fail = 5;
    while (mm.arena.sameFilled(fail, new Int32Array(2))) fail++;
    const lz4 = createCodec('lz4', PS);
    const failing: SyncCodec = {
      name: lz4.name,
      id: lz4.id,
      sync: true,
      compress: (s, off, len, dst) => lz4.compress(s, off, len, dst),
      compressOwned: (s, off, len) => {
        if (off === fail * PS) throw new Error('injected');
        return lz4.compressOwned!(s, off, len);
      },
      decompress: (...a) => lz4.decompress(...a),
    };
    const store = new ZramStore(mm, failing, () => lz4, { hugeThreshold: 0.75, poison: true });
    const freed = new Reclaimer(mm, store).shrink(64, true);

    const v = mm.vm.snapshot();
    expect(v.reject_compress_fail).toBe(1);
    expect(mm.pt.load(fail) & STATE_MASK).toBe(PageState.RESIDENT);
    expect(pageChecksum(mm.arena.words, mm.arena.offset(fail) >> 2, PS >> 2)).toBe(sums[fail]);
    // Two runs of 32 pages, one page put back: the hand went on to a third run for the 64th.
    expect(freed).toBe(64);
    expect(v.pgsteal_kswapd).toBe(64);
    expect(v.pswpout).toBe(64);
    expect(v.same_pages).toBeGreaterThan(0);
    // Every page compressed has its own latency; same-filled pages are not compressed.
    expect(mm.lat.get('compress').count).toBe(64 - v.same_pages);
    // The stored pages come back intact (the arena was poisoned when each was stored).
    let back = 0;
    for (let p = 0; p < pages; p++) {
      const w = mm.pt.load(p);
      const st = w & STATE_MASK;
      if (st !== PageState.SWAPPED && st !== PageState.SAME_FILLED) continue;
      expect(mm.pt.cas(p, w, PageState.LOCKED)).toBe(true);
      store.swapIn(p, st === PageState.SAME_FILLED);
      expect(pageChecksum(mm.arena.words, mm.arena.offset(p) >> 2, PS >> 2)).toBe(sums[p]);
      mm.pt.release(p, PageState.RESIDENT, false);
      back++;
    }
    expect(back).toBe(64);
  });
});
