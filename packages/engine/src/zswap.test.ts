import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PageState, STATE_MASK } from '@zreclaim/shm';
import { pageChecksum } from '@zreclaim/workloads';
import { ConfigError, createEngine, resolveConfig, type Engine, type RunResult } from './internal.js';
import { createSharedMm, disposeSharedMm, Mm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { mapAllPages } from './testing/mapped.js';
import { createStore, onDisk } from './store.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

const PS = 4096;

/** A zswap store on this thread alone: every page mapped and written, nothing reclaimed yet. */
function setup(pages: number, maxPoolPercent: number, content = { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } as const) {
  const file = join(tmpdir(), `zreclaim-test-${process.pid}-${Math.random().toString(36).slice(2)}.swap`);
  const c = resolveConfig({ pages, ram: '50%', content, store: { mode: 'zswap', maxPoolPercent, writebackFile: file }, poison: true });
  const shared = createSharedMm(c);
  const mm = new Mm(shared);
  const store = createStore(mm, c);
  const sums = mapAllPages(mm, c.content, 3);
  return { c, shared, mm, store, file, sums, reclaimer: new Reclaimer(mm, store) };
}

function stateOf(mm: Mm, p: number): number {
  return mm.pt.load(p) & STATE_MASK;
}

describe('zswap store', () => {
  it('writes the oldest entries back to the file when the pool is full, and faults read them back equal', () => {
    const pages = 1024;
    const { mm, store, file, sums, shared, reclaimer } = setup(pages, 5);
    try {
      // Reclaim everything: the pool (5 % of a 512-page budget = 25 pool pages, ~50 entries)
      // overflows many times over.
      let freed = 0;
      for (let i = 0; i < 64 && freed < pages; i++) freed += reclaimer.shrink(pages, true);
      reclaimer.flush();
      expect(freed).toBe(pages);
      const vm = mm.vm.snapshot();
      const disk: number[] = [];
      for (let p = 0; p < pages; p++) {
        expect(stateOf(mm, p)).toBe(PageState.SWAPPED);
        if (onDisk(mm.slots.length[p])) disk.push(p);
      }
      // Every written-back page is on disk and nowhere else; the rest are in the pool.
      expect(vm.written_back_pages).toBe(disk.length);
      expect(disk.length).toBeGreaterThan(pages / 2);
      expect(vm.orig_data_size).toBe((pages - disk.length) * PS);
      expect(mm.pool.pagesUsed).toBeLessThanOrEqual(shared.poolMaxPages);
      expect(mm.lru!.size).toBe(pages - disk.length);
      // Oldest first: the scan stored pages 0, 1, 2, … in order, so every page written back
      // is older than every page still in the pool.
      const inPool = mm.lru!.toArray();
      expect(Math.max(...disk)).toBeLessThan(Math.min(...inPool));
      expect(inPool).toEqual([...inPool].sort((a, b) => a - b));
      // The file holds each written-back page at its swap slot, byte for byte what was written.
      const bytes = readFileSync(file);
      for (const p of disk) {
        expect(mm.slots.handle[p]).toBe(p);
        const words = new Int32Array(bytes.buffer, bytes.byteOffset + p * PS, PS >> 2);
        expect(pageChecksum(words, 0, PS >> 2)).toBe(sums[p]);
      }
      // Faults bring back every page, from the pool or the file, intact (the arena was poisoned).
      for (let p = 0; p < pages; p++) {
        const w = mm.pt.load(p);
        expect(mm.pt.cas(p, w, PageState.LOCKED)).toBe(true);
        store.swapIn(p, false);
        expect(pageChecksum(mm.arena.words, mm.arena.offset(p) >> 2, PS >> 2)).toBe(sums[p]);
        mm.pt.release(p, PageState.RESIDENT, false);
      }
      const end = mm.vm.snapshot();
      expect(end.orig_data_size).toBe(0);
      expect(end.compr_data_size).toBe(0);
      expect(end.notify_free).toBe(pages);
      expect(mm.lru!.size).toBe(0);
      expect(mm.pool.pagesUsed).toBe(0);
    } finally {
      store.close();
      disposeSharedMm(shared);
    }
    expect(existsSync(file)).toBe(false);
  });

  it('rejects incompressible pages (reject_compress_poor) and leaves them resident', () => {
    const { mm, store, shared, reclaimer } = setup(256, 20, { kind: 'random' } as never);
    try {
      expect(reclaimer.shrink(64, true)).toBe(0);
      reclaimer.flush();
      const vm = mm.vm.snapshot();
      expect(vm.reject_compress_poor).toBeGreaterThan(0);
      expect(vm.pswpout).toBe(0);
      expect(vm.huge_pages).toBe(0);
      expect(mm.pt.census()[PageState.RESIDENT]).toBe(256);
    } finally {
      store.close();
      disposeSharedMm(shared);
    }
  });

  it('a backing file without zswap mode is a config error naming the field', () => {
    expect(() => resolveConfig({ store: { writebackFile: '/tmp/x.swap' } })).toThrow(/store\.writebackFile: a backing file is for store\.mode zswap only/);
  });

  it('a named backing file that exists is refused (never overwritten), naming the field', () => {
    const file = join(tmpdir(), `zreclaim-test-exists-${process.pid}.swap`);
    writeFileSync(file, 'precious');
    try {
      const c = resolveConfig({ pages: 256, store: { mode: 'zswap', writebackFile: file } });
      expect(() => createSharedMm(c)).toThrow(ConfigError);
      expect(() => createSharedMm(c)).toThrow(/store\.writebackFile: the file exists/);
      expect(readFileSync(file, 'utf8')).toBe('precious');
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('a zswap run', () => {
  it('2 applications with a tiny pool: pages go to the file and come back intact, counters add up, the file is removed', async () => {
    const file = join(tmpdir(), `zreclaim-test-run-${process.pid}.swap`);
    const engine = createEngine({
      pages: 2048,
      ram: '50%',
      apps: 2,
      duration: 1.2,
      seed: 5,
      store: { mode: 'zswap', maxPoolPercent: 5, writebackFile: file },
      workload: { kind: 'usemem', hot: 0.1, hotAccess: 0.5, writeFraction: 0.2, unmap: false },
    });
    engines.push(engine);
    const seen: number[] = [];
    const r: RunResult = await engine.run({
      progressIntervalMs: 100,
      onProgress: () => {
        if (existsSync(file)) seen.push(statSync(file).size);
      },
    });
    expect(r.checks.problems).toEqual([]);
    expect(r.checks.mismatches).toBe(0);
    expect(r.checks.verified).toBeGreaterThan(1000);
    expect(r.counters.written_back_pages).toBeGreaterThan(100);
    // Faults read written-back pages from the file (pswpin beyond what the pool could hold).
    expect(r.counters.pswpin).toBeGreaterThan(0);
    expect(r.latency.zswap_writeback.count).toBe(r.counters.written_back_pages);
    // The pool never grew past max_pool_percent of the RAM budget.
    expect(r.mm_stat.mem_used_max).toBeLessThanOrEqual(Math.floor(1024 * 0.05) * 4096);
    expect(seen.some((size) => size > 0)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });
});

describe('counters add up in every store mode', () => {
  for (const mode of ['zram', 'zswap'] as const) {
    for (const gc of ['sync', 'async'] as const) {
      it(`${mode}, gc ${gc}: applications killed at the end leave an empty store`, async () => {
        const engine = createEngine({
          pages: 2048,
          ram: '60%',
          apps: 2,
          duration: 0.8,
          seed: 9,
          store: { mode, maxPoolPercent: 10 },
          gc: { mode: gc },
          workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.6, writeFraction: 0.2, unmap: true, exit: 'kill' },
        });
        engines.push(engine);
        const r = await engine.run();
        const c = r.counters;
        expect(r.checks.problems).toEqual([]);
        expect(r.checks.mismatches).toBe(0);
        expect(c.pswpout).toBeGreaterThan(0);
        expect(c.pswpout - c.notify_free).toBe(0);
        expect(c.orig_data_size).toBe(0);
        expect(c.compr_data_size).toBe(0);
        expect(c.same_pages).toBe(0);
        expect(c.huge_pages).toBe(0);
        expect(c.gc_bytes_pending).toBe(0);
        expect(c.gc_slots_queued).toBe(c.gc_slots_freed);
        if (gc === 'async') expect(c.gc_slots_queued).toBeGreaterThan(0);
        else expect(c.gc_slots_queued).toBe(0);
        if (mode === 'zswap') expect(c.written_back_pages).toBeGreaterThan(0);
        expect(r.mm_stat.mem_used_total).toBeGreaterThanOrEqual(r.mm_stat.compr_data_size);
      });
    }
  }
});
