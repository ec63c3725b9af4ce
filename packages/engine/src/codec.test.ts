import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createContentSource, type ContentSpec } from '@zreclaim/workloads';
import { describe, expect, it } from 'vitest';
import {
  CODEC_IDS,
  CODEC_NAMES,
  type Codec,
  createCodec,
  createZstdCodec,
  defaultThreadpoolSize,
  type SyncCodec,
  type ZstdBinding,
} from './codec.js';
import { PageViews } from './codecs/views.js';

const PAGE_SIZES = [4096, 16384];
const PER_KIND = 6;
const KINDS = ['zero-ish', 'text', 'random', 'mix'] as const;
type Kind = (typeof KINDS)[number];

/** An arena like Mm.arenaBuf (a Buffer over a SharedArrayBuffer): PER_KIND pages of each kind, in KINDS order. */
function makeArena(ps: number): Buffer {
  const arena = Buffer.from(new SharedArrayBuffer(ps * PER_KIND * KINDS.length));
  const specs: Record<Exclude<Kind, 'zero-ish'>, ContentSpec> = {
    text: { kind: 'text' },
    random: { kind: 'random' },
    mix: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 },
  };
  KINDS.forEach((kind, k) => {
    for (let i = 0; i < PER_KIND; i++) {
      const page = k * PER_KIND + i;
      const off = page * ps;
      if (kind === 'zero-ish') {
        // Zero but for a few bytes: not same-filled, so it reaches the codec.
        for (let j = 0; j < 5; j++) arena[off + ((j * 997 + i * 131) % ps)] = 1 + j + i;
      } else {
        createContentSource(specs[kind], ps, 7).fill(arena, off, ps, page, 1);
      }
    }
  });
  return arena;
}

const pagesOf = (kind: Kind): number[] => Array.from({ length: PER_KIND }, (_, i) => KINDS.indexOf(kind) * PER_KIND + i);

/** The store's huge-page rule (store.ts swapOut, default threshold 3/4 page). */
const isHuge = (len: number, ps: number): boolean => len < 0 || len >= ps || len > Math.floor(ps * 0.75);

/** Compressed bytes of one page, whichever way the codec compresses. */
async function compressPage(codec: Codec, src: Buffer, off: number, ps: number): Promise<Buffer> {
  if (!codec.sync) return Buffer.from(await codec.compressAsync(src, off, ps));
  const dst = Buffer.alloc(ps + 64);
  const len = codec.compress(src, off, ps, dst);
  return len < 0 ? Buffer.alloc(0) : Buffer.from(dst.subarray(0, len));
}

/**
 * Decompress `comp` as the store would: from inside a larger pool buffer (nonzero offset),
 * into a page of another arena. True iff exactly the original page comes back.
 */
function roundTrips(codec: Codec, comp: Buffer, orig: Buffer, ps: number): boolean {
  const pool = Buffer.alloc(comp.length + 200, 0xee);
  comp.copy(pool, 100);
  const out = Buffer.from(new SharedArrayBuffer(ps * 3)).fill(0xa5);
  try {
    codec.decompress(pool, 100, comp.length, out, ps, ps);
  } catch {
    return false;
  }
  // The neighbouring pages are untouched, and the page is the original.
  return out.subarray(ps, 2 * ps).equals(orig) && out[ps - 1] === 0xa5 && out[2 * ps] === 0xa5;
}

