import { CounterSet, Inflight } from '@zreclaim/shm';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { recoverInflight } from './compressor.js';
import { createSharedMm, Mm } from './mm.js';
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
});
