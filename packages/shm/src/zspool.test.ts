import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPattern, fillPattern, prng } from './testing/zspool-pattern.js';
import type { ZsPoolWorkerData, ZsPoolWorkerResult } from './testing/zspool-worker.js';
import { ZsPool, type ZsPoolOptions } from './zspool.js';

/** Copy of a pool's buffers, attached as a second, independent pool. */
function clonePool(pool: ZsPool, opts: ZsPoolOptions): ZsPool {
  return new ZsPool(opts, { meta: pool.sabs.meta.slice(0), data: pool.sabs.data.slice(0) });
}

function randomBytes(len: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (r() * 256) | 0;
  return b;
}

function firstDiff(a: Uint8Array, b: Uint8Array, len: number): number {
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * Every live object reads back its bytes (through read() and, when contiguous, in place
 * through `data`), and no two live objects' slots (class size, mapped through their pool
 * pages) share a byte. Throws on the first violation.
 */
function checkLive(pool: ZsPool, ref: Map<number, Uint8Array>): void {
  const buf = new Uint8Array(pool.pageSize);
  const sp = new Float64Array(4);
  const ranges: number[][] = [];
  for (const [h, bytes] of ref) {
    const len = bytes.length;
    if (pool.classSizeOf(h) < len) throw new Error(`handle ${h}: class ${pool.classSizeOf(h)} < ${len}`);
    pool.read(h, buf, 0, len);
    const d = firstDiff(buf, bytes, len);
    if (d >= 0) throw new Error(`handle ${h} (${len} B) differs at byte ${d}`);
    const off = pool.contiguousOffset(h, len);
    const parts = pool.spans(h, sp);
    if (off >= 0) {
      if (firstDiff(pool.data.subarray(off, off + len), bytes, len) >= 0) throw new Error(`handle ${h} differs in place`);
      if (parts === 2 && sp[1] < len) throw new Error(`handle ${h} straddles but contiguousOffset said ${off}`);
    } else if (parts === 1 || sp[1] >= len) {
      throw new Error(`handle ${h}: contiguousOffset −1 for an object that fits in ${sp[1]} bytes`);
    }
    for (let p = 0; p < parts; p++) {
      const start = sp[2 * p];
      const n = sp[2 * p + 1];
      if ((start % pool.pageSize) + n > pool.pageSize || start + n > pool.data.length) {
        throw new Error(`handle ${h}: part [${start}, +${n}) crosses a page or the buffer`);
      }
      ranges.push([start, start + n, h]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) {
      throw new Error(`handles ${ranges[i - 1][2]} and ${ranges[i][2]} overlap at byte ${ranges[i][0]}`);
    }
  }
}

type Op =
  | { t: 'alloc'; size: number; seed: number }
  | { t: 'free'; pick: number }
  | { t: 'bulk'; picks: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('alloc' as const),
      // A few fixed sizes too, so classes see frees and reuse, not only fresh slots.
      size: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(1, 33, 100, 700, 1365, 2048, 4096)),
      seed: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bulk' as const), picks: fc.array(fc.nat(), { maxLength: 24, size: 'max' }) }) },
);

const cfgArb = fc.record({
  pageSize: fc.constantFrom(64, 256, 4096),
  classStep: fc.constantFrom(undefined, 4, 16, 32),
  maxPages: fc.integer({ min: 4, max: 48 }),
});

