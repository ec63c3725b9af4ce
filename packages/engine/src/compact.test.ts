import { describe, expect, it } from 'vitest';
import { runUntil, UNTIL_STOPPED } from './testing/run-until.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

describe('pool compaction (kswapd, zsmalloc shrinker)', () => {
  for (const mode of ['zram', 'zswap'] as const) {
    it(`moves objects under faults from 2 applications without losing or corrupting a page (${mode})`, async () => {
      const engine = newEngine({
        pages: 4096,
        ram: '45%',
        apps: 2,
        // Until enough faults have churned the pool (a fixed duration does less on a loaded host).
        duration: UNTIL_STOPPED,
        seed: 3,
        store: { mode, maxPoolPercent: 40 },
        // Heavy churn: many faults free objects all over the pool.
        workload: { kind: 'usemem', hot: 0.3, hotAccess: 0.6, writeFraction: 0.3, unmap: false },
      });
      const r = await runUntil(engine, (p) => p.pswpin > 1000 && p.apps.reduce((s, a) => s + a.reads, 0) > 1500);
      expect(r.checks.problems).toEqual([]);
      expect(r.checks.mismatches).toBe(0);
      expect(r.checks.verified).toBeGreaterThan(1000);
      expect(r.counters.pages_compacted).toBeGreaterThan(0);
      expect(r.mm_stat.mem_used_total).toBeGreaterThanOrEqual(r.mm_stat.compr_data_size);
    });
  }

  it('store.compact false never compacts', async () => {
    const engine = newEngine({ pages: 2048, ram: '45%', apps: 1, duration: 0.8, seed: 3, store: { compact: false } });
    const r = await engine.run();
    expect(r.checks.problems).toEqual([]);
    expect(r.counters.pages_compacted).toBe(0);
  });
});
