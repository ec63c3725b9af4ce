import { closeSync, existsSync, mkdtempSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PageState, STATE_MASK } from '@zreclaim/shm';
import { pageChecksum } from '@zreclaim/workloads';
import { ConfigError, resolveConfig, type RunResult } from './internal.js';
import { createSharedMm, disposeSharedMm, Mm, openBackingFile } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { mapAllPages } from './testing/mapped.js';
import { createStore, onDisk } from './store.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

const PS = 4096;

/** This file's own directory for backing files: empty again after each test, removed at the end. */
const DIR = mkdtempSync(join(tmpdir(), 'zreclaim-zswap-test-'));
afterEach(() => {
  expect(readdirSync(DIR)).toEqual([]);
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** A zswap store on this thread alone: every page mapped and written, nothing reclaimed yet. */
function setup(pages: number, maxPoolPercent: number, content = { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } as const) {
  const file = join(DIR, `setup-${Math.random().toString(36).slice(2)}.swap`);
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
      // The file (its name already gone) holds each written-back page at its swap slot, byte
      // for byte what was written.
      expect(existsSync(file)).toBe(false);
      const bytes = Buffer.alloc(PS);
      for (const p of disk) {
        expect(mm.slots.handle[p]).toBe(p);
        expect(readSync(shared.zswap!.fd, bytes, 0, PS, p * PS)).toBe(PS);
        const words = new Int32Array(bytes.buffer, bytes.byteOffset, PS >> 2);
        expect(pageChecksum(words, 0, PS >> 2)).toBe(sums[p]);
      }
      // Faults bring back every page, from the pool or the file, intact (the arena was poisoned).
      for (let p = 0; p < pages; p++) {
        const w = mm.pt.load(p);
        expect(mm.pt.cas(p, w, PageState.LOCKED)).toBe(true);
        store.swapIn(p, false);
        expect(pageChecksum(mm.arena.words, mm.arena.wordOffset(p), PS >> 2)).toBe(sums[p]);
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
    const file = join(DIR, 'exists.swap');
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
    const file = join(DIR, 'run.swap');
    const engine = newEngine({
      pages: 2048,
      ram: '50%',
      apps: 2,
      duration: 1.2,
      seed: 5,
      store: { mode: 'zswap', maxPoolPercent: 5, writebackFile: file },
      workload: { kind: 'usemem', hot: 0.1, hotAccess: 0.5, writeFraction: 0.2, unmap: false },
    });
    let progress = 0;
    const named: string[] = [];
    const r: RunResult = await engine.run({
      progressIntervalMs: 100,
      onProgress: () => {
        progress++;
        named.push(...readdirSync(DIR));
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
    // The named file lost its name when it was opened: never seen during the run.
    expect(progress).toBeGreaterThan(0);
    expect(named).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });
});

describe('the zswap backing file has no name while it is used', () => {
  const zswap = (writebackFile?: string) => resolveConfig({ pages: 256, store: { mode: 'zswap', writebackFile } });

  it('by default it is made in TMPDIR with no name left there, readable and writable through its descriptor', () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = DIR;
    let shared;
    try {
      shared = createSharedMm(zswap());
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    try {
      expect(shared.zswap!.file).toContain(DIR);
      expect(readdirSync(DIR)).toEqual([]);
      const page = Buffer.alloc(PS, 0xa5);
      expect(writeSync(shared.zswap!.fd, page, 0, PS, 255 * PS)).toBe(PS);
      const back = Buffer.alloc(PS);
      expect(readSync(shared.zswap!.fd, back, 0, PS, 255 * PS)).toBe(PS);
      expect(back.equals(page)).toBe(true);
    } finally {
      disposeSharedMm(shared);
    }
    expect(shared.zswap!.fd).toBe(-1);
    // Disposing twice does not close a descriptor someone else got since.
    disposeSharedMm(shared);
  });

  for (const tmpfile of [true, false]) {
    it(`${tmpfile ? 'O_TMPFILE' : 'a random name unlinked at once'}: files a killed run left (named from its pid) are neither reused nor touched`, () => {
      const left = [`zreclaim-zswap-${process.pid}-1.swap`, `zreclaim-zswap-${process.pid}-2.swap`];
      for (const f of left) writeFileSync(join(DIR, f), 'a killed run left me');
      try {
        const opened = [0, 1, 2].map(() => openBackingFile(undefined, DIR, { tmpfile }));
        expect(readdirSync(DIR).sort()).toEqual(left);
        for (const f of left) expect(readFileSync(join(DIR, f), 'utf8')).toBe('a killed run left me');
        // Three files, not one: each descriptor has its own.
        const fds = opened.map((o) => o.fd);
        fds.forEach((fd, i) => writeSync(fd, Buffer.from([i + 1]), 0, 1, 0));
        fds.forEach((fd, i) => {
          const b = Buffer.alloc(1);
          readSync(fd, b, 0, 1, 0);
          expect(b[0]).toBe(i + 1);
        });
        fds.forEach((fd) => closeSync(fd));
      } finally {
        for (const f of left) rmSync(join(DIR, f), { force: true });
      }
    });
  }

  it('a named file is created exclusively and its name removed at once', () => {
    const file = join(DIR, 'named.swap');
    const shared = createSharedMm(zswap(file));
    try {
      expect(shared.zswap!.file).toBe(file);
      expect(existsSync(file)).toBe(false);
      expect(writeSync(shared.zswap!.fd, Buffer.alloc(PS, 1), 0, PS, 0)).toBe(PS);
    } finally {
      disposeSharedMm(shared);
    }
  });

  it('a backing file that cannot be created is a ConfigError naming the field and the directory', () => {
    const file = join(DIR, 'no-such-dir', 'x.swap');
    expect(() => createSharedMm(zswap(file))).toThrow(/^config\.store\.writebackFile: cannot create the backing file in .*no-such-dir \(ENOENT\): name a path in a writable directory/);
  });
});

describe('counters add up in every store mode', () => {
  for (const mode of ['zram', 'zswap'] as const) {
    for (const gc of ['sync', 'async'] as const) {
      it(`${mode}, gc ${gc}: applications killed at the end leave an empty store`, async () => {
        const engine = newEngine({
          pages: 2048,
          ram: '60%',
          apps: 2,
          duration: 0.8,
          seed: 9,
          store: { mode, maxPoolPercent: 10 },
          gc: { mode: gc },
          workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.6, writeFraction: 0.2, unmap: true, exit: 'kill' },
        });
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
