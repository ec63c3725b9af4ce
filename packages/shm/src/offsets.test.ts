/**
 * Byte offsets past 2^31: an arena or a pool of 2 GiB and more (up to 4 GiB, one typed
 * array on Node 20). The buffers are real but only the pages a test touches are committed
 * (a fresh SharedArrayBuffer is zero pages mapped on first touch), so these tests need
 * megabytes, not gigabytes.
 */
import { describe, expect, it } from 'vitest';
import { PageArena } from './arena.js';
import { ZsPool } from './zspool.js';

const PS = 4096;
const GIB = 2 ** 30;

describe('PageArena past 2 GiB', () => {
  it('makes arenas of 2 GiB and of 4 GiB, the largest typed array', () => {
    for (const pages of [2 ** 19, 2 ** 20]) {
      const a = new PageArena(pages, PS);
      expect(a.bytes.length).toBe(pages * PS);
      expect(a.words.length).toBe((pages * PS) / 4);
    }
  });

  it('page i starts at byte i × pageSize and word i × pageSize / 4, above 2^19 pages of 4 KiB too', () => {
    const a = new PageArena(2 ** 20, PS);
    for (const page of [2 ** 19 - 1, 2 ** 19, 2 ** 19 + 1, 3 * 2 ** 18, 2 ** 20 - 1]) {
      expect(a.offset(page)).toBe(page * PS);
      expect(a.offset(page)).toBeGreaterThanOrEqual(0);
      expect(a.wordOffset(page)).toBe((page * PS) / 4);
    }
    expect(a.offset(2 ** 19)).toBe(2 * GIB);
    expect(a.offset(2 ** 20 - 1) + PS).toBe(4 * GIB);
  });

  it('fillPage and sameFilled work on the pages past 2 GiB and touch no other page', () => {
    const a = new PageArena(2 ** 20, PS);
    const last = 2 ** 20 - 1;
    const mid = 2 ** 19;
    a.fillPage(mid, 0x11111111, 0x22222222);
    a.fillPage(last, 0x33333333, 0x33333333);
    const fill = new Int32Array(2);
    expect(a.sameFilled(mid, fill)).toBe(true);
    expect([...fill]).toEqual([0x11111111, 0x22222222]);
    expect(a.sameFilled(last, fill)).toBe(true);
    expect([...fill]).toEqual([0x33333333, 0x33333333]);
    // The bytes are where offset() says, and the neighbours (and page 0, where a wrapped
    // offset would land) are untouched.
    expect(a.bytes[a.offset(mid)]).toBe(0x11);
    expect(a.bytes[a.offset(mid) + 4]).toBe(0x22);
    expect(a.bytes[4 * GIB - 1]).toBe(0x33);
    expect(a.bytes[a.offset(mid) - 1]).toBe(0);
    expect(a.bytes[a.offset(mid) + PS]).toBe(0);
    expect(a.sameFilled(0, fill) && fill[0] === 0 && fill[1] === 0).toBe(true);
    a.bytes[a.offset(last) + 100] = 7;
    expect(a.sameFilled(last, fill)).toBe(false);
  });
});

describe('ZsPool past 2 GiB', () => {
  it('objects in pool pages past 2^19 (byte offsets past 2^31) are written, read, located and freed where they are', () => {
    const pool = new ZsPool({ pageSize: PS, maxPages: 2 ** 20 });
    // Whole-page objects take one pool page each, handed out in order: 2^19 + 2 of them
    // reach past 2 GiB. Nothing is written to the first 2^19, so they commit no memory.
    const handles: number[] = [];
    for (let i = 0; i < 2 ** 19 + 2; i++) handles.push(pool.alloc(PS));
    expect(pool.pagesUsed).toBe(2 ** 19 + 2);
    const high = handles.slice(-2);
    const bytes = (seed: number) => Uint8Array.from({ length: PS }, (_, i) => (i * 31 + seed) & 0xff);
    high.forEach((h, k) => pool.write(h, bytes(k + 1), 0, PS));

    high.forEach((h, k) => {
      const off = pool.contiguousOffset(h, PS);
      expect(off).toBe((2 ** 19 + k) * PS);
      expect(pool.data.subarray(off, off + PS)).toEqual(bytes(k + 1));
      const back = new Uint8Array(PS);
      pool.read(h, back, 0, PS);
      expect(back).toEqual(bytes(k + 1));
      const sp = new Float64Array(4);
      expect(pool.spans(h, sp)).toBe(1);
      expect([sp[0], sp[1]]).toEqual([off, PS]);
    });
    // Page 0 (where an offset wrapped to Int32 would have written) is untouched.
    expect(pool.data.subarray(0, PS).every((b) => b === 0)).toBe(true);

    // Free them (the free list word goes into the object), then take their pages again.
    for (const h of high) pool.free(h);
    expect(pool.pagesUsed).toBe(2 ** 19);
    const again = [pool.alloc(PS), pool.alloc(PS)];
    const offs = again.map((h) => pool.contiguousOffset(h, PS)).sort((x, y) => x - y);
    expect(offs).toEqual([2 ** 19 * PS, (2 ** 19 + 1) * PS]);
  });

  it('small objects packed in zspages past 2 GiB keep their free list and their bytes', () => {
    // A pool whose fresh pages start past 2 GiB: the first 2^19 pages go to whole-page objects.
    const pool = new ZsPool({ pageSize: PS, maxPages: 2 ** 19 + 64 });
    for (let i = 0; i < 2 ** 19; i++) pool.alloc(PS);
    const size = 1000; // a class whose objects straddle pool pages
    const ref = new Map<number, Uint8Array>();
    for (let i = 0; i < 40; i++) {
      const h = pool.alloc(size);
      const b = Uint8Array.from({ length: size }, (_, j) => (i * 7 + j) & 0xff);
      pool.write(h, b, 0, size);
      ref.set(h, b);
    }
    // Free every other object: their slots hold the zspage's free list, past 2 GiB.
    const hs = [...ref.keys()];
    for (let i = 0; i < hs.length; i += 2) {
      pool.free(hs[i]);
      ref.delete(hs[i]);
    }
    for (let i = 0; i < 20; i++) {
      const h = pool.alloc(size);
      const b = Uint8Array.from({ length: size }, (_, j) => (i * 13 + j + 1) & 0xff);
      pool.write(h, b, 0, size);
      ref.set(h, b);
    }
    const back = new Uint8Array(size);
    for (const [h, b] of ref) {
      pool.read(h, back, 0, size);
      expect(back).toEqual(b);
      const sp = new Float64Array(4);
      const parts = pool.spans(h, sp);
      for (let p = 0; p < parts; p++) expect(sp[2 * p]).toBeGreaterThanOrEqual(2 * GIB);
    }
    expect(pool.audit().objects).toBe(2 ** 19 + ref.size);
  });
});