describe('ZsPool', () => {
  it('random alloc/write/free keeps every object intact and disjoint, freeBulk equals single frees, and the footprint returns to 0', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(opArb, { maxLength: 150, size: 'max' }), (cfg, ops) => {
        const pool = new ZsPool(cfg);
        const ref = new Map<number, Uint8Array>();
        for (const op of ops) {
          if (op.t === 'alloc') {
            const size = ((op.size - 1) % cfg.pageSize) + 1;
            const before = pool.pagesUsed;
            const h = pool.alloc(size);
            if (h === -1) {
              // Only a new zspage (≤ 4 pages) can fail, and only near the limit.
              expect(pool.pagesUsed).toBe(before);
              expect(pool.pagesUsed).toBeGreaterThan(cfg.maxPages - 4);
              continue;
            }
            expect(h).toBeGreaterThanOrEqual(0);
            expect(ref.has(h)).toBe(false);
            const bytes = randomBytes(size, op.seed);
            pool.write(h, bytes, 0, size);
            ref.set(h, bytes);
          } else if (op.t === 'free') {
            if (ref.size === 0) continue;
            const keys = [...ref.keys()];
            const h = keys[op.pick % keys.length];
            pool.free(h);
            ref.delete(h);
          } else {
            const keys = [...ref.keys()];
            const chosen = [...new Set(op.picks.map((p) => keys[p % Math.max(1, keys.length)]))].filter(
              (h) => h !== undefined,
            );
            const single = clonePool(pool, cfg);
            pool.freeBulk(Int32Array.from(chosen), chosen.length);
            for (const h of chosen) {
              single.free(h);
              ref.delete(h);
            }
            expect(pool.pagesUsed).toBe(single.pagesUsed);
            expect(pool.objectsLive).toBe(single.objectsLive);
            expect(pool.audit().inuse).toEqual(single.audit().inuse);
            checkLive(single, ref);
          }
          checkLive(pool, ref);
          const a = pool.audit();
          expect(a.objects).toBe(ref.size);
          expect(pool.objectsLive).toBe(ref.size);
          expect(pool.pagesUsed).toBeLessThanOrEqual(cfg.maxPages);
          expect(pool.maxPagesUsed).toBeGreaterThanOrEqual(pool.pagesUsed);
        }
        // Free everything: half one by one, half in bulk.
        const rest = [...ref.keys()];
        const half = rest.length >> 1;
        for (const h of rest.slice(0, half)) pool.free(h);
        pool.freeBulk(Int32Array.from(rest.slice(half)), rest.length - half);
        expect(pool.pagesUsed).toBe(0);
        expect(pool.objectsLive).toBe(0);
        expect(pool.audit().zspages).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('alloc returns -1 at maxPages, changes nothing when it does, and succeeds again once pages are freed', () => {
    const P = 4096;
    const max = 16;
    const pool = new ZsPool({ pageSize: P, maxPages: max });
    const ref = new Map<number, Uint8Array>();
    // Huge objects: one pool page each.
    for (;;) {
      const h = pool.alloc(P);
      if (h < 0) break;
      const b = randomBytes(P, ref.size);
      pool.write(h, b, 0, P);
      ref.set(h, b);
    }
    expect(ref.size).toBe(max);
    expect(pool.pagesUsed).toBe(max);
    expect(pool.alloc(100)).toBe(-1);
    expect(pool.alloc(2048)).toBe(-1);
    expect(pool.objectsLive).toBe(max);
    checkLive(pool, ref);
    pool.audit();

    const [victim] = ref.keys();
    pool.free(victim);
    ref.delete(victim);
    expect(pool.pagesUsed).toBe(max - 1);
    // 2048-byte objects: two per one-page zspage, so the second fits at the limit.
    for (let i = 0; i < 2; i++) {
      const h = pool.alloc(2048);
      expect(h).toBeGreaterThanOrEqual(0);
      const b = randomBytes(2048, 1000 + i);
      pool.write(h, b, 0, 2048);
      ref.set(h, b);
    }
    expect(pool.pagesUsed).toBe(max);
    expect(pool.alloc(2048)).toBe(-1);
    checkLive(pool, ref);

    // Random sizes until the pool stops taking anything.
    const mixed = new ZsPool({ pageSize: P, maxPages: max });
    const mref = new Map<number, Uint8Array>();
    const r = prng(7);
    for (let fails = 0, i = 0; fails < 200; i++) {
      const size = 1 + Math.floor(r() * P);
      const h = mixed.alloc(size);
      if (h < 0) {
        fails++;
        continue;
      }
      const b = randomBytes(size, i);
      mixed.write(h, b, 0, size);
      mref.set(h, b);
      expect(mixed.pagesUsed).toBeLessThanOrEqual(max);
    }
    expect(mixed.pagesUsed).toBeGreaterThan(max - 4);
    expect(mixed.maxPagesUsed).toBeLessThanOrEqual(max);
    checkLive(mixed, mref);
    expect(mixed.audit().objects).toBe(mref.size);
    for (const h of mref.keys()) mixed.free(h);
    expect(mixed.pagesUsed).toBe(0);
  });

  it('two threads allocating, writing, reading and freeing at once each read back exactly what they wrote', async () => {
    const opts = { pageSize: 4096, maxPages: 2048 };
    const pool = new ZsPool(opts);
    const go = new SharedArrayBuffer(4);
    const ops = 150_000;
    const cap = 400;
    // Small objects in overlapping ranges, so both threads meet on the classes 200..512
    // many times per microsecond of lock hold.
    const specs = [
      { id: 0, seed: 11, minSize: 32, maxSize: 512 },
      { id: 1, seed: 22, minSize: 200, maxSize: 800 },
    ];
    const results = await Promise.all(
      specs.map(
        (s) =>
          new Promise<ZsPoolWorkerResult>((resolve, reject) => {
            const workerData: ZsPoolWorkerData = {
              opts,
              sabs: pool.sabs,
              go,
              threads: specs.length,
              ops,
              cap,
              hammer: 50_000,
              hammerSize: 256,
              ...s,
            };
            const w = new Worker(new URL('../dist/testing/zspool-worker.js', import.meta.url), { workerData });
            w.once('message', (m: ZsPoolWorkerResult) => resolve(m));
            w.once('error', reject);
            w.once('exit', (code) => {
              if (code !== 0) reject(new Error(`zspool worker ${s.id} exited with ${code}`));
            });
          }),
      ),
    );
    let handedOver = 0;
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.allocFailures).toBe(0);
      expect(r.allocs).toBeGreaterThan(ops / 4);
      expect(r.allocs - r.frees).toBe(r.handles.length);
      handedOver += r.handles.length;
    }
    expect(pool.objectsLive).toBe(handedOver);
    expect(pool.audit().objects).toBe(handedOver);
    // The main thread checks the objects the workers wrote, then frees them.
    const buf = new Uint8Array(opts.pageSize);
    results.forEach((r, t) => {
      for (let i = 0; i < r.handles.length; i++) {
        pool.read(r.handles[i], buf, 0, r.lens[i]);
        expect(checkPattern(buf, r.lens[i], specs[t].id, r.seqs[i])).toBe(-1);
      }
    });
    for (const h of results[0].handles) pool.free(h);
    pool.freeBulk(results[1].handles, results[1].handles.length);
    expect(pool.objectsLive).toBe(0);
    expect(pool.pagesUsed).toBe(0);
    expect(pool.maxPagesUsed).toBeGreaterThan(0);
    expect(pool.audit().zspages).toBe(0);
  });

  it('a pool full of realistic compressed pages (1200-2600 B) costs at most 1.10x their bytes, after filling and after churn', () => {
    const P = 4096;
    const N = 32_000;
    const pool = new ZsPool({ pageSize: P, maxPages: 20_000 });
    const r = prng(2025);
    // lz4 at ratio ~2.3 on anonymous memory: about 1800 B, sd 300, clipped to 1200..2600.
    const size = (): number => {
      let s = 0;
      for (let i = 0; i < 6; i++) s += r();
      return Math.max(1200, Math.min(2600, Math.round(1800 + 300 * (s - 3) * Math.SQRT2)));
    };
    const handles = new Int32Array(N);
    const lens = new Int32Array(N);
    let bytes = 0;
    for (let i = 0; i < N; i++) {
      lens[i] = size();
      handles[i] = pool.alloc(lens[i]);
      expect(handles[i]).toBeGreaterThanOrEqual(0);
      bytes += lens[i];
    }
    const filled = (pool.pagesUsed * P) / bytes;
    // Steady state: replace a random quarter of the objects, eight times over.
    for (let round = 0; round < 8; round++) {
      for (let k = 0; k < N / 4; k++) {
        const i = Math.floor(r() * N);
        pool.free(handles[i]);
        bytes -= lens[i];
        lens[i] = size();
        handles[i] = pool.alloc(lens[i]);
        bytes += lens[i];
      }
    }
    const churned = (pool.pagesUsed * P) / bytes;
    console.log(`zspool efficiency: ${filled.toFixed(3)} filled, ${churned.toFixed(3)} after churn (${N} objects)`);
    expect(filled).toBeLessThanOrEqual(1.1);
    expect(churned).toBeLessThanOrEqual(1.1);
    expect(pool.audit().objects).toBe(N);
    pool.freeBulk(handles, N);
    expect(pool.pagesUsed).toBe(0);
  });

  it('a second ZsPool attached to the same buffers sees the same objects, and mismatched options are refused', () => {
    const opts = { pageSize: 256, maxPages: 8 };
    const a = new ZsPool(opts);
    const b = new ZsPool(opts, a.sabs);
    const buf = new Uint8Array(256);
    fillPattern(buf, 200, 3, 9);
    const h = a.alloc(200);
    a.write(h, buf, 0, 200);
    const out = new Uint8Array(256);
    b.read(h, out, 0, 200);
    expect(checkPattern(out, 200, 3, 9)).toBe(-1);
    expect(b.objectsLive).toBe(1);
    b.free(h);
    expect(a.pagesUsed).toBe(0);
    expect(() => new ZsPool({ pageSize: 512, maxPages: 8 }, a.sabs)).toThrow(RangeError);
    expect(() => new ZsPool({ pageSize: 256, maxPages: 8, classStep: 32 }, a.sabs)).toThrow(RangeError);
    expect(() => a.alloc(257)).toThrow(RangeError);
    expect(() => a.free(h)).toThrow(RangeError);
  });

  it('compaction moves the objects of sparse zspages into full ones: contents intact, owners told, pages freed, footprint down to what the objects need', () => {
    const P = 4096;
    const pool = new ZsPool({ pageSize: P, maxPages: 4096 });
    const r = prng(77);
    const ref = new Map<number, Uint8Array>();
    // Fill, then free 3 objects in 4 at random: every class is left with sparse zspages.
    const handles: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const bytes = randomBytes(1000 + Math.floor(r() * 1800), i);
      const h = pool.alloc(bytes.length);
      pool.write(h, bytes, 0, bytes.length);
      ref.set(h, bytes);
      handles.push(h);
    }
    for (const h of handles) {
      if (r() < 0.75) {
        pool.free(h);
        ref.delete(h);
      }
    }
    const before = pool.pagesUsed;
    let can = 0;
    for (let c = 0; c < pool.nClasses; c++) can += pool.canCompact(c);
    expect(can).toBeGreaterThan(before / 4);
    // The owner map a caller keeps: handle → its bytes; moved() re-keys it.
    let moves = 0;
    let freed = 0;
    for (let c = 0; c < pool.nClasses; c++) {
      for (;;) {
        const n = pool.compactOne(
          c,
          (h) => (ref.has(h) ? h : -1),
          (old, h) => {
            const bytes = ref.get(old)!;
            ref.delete(old);
            expect(ref.has(h)).toBe(false);
            ref.set(h, bytes);
            moves++;
          },
        );
        if (n === 0) break;
        freed += n;
      }
      expect(pool.canCompact(c)).toBe(0);
    }
    expect(moves).toBeGreaterThan(0);
    expect(before - pool.pagesUsed).toBe(freed);
    checkLive(pool, ref);
    const audit = pool.audit();
    expect(audit.objects).toBe(ref.size);
    // What is left is about what the live objects need: within one zspage per class.
    let bytes = 0;
    for (const b of ref.values()) bytes += pool.classSizeFor(b.length);
    expect(pool.pagesUsed * P).toBeLessThan(bytes + pool.nClasses * 4 * P);
    expect(pool.pagesUsed).toBeLessThan(before * 0.5);
  });

  it('compaction leaves a zspage alone when one of its objects cannot be held, and changes nothing of it', () => {
    const pool = new ZsPool({ pageSize: 4096, maxPages: 64 });
    const hs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const h = pool.alloc(2000);
      pool.write(h, randomBytes(2000, i), 0, 2000);
      hs.push(h);
    }
    for (let i = 0; i < 40; i += 2) pool.free(hs[i]);
    const before = pool.pagesUsed;
    const cls = (() => {
      for (let k = 0; k < pool.nClasses; k++) if (pool.canCompact(k) > 0) return k;
      return -1;
    })();
    expect(cls).toBeGreaterThanOrEqual(0);
    expect(pool.compactOne(cls, () => -1, () => expect.unreachable())).toBe(0);
    expect(pool.pagesUsed).toBe(before);
    for (let i = 1; i < 40; i += 2) {
      const out = new Uint8Array(2000);
      pool.read(hs[i], out, 0, 2000);
      expect(firstDiff(out, randomBytes(2000, i), 2000)).toBe(-1);
    }
  });
});
