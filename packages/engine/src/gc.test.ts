import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type InternalRunOptions, type RunResult, RunResultSchema } from './internal.js';
import { runUntil, UNTIL_STOPPED } from './testing/run-until.js';
import { trackEngines } from './testing/engines.js';

const engine = trackEngines();

const mod = (name: string) => fileURLToPath(new URL(`../dist/testing/${name}.js`, import.meta.url));

/** Every application has unmapped everything and the GC worker has drained: nothing is left stored. */
function expectStoreEmpty(r: RunResult): void {
  const c = r.counters;
  expect(r.checks.problems).toEqual([]);
  expect(r.checks.mismatches).toBe(0);
  expect(r.checks.stored_pages).toBe(0);
  expect(c.pswpout - c.notify_free).toBe(0);
  expect(c.orig_data_size).toBe(0);
  expect(c.compr_data_size).toBe(0);
  expect(c.same_pages).toBe(0);
  expect(c.huge_pages).toBe(0);
  expect(c.gc_bytes_pending).toBe(0);
  expect(c.gc_slots_freed).toBe(c.gc_slots_queued);
  expect(r.checks.pool).toEqual({ pages_used: 0, objects: 0, audit: 'ok' });
  expect(r.gc?.slots_freed).toBe(c.gc_slots_queued);
}

// Small arenas and short runs: this machine has 2 cores. Runs whose checks need some work
// done run until it is (runUntil), not for a duration a loaded host may not fill.
const small = { pages: 2048, ram: '60%', apps: 2, duration: 0.8, seed: 5 } as const;

describe('the zram GC worker', () => {
  for (const exit of ['unmap', 'kill'] as const) {
    it(`frees every queued slot: after each application's exit (${exit}) the store is empty`, async () => {
      const e = engine({ ...small, duration: UNTIL_STOPPED, gc: { mode: 'async' }, workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.5, writeFraction: 0.2, unmap: true, exit } });
      const r = await runUntil(e, (p) => p.pswpin > 100);
      expect(RunResultSchema.safeParse(r).success).toBe(true);
      expect(r.counters.pswpin).toBeGreaterThan(0);
      // Swap-ins and the exit queued slots, and the GC worker freed them in bulk.
      expect(r.counters.gc_slots_queued).toBeGreaterThan(0);
      expect(r.gc?.mode).toBe('async');
      expect(r.gc?.bulk_frees).toBeGreaterThan(0);
      expect(r.gc?.bulk_frees).toBe(r.latency.gc_free.count);
      expectStoreEmpty(r);
      // One unmap sample per kill, one per page with a page-by-page exit.
      if (exit === 'kill') expect(r.latency.unmap.count).toBe(small.apps);
      else expect(r.latency.unmap.count).toBe(r.apps.reduce((s, a) => s + a.unmaps, 0));
      expect(r.apps.every((a) => a.unmaps === a.maps)).toBe(true);
    });
  }

  it('with gc: sync nothing is queued, and a kill still empties the store', async () => {
    const r = await engine({ ...small, workload: { kind: 'usemem', unmap: true, exit: 'kill' } }).run();
    expect(r.gc).toMatchObject({ mode: 'sync', cap_bytes: 0, slots_queued: 0, bulk_frees: 0 });
    expect(r.latency.gc_free.count).toBe(0);
    expectStoreEmpty(r);
  });

  it('no slot is lost or freed twice when unmaps, faults, pageouts, reclaim and the GC worker race (2 apps, small RAM)', async () => {
    for (const exit of ['kill', 'unmap']) {
      // A fixed number of operations; the duration is only an upper bound a busy host never reaches.
      const r = await engine({ pages: 2048, ram: '60%', apps: 2, duration: 300, seed: 11, gc: { mode: 'async' }, workload: { kind: 'module', module: mod('churn-workload'), params: { exit } } }).run();
      expect(r.counters.pswpin).toBeGreaterThan(500);
      expect(r.counters.pgsteal_direct).toBeGreaterThan(0);
      expect(r.checks.verified).toBeGreaterThan(1000);
      expectStoreEmpty(r);
      // Every stored page left the store exactly once: by a fault or by an unmap.
      expect(r.counters.notify_free).toBe(r.counters.pswpout);
    }
  });

  it('honours the byte cap: pending frees never exceed it, and frees past it fall back to the unmapping thread', async () => {
    const capBytes = 16 * 1024;
    const r = await engine({
      ...small,
      // No same-filled pages: every slot freed is a pool object (notify_free counts them all).
      content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 },
      gc: { mode: 'async', capBytes },
      workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.5, writeFraction: 0.2, unmap: true, exit: 'kill' },
    }).run();
    expectStoreEmpty(r);
    const gc = r.gc!;
    expect(gc.cap_bytes).toBe(capBytes);
    // The queue's bytes, seen by the GC worker before every pop, stay within the cap...
    expect(gc.peak_queued_bytes).toBeGreaterThan(0);
    expect(gc.peak_queued_bytes).toBeLessThanOrEqual(capBytes);
    // ...and gc_bytes_pending (queued + the batch being freed, which came from the queue) within two.
    expect(gc.peak_pending_bytes).toBeLessThanOrEqual(2 * capBytes);
    for (const p of r.timeseries.gc_bytes_pending ?? []) expect(p).toBeLessThanOrEqual(2 * capBytes);
    // Some frees were queued, and some found the queue at its cap and were done synchronously.
    expect(r.counters.gc_slots_queued).toBeGreaterThan(0);
    expect(r.counters.gc_slots_queued).toBeLessThan(r.counters.notify_free);
  });

  it('an aborted run still lets the GC worker drain its queue before the result', async () => {
    const e = engine({ ...small, duration: 60, gc: { mode: 'async' }, workload: { kind: 'usemem', unmap: true, exit: 'kill' } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const r = await e.run({ signal: ac.signal });
    expect(r.ended).toBe('aborted');
    expectStoreEmpty(r);
  });

  it('a GC worker that dies fails the run with a clear error, and the engine runs again afterwards', async () => {
    const e = engine({ ...small, gc: { mode: 'async' }, workload: { kind: 'usemem', unmap: true, exit: 'kill' } });
    await expect(e.run({ inject: { gcExitAfterBulkFrees: 3 } } as InternalRunOptions)).rejects.toThrow(/GC worker died: .*not freed/);
    // piscina replaced the thread: the next run on the same engine has a GC worker again.
    const r = await e.run();
    expectStoreEmpty(r);
    expect(r.gc?.bulk_frees).toBeGreaterThan(0);
  });
});