describe('codec registry', () => {
  it('createCodec makes each known codec, with its name, id and sync flag', () => {
    expect(CODEC_NAMES).toEqual(['lz4', 'lz4-native', 'zstd']);
    expect(CODEC_IDS).toEqual({ lz4: 0, 'lz4-native': 1, zstd: 2 });
    const made = CODEC_NAMES.map((n) => createCodec(n, 4096));
    expect(made.map((c) => c.name)).toEqual(CODEC_NAMES);
    expect(new Set(made.map((c) => c.name)).size).toBe(3);
    for (const c of made) {
      expect(c.id).toBe(CODEC_IDS[c.name]);
      expect(CODEC_NAMES[c.id]).toBe(c.name);
    }
    expect(made.map((c) => c.sync)).toEqual([true, true, false]);
    expect(typeof made[0].compressOwned).toBe('function');
  });

  it('an unknown codec name is an Error listing the known names', () => {
    expect(() => createCodec('lz5', 4096)).toThrow(/unknown codec "lz5".*lz4, lz4-native, zstd/);
    expect(() => createCodec('', 4096)).toThrow(Error);
  });

  it('the async codec refuses to compress synchronously', () => {
    const z = createCodec('zstd', 4096);
    expect(() => z.compress(Buffer.alloc(4096), 0, 4096, Buffer.alloc(4160))).toThrow(/compressAsync/);
  });

  it('defaultThreadpoolSize follows libuv: default 4, atoi, 0 → 1, capped at 1024', () => {
    expect(defaultThreadpoolSize({})).toBe(4);
    expect(defaultThreadpoolSize({ UV_THREADPOOL_SIZE: '8' })).toBe(8);
    expect(defaultThreadpoolSize({ UV_THREADPOOL_SIZE: '0' })).toBe(1);
    expect(defaultThreadpoolSize({ UV_THREADPOOL_SIZE: 'x' })).toBe(1);
    expect(defaultThreadpoolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
    expect(defaultThreadpoolSize({ UV_THREADPOOL_SIZE: '-1' })).toBe(1024);
  });
});

describe.each(PAGE_SIZES)('page size %i', (ps) => {
  const arena = makeArena(ps);
  const page = (p: number) => arena.subarray(p * ps, (p + 1) * ps);

  describe.each(CODEC_NAMES)('%s', (name) => {
    it.each(KINDS)('round-trips %s pages', async (kind) => {
      const codec = createCodec(name, ps);
      for (const p of pagesOf(kind)) {
        const comp = await compressPage(codec, arena, p * ps, ps);
        if (comp.length === 0) {
          // Only an incompressible page may be refused (the store keeps it as it is).
          expect(kind).toBe('random');
          continue;
        }
        expect(roundTrips(codec, comp, page(p), ps), `${name} page ${p} (${kind})`).toBe(true);
        if (kind === 'zero-ish' || kind === 'text' || kind === 'mix') expect(comp.length).toBeLessThan(ps);
      }
    });

    it('cannot bring back a page from a truncated object', async () => {
      const codec = createCodec(name, ps);
      const p = pagesOf('text')[0];
      const comp = await compressPage(codec, arena, p * ps, ps);
      expect(roundTrips(codec, comp, page(p), ps)).toBe(true);
      // Truncated to half: no codec can bring back the page from it.
      expect(roundTrips(codec, comp.subarray(0, comp.length >> 1), page(p), ps)).toBe(false);
    });
  });

  it('lz4-native refuses random pages (-1: the store keeps them as huge pages)', () => {
    const codec = createCodec('lz4-native', ps);
    const dst = Buffer.alloc(ps + 64);
    for (const p of pagesOf('random')) {
      const len = codec.compress(arena, p * ps, ps, dst);
      expect(len).toBe(-1);
      expect(isHuge(len, ps)).toBe(true);
    }
    // …and a dst too small for any output is -1, not an overrun.
    const tiny = Buffer.alloc(8, 0x77);
    expect(codec.compress(arena, pagesOf('mix')[0] * ps, ps, tiny.subarray(0, 4))).toBe(-1);
    expect(tiny.subarray(4).every((b) => b === 0x77)).toBe(true);
  });

  it('lz4-native output is a raw LZ4 block, lz4 (lz4-napi) has a size prefix: neither decodes the other', async () => {
    const native = createCodec('lz4-native', ps);
    const napi = createCodec('lz4', ps);
    for (const p of [...pagesOf('text'), ...pagesOf('mix')]) {
      const a = await compressPage(native, arena, p * ps, ps);
      const b = await compressPage(napi, arena, p * ps, ps);
      expect(roundTrips(native, a, page(p), ps)).toBe(true);
      expect(roundTrips(napi, b, page(p), ps)).toBe(true);
      expect(b.readUInt32LE(0)).toBe(ps);
      expect(roundTrips(native, b, page(p), ps)).toBe(false);
      expect(roundTrips(napi, a, page(p), ps)).toBe(false);
    }
  });

  it('lz4-native writes into the caller dst from 0 and leaves the rest alone', () => {
    const codec = createCodec('lz4-native', ps);
    const dst = Buffer.alloc(ps + 64, 0xcc);
    const p = pagesOf('mix')[1];
    const len = codec.compress(arena, p * ps, ps, dst);
    expect(len).toBeGreaterThan(0);
    expect(len).toBeLessThan(ps);
    expect(dst.subarray(len).every((b) => b === 0xcc)).toBe(true);
    expect(roundTrips(codec, Buffer.from(dst.subarray(0, len)), page(p), ps)).toBe(true);
  });
});

/**
 * Whether `fn` allocates on the JS heap across `n` calls: bytes newly used in the young
 * generation (where every short-lived object goes), external ArrayBuffer memory, or a
 * scavenge during the calls (which would hide the former).
 */
async function allocatesPerCall(fn: (i: number) => void, n: number): Promise<{ allocates: boolean; detail: string }> {
  for (let i = 0; i < 20_000; i++) fn(i); // warm up: optimized code, views made
  await new Promise((r) => setTimeout(r, 10));
  // Only scavenges: new-space allocation triggers them; a major GC may finish on its own.
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e.detail as { kind?: number } | undefined)?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcs++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const young = () =>
    getHeapSpaceStatistics()
      .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
      .reduce((a, s) => a + s.space_used_size, 0);
  const ab0 = process.memoryUsage().arrayBuffers;
  const y0 = young();
  for (let i = 0; i < n; i++) fn(i);
  const y1 = young();
  const ab1 = process.memoryUsage().arrayBuffers;
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  const dy = y1 - y0;
  const dab = ab1 - ab0;
  const detail = `young +${dy} B, arrayBuffers +${dab} B, ${gcs} GCs over ${n} calls`;
  return { allocates: gcs > 0 || dy > 64 * 1024 || dab > 64 * 1024, detail };
}

