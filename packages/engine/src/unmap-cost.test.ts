// The unmap-cost model knob (config.unmapCostNs): busy work per reclaimed page on the
// reclaiming thread — kswapd or a direct reclaimer — and never on a compression worker.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './internal.js';
import { runUntil, UNTIL_STOPPED } from './testing/run-until.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

const COST = 100_000; // ns
// Histogram buckets are log-linear: a bucket's lower bound is within 1/32 of the values in it.
const AT_LEAST = COST * (1 - 1 / 32);
// spinFor spins for at least its time by the clock, so a latency record that includes the
// spin is at least COST however loaded the host is. Whether a histogram includes it is then
// read from its fastest record: at least AT_LEAST if every record included the spin, below it
// if one did not (one of hundreds of compressions being that fast needs no particular speed).
const small = { pages: 1024, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false } as const;

describe('unmapCostNs', () => {
  it('is 0 by default and refuses what is not a whole number of ns up to 1 ms', () => {
    expect(resolveConfig({}).unmapCostNs).toBe(0);
    expect(() => resolveConfig({ unmapCostNs: -1 })).toThrow(/unmapCostNs must be ≥ 0/);
    expect(() => resolveConfig({ unmapCostNs: 1.5 })).toThrow(/whole number of nanoseconds/);
    expect(() => resolveConfig({ unmapCostNs: 2_000_000 })).toThrow(/≤ 1000000/);
  });

  it('costs inline kswapd that much per page reclaimed, outside the compression it times', async () => {
    const engine = newEngine({ ...small, unmapCostNs: COST });
    const d = await engine.drain();
    expect(d.pages).toBeGreaterThan(500);
    expect(d.kswapdBusyMs).toBeGreaterThanOrEqual((d.pages * COST) / 1e6);
    // The spin is not inside the codec's timing: not every compress record includes it.
    expect(d.latency.compress.count).toBeGreaterThan(500);
    expect(d.latency.compress.min).toBeLessThan(AT_LEAST);
  });

  it('the same spin inside the codec\'s timing (inject.compressSpinNs) shows in every compress record: the check above can fail', async () => {
    const engine = newEngine({ ...small, inject: { compressSpinNs: COST } });
    const d = await engine.drain();
    expect(d.latency.compress.count).toBeGreaterThan(500);
    expect(d.latency.compress.min).toBeGreaterThanOrEqual(AT_LEAST);
  });

  it('stays with kswapd when a compression worker takes the compression', async () => {
    const engine = newEngine({ ...small, pipeline: 'kcompressd', kswapd: { onFull: 'wait' }, unmapCostNs: COST });
    const d = await engine.drain();
    expect(d.counters.kcompressd_enqueued).toBeGreaterThan(500);
    expect(d.kswapdBusyMs).toBeGreaterThanOrEqual((d.counters.kcompressd_enqueued * COST) / 1e6);
    expect(d.latency.compress.count).toBeGreaterThan(500);
    expect(d.latency.compress.min).toBeLessThan(AT_LEAST);
  });

  it('costs a direct reclaimer too: every allocation stall includes at least one page of it', async () => {
    // Until the application has stalled a few times (a fixed duration does less on a loaded host).
    const engine = newEngine({ pages: 1024, ram: '50%', apps: 1, duration: UNTIL_STOPPED, kswapd: { enabled: false }, unmapCostNs: COST });
    const r = await runUntil(engine, (p) => p.allocstall > 4);
    expect(r.counters.pgsteal_direct).toBeGreaterThan(0);
    expect(r.latency.alloc_stall.count).toBeGreaterThan(0);
    expect(r.latency.alloc_stall.min).toBeGreaterThanOrEqual(AT_LEAST);
    expect(r.checks.counters_add_up).toBe(true);
  });
});