describe('allocation per page', () => {
  const ps = 4096;
  const arena = makeArena(ps);
  const pages = pagesOf('mix').concat(pagesOf('text'), pagesOf('zero-ish'));
  const out = Buffer.from(new SharedArrayBuffer(arena.length));
  const dst = Buffer.allocUnsafeSlow(ps + 64);

  it('lz4-native compress into a reused dst and decompress into the page allocate nothing (50k pages)', async () => {
    const codec = createCodec('lz4-native', ps);
    const r = await allocatesPerCall((i) => {
      const p = pages[i % pages.length];
      const len = codec.compress(arena, p * ps, ps, dst);
      codec.decompress(dst, 0, len, out, p * ps, ps);
    }, 50_000);
    expect(r.allocates, r.detail).toBe(false);
    expect(out.subarray(pages[0] * ps, (pages[0] + 1) * ps).equals(arena.subarray(pages[0] * ps, (pages[0] + 1) * ps))).toBe(true);
  });

  it('the same measurement sees lz4-napi allocate (so it can fail)', async () => {
    const codec = createCodec('lz4', ps) as SyncCodec;
    const r = await allocatesPerCall((i) => {
      const p = pages[i % pages.length];
      codec.compressOwned!(arena, p * ps, ps);
    }, 50_000);
    expect(r.allocates, r.detail).toBe(true);
  });
});

describe('page views', () => {
  // Small pages so that 70 000 distinct ones fit in a few MiB; every call below asks for a
  // page never asked for before.
  const ps = 64;
  const pages = 120_000;

  it('prepared once at attach, a page meets its view without making one', async () => {
    const buf = Buffer.from(new SharedArrayBuffer(ps * pages));
    const views = new PageViews(ps);
    views.prepare(buf, pages);
    let k = 0;
    const r = await allocatesPerCall(() => void views.get(buf, k++ * ps, ps), 50_000);
    expect(r.allocates, r.detail).toBe(false);
    expect(views.get(buf, 7 * ps, ps)).toBe(views.get(buf, 7 * ps, ps));
    expect(views.get(buf, 7 * ps, ps)!.equals(buf.subarray(7 * ps, 8 * ps))).toBe(true);
  });

  it('unprepared, each page\'s first use makes its view (so the measurement can fail)', async () => {
    const buf = Buffer.from(new SharedArrayBuffer(ps * pages));
    const views = new PageViews(ps);
    let k = 0;
    const r = await allocatesPerCall(() => void views.get(buf, k++ * ps, ps), 50_000);
    expect(r.allocates, r.detail).toBe(true);
  });
});

describe('zstd requests in flight', () => {
  const ps = 4096;
  const arena = makeArena(ps);
  const pages = [...pagesOf('mix'), ...pagesOf('text'), ...pagesOf('zero-ish'), ...pagesOf('random')];

  it('32 compressAsync started without awaiting all resolve and round-trip', async () => {
    const codec = createCodec('zstd', ps);
    const reqs = Array.from({ length: 32 }, (_, i) => {
      const p = pages[i % pages.length];
      return codec.compressAsync(arena, p * ps, ps).then((c) => ({ p, c: Buffer.from(c) }));
    });
    const done = await Promise.all(reqs);
    expect(done).toHaveLength(32);
    for (const { p, c } of done) expect(roundTrips(codec, c, arena.subarray(p * ps, (p + 1) * ps), ps)).toBe(true);
  });

  it('the codec hands every request to the binding at once (no queue of its own), with its level', async () => {
    let outstanding = 0;
    let peak = 0;
    const levels: (number | null | undefined)[] = [];
    const release: (() => void)[] = [];
    const fake: ZstdBinding = {
      compress(data, level) {
        levels.push(level);
        peak = Math.max(peak, ++outstanding);
        return new Promise((resolve) => release.push(() => (outstanding--, resolve(Buffer.from(data)))));
      },
    };
    const codec = createZstdCodec(ps, 1, fake);
    const reqs = Array.from({ length: 32 }, (_, i) => codec.compressAsync(arena, pages[i % pages.length] * ps, ps));
    expect(peak).toBe(32);
    expect(levels.every((l) => l === 1)).toBe(true);
    release.forEach((r) => r());
    await Promise.all(reqs);
    expect(outstanding).toBe(0);
  });

  it('a failed request rejects with a zstd Error; the others still resolve', async () => {
    let n = 0;
    const fake: ZstdBinding = {
      compress: (data) => (n++ === 3 ? Promise.reject(new Error('boom')) : Promise.resolve(Buffer.from(data))),
    };
    const codec = createZstdCodec(ps, undefined, fake);
    const settled = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => codec.compressAsync(arena, i * ps, ps)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(((settled[3] as PromiseRejectedResult).reason as Error).message).toBe('zstd: boom');
  });
});
