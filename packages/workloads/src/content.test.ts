import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync } from 'lz4-napi';
import {
  ContentErrorCode,
  ContentSourceError,
  createContentSource,
  MIX_CURVES,
  mixCalibrationPage,
  mixRatioRange,
  type ContentSpec,
} from './content.js';
import { pageChecksum } from './checksum.js';

const P = 4096;

function page(spec: ContentSpec, p: number, v: number, seed = 1, pageSize = P): Uint8Array {
  const dst = new Uint8Array(pageSize);
  createContentSource(spec, pageSize, seed).fill(dst, 0, pageSize, p, v);
  return dst;
}

function isSameFilled(b: Uint8Array, off = 0, n = b.length): boolean {
  for (let i = 8; i < n; i++) if (b[off + i] !== b[off + (i & 7)]) return false;
  return true;
}

function isZero(b: Uint8Array, off = 0, n = b.length): boolean {
  for (let i = 0; i < n; i++) if (b[off + i] !== 0) return false;
  return true;
}

const digest = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

/**
 * Aggregate lz4 ratio (bytes in / bytes out, lz4-napi compressSync) of the pages that reach a
 * codec: same-filled pages (zero pages included) are left out, as the engine stores them
 * without compressing.
 */
function lz4Ratio(spec: ContentSpec, pages: number, pageSize = P, seed = 7): { ratio: number; skipped: number } {
  const src = createContentSource(spec, pageSize, seed);
  const buf = Buffer.alloc(pageSize);
  let bytesIn = 0;
  let bytesOut = 0;
  let skipped = 0;
  for (let p = 0; p < pages; p++) {
    src.fill(buf, 0, pageSize, p, 3);
    if (isSameFilled(buf)) {
      skipped++;
      continue;
    }
    bytesIn += pageSize;
    bytesOut += compressSync(buf).length;
  }
  return { ratio: bytesIn / bytesOut, skipped };
}

const nonZeroSpecs: ContentSpec[] = [
  { kind: 'same-filled' },
  { kind: 'text' },
  { kind: 'random' },
  { kind: 'mix', ratio: 2.3 },
  { kind: 'mix', ratio: 3, same: 0.3 },
];
const allSpecs: ContentSpec[] = [{ kind: 'zero' }, ...nonZeroSpecs, { kind: 'mix', ratio: 2.3, same: 0.1, zero: 0.05 }];

describe('generated content', () => {
  it.each(allSpecs.map((s) => [createContentSource(s, P, 1).name, s] as const))(
    '%s: the same seed gives the same bytes, on any page and version',
    (_name, spec) => {
      for (const [p, v] of [
        [0, 0],
        [1, 0],
        [12345, 7],
        [2 ** 31 - 1, 2 ** 32 - 1],
      ]) {
        expect(digest(page(spec, p, v, 42))).toBe(digest(page(spec, p, v, 42)));
      }
    },
  );

  it.each([{ kind: 'text' }, { kind: 'random' }, { kind: 'mix', ratio: 2.3 }] as ContentSpec[])(
    '$kind: another seed gives other templates',
    (spec) => {
      const a = page(spec, 5, 1, 1).subarray(8);
      const b = page(spec, 5, 1, 2).subarray(8);
      expect(digest(a)).not.toBe(digest(b));
    },
  );

  it.each(nonZeroSpecs.map((s) => [createContentSource(s, P, 1).name, s] as const))(
    '%s: distinct (page, version) give distinct pages',
    (_name, spec) => {
      const src = createContentSource(spec, P, 3);
      const buf = new Uint8Array(P);
      const seen = new Map<string, string>();
      for (let p = 0; p < 512; p++) {
        for (let v = 0; v < 4; v++) {
          src.fill(buf, 0, P, p, v);
          const d = digest(buf);
          expect(seen.get(d), `page ${p} version ${v}`).toBeUndefined();
          seen.set(d, `${p}/${v}`);
        }
      }
      fc.assert(
        fc.property(
          fc.tuple(fc.nat({ max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 - 1 })),
          fc.tuple(fc.nat({ max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 - 1 })),
          ([p1, v1], [p2, v2]) => {
            fc.pre(p1 !== p2 || v1 !== v2);
            const a = new Uint8Array(P);
            const b = new Uint8Array(P);
            src.fill(a, 0, P, p1, v1);
            src.fill(b, 0, P, p2, v2);
            return Buffer.compare(a, b) !== 0;
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('same-filled pages are same-filled (every 8-byte word equal), at every page size', () => {
    for (const ps of [64, 4096, 16384, 65536]) {
      const src = createContentSource({ kind: 'same-filled' }, ps, 9);
      const buf = new Uint8Array(ps * 3).fill(0xa5);
      for (let p = 0; p < 64; p++) {
        src.fill(buf, ps, ps, p, p * 3);
        expect(isSameFilled(buf, ps, ps)).toBe(true);
      }
    }
  });

  it('zero pages are all zeros, whatever the buffer held before', () => {
    const buf = new Uint8Array(P).fill(0xff);
    createContentSource({ kind: 'zero' }, P, 1).fill(buf, 0, P, 17, 4);
    expect(isZero(buf)).toBe(true);
  });

  it('mix serves its zero and same-filled shares, and stamps every other page', () => {
    const src = createContentSource({ kind: 'mix', ratio: 2.3, same: 0.1, zero: 0.05 }, P, 5);
    const buf = new Uint8Array(P);
    const n = 20_000;
    let zero = 0;
    let same = 0;
    for (let p = 0; p < n; p++) {
      src.fill(buf, 0, P, p, 1);
      if (isZero(buf)) zero++;
      else if (isSameFilled(buf)) same++;
      else expect([buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24), buf[4]]).toEqual([p, 1]);
    }
    expect(zero / n).toBeGreaterThan(0.04);
    expect(zero / n).toBeLessThan(0.06);
    expect(same / n).toBeGreaterThan(0.09);
    expect(same / n).toBeLessThan(0.11);
  });

  it.each(allSpecs.map((s) => [createContentSource(s, P, 1).name, s] as const))(
    '%s: fill writes its page and nothing around it',
    (_name, spec) => {
      const src = createContentSource(spec, P, 1);
      const buf = new Uint8Array(3 * P).fill(0x5a);
      for (let p = 0; p < 32; p++) src.fill(buf, P, P, p, 2);
      expect(buf.subarray(0, P).every((x) => x === 0x5a)).toBe(true);
      expect(buf.subarray(2 * P).every((x) => x === 0x5a)).toBe(true);
    },
  );

  it('fill refuses a page size other than the one the source was made for', () => {
    const src = createContentSource({ kind: 'text' }, P, 1);
    expect(() => src.fill(new Uint8Array(2 * P), 0, 2 * P, 0, 0)).toThrow(/made for 4096-byte pages/);
  });
});

describe('compressibility (lz4-napi compressSync, 4 KiB pages)', () => {
  const log: string[] = [];
  afterAll(() => console.log(`measured lz4 ratios:\n  ${log.join('\n  ')}`));

  it("'random' is incompressible (ratio ≈ 1.0)", () => {
    const { ratio } = lz4Ratio({ kind: 'random' }, 1024);
    log.push(`random: ${ratio.toFixed(3)}`);
    expect(ratio).toBeGreaterThan(0.98);
    expect(ratio).toBeLessThan(1.02);
  });

  it("'text' compresses like text (ratio between 1.8 and 4)", () => {
    const { ratio } = lz4Ratio({ kind: 'text' }, 1024);
    log.push(`text: ${ratio.toFixed(3)}`);
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(4);
  });

  it("'mix' with ratio 2.3 lands within ±15 % of 2.3, with or without same-filled and zero shares", () => {
    for (const spec of [
      { kind: 'mix', ratio: 2.3 },
      { kind: 'mix', ratio: 2.3, same: 0.1, zero: 0.05 },
    ] as ContentSpec[]) {
      for (const seed of [1, 2, 3]) {
        const { ratio, skipped } = lz4Ratio(spec, 2048, P, seed);
        log.push(`${createContentSource(spec, P, seed).name} seed ${seed}: ${ratio.toFixed(3)} (${skipped} same-filled pages left out)`);
        expect(Math.abs(ratio / 2.3 - 1)).toBeLessThan(0.15);
      }
    }
  });

  it("'mix' follows its target from 1.05 to 30 at 4, 8, 16 and 64 KiB pages (within ±10 %)", () => {
    for (const ps of [4096, 8192, 16384, 65536]) {
      const row: string[] = [];
      for (const target of [1.05, 1.2, 1.5, 2, 3, 4, 6, 10, 20, 30]) {
        const { ratio } = lz4Ratio({ kind: 'mix', ratio: target }, Math.max(64, (4 << 20) / ps), ps);
        row.push(`${target}→${ratio.toFixed(2)}`);
        expect(Math.abs(ratio / target - 1), `page ${ps}, target ${target}, got ${ratio}`).toBeLessThan(0.1);
      }
      log.push(`mix @${ps}: ${row.join(' ')}`);
    }
    expect(mixRatioRange(4096)[1]).toBeGreaterThan(30);
  });

  // Re-measures the calibration table (MIX_CURVES in content.ts): run with
  // ZRECLAIM_PRINT_MIX_CURVES=1 to print rows to paste there after an lz4-napi upgrade.
  it('mix calibration: every point of the built-in curves still matches lz4-napi (within ±5 %)', () => {
    const rows: string[] = [];
    let worst = 0;
    for (const [ps, curve] of MIX_CURVES) {
      const n = (2 << 20) / ps;
      const row: string[] = [];
      for (const [b, table] of curve) {
        let out = 0;
        for (let s = 0; s < n; s++) out += compressSync(Buffer.from(mixCalibrationPage(ps, b, s))).length;
        const measured = (ps * n) / out;
        row.push(`[${b}, ${measured.toFixed(3)}]`);
        worst = Math.max(worst, Math.abs(measured / table - 1));
      }
      rows.push(`  [${ps}, [${row.join(', ')}]],`);
      expect(mixRatioRange(ps)).toEqual([curve[0][1], curve[curve.length - 1][1]]);
    }
    if (process.env.ZRECLAIM_PRINT_MIX_CURVES) console.log(rows.join('\n'));
    expect(worst).toBeLessThan(0.05);
  });
});

describe("'file' source", () => {
  let dir: string;
  const filePage = (i: number): Uint8Array => {
    const b = new Uint8Array(P);
    for (let j = 0; j < P; j++) b[j] = (i * 31 + j * 7 + (j >> 5)) & 0xff;
    return b;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zreclaim-content-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves file page (page + version) mod n, wrapping around, stamped, ignoring a trailing partial page', () => {
    const path = join(dir, 'dump.bin');
    writeFileSync(path, Buffer.concat([filePage(0), filePage(1), filePage(2), Buffer.alloc(100, 9)]));
    const src = createContentSource({ kind: 'file', path }, P, 1);
    expect(src.name).toBe(`file:${path}`);
    const buf = new Uint8Array(P);
    for (const [p, v] of [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [0, 1],
      [2, 5],
      [1000, 77],
    ]) {
      src.fill(buf, 0, P, p, v);
      const expected = filePage((p + v) % 3);
      expect(Buffer.compare(buf.subarray(8), expected.subarray(8)), `page ${p} version ${v}`).toBe(0);
      expect(Array.from(buf.subarray(0, 8))).toEqual([p & 0xff, (p >> 8) & 0xff, 0, 0, v & 0xff, 0, 0, 0]);
    }
  });

  it('a same-filled page of the file stays same-filled and becomes unique per (page, version)', () => {
    const path = join(dir, 'zeros.bin');
    writeFileSync(path, Buffer.concat([filePage(0), Buffer.alloc(P), Buffer.alloc(P, 0x77)]));
    const src = createContentSource({ kind: 'file', path }, P, 1);
    const a = new Uint8Array(P);
    const b = new Uint8Array(P);
    src.fill(a, 0, P, 1, 0); // file page 1: zeros
    src.fill(b, 0, P, 2, 0); // file page 2: 0x77…
    expect(isSameFilled(a) && isSameFilled(b)).toBe(true);
    expect(Buffer.compare(a, b)).not.toBe(0);
  });

  const expectError = (spec: ContentSpec, code: ContentErrorCode, ...parts: RegExp[]): void => {
    let err: unknown;
    try {
      createContentSource(spec, P, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContentSourceError);
    expect((err as ContentSourceError).code).toBe(code);
    for (const re of parts) expect((err as Error).message).toMatch(re);
  };

  it('a missing file is a clear error that names the path and the fix', () => {
    const path = join(dir, 'nope.bin');
    expectError({ kind: 'file', path }, ContentErrorCode.FILE_MISSING, new RegExp(path), /content\.path/);
  });

  it('an empty file is a clear error', () => {
    const path = join(dir, 'empty.bin');
    writeFileSync(path, '');
    expectError({ kind: 'file', path }, ContentErrorCode.FILE_EMPTY, new RegExp(path), /at least one page of 4096 bytes/);
  });

  it('a file shorter than one page is a clear error that says how short and what to do', () => {
    const path = join(dir, 'short.bin');
    writeFileSync(path, Buffer.alloc(1000, 1));
    expectError(
      { kind: 'file', path },
      ContentErrorCode.FILE_SHORT,
      new RegExp(path),
      /1000 bytes, shorter than one page of 4096 bytes/,
      /smaller page size/,
    );
  });

  it('a directory is a clear error', () => {
    const path = join(dir, 'a-dir');
    mkdirSync(path);
    expectError({ kind: 'file', path }, ContentErrorCode.FILE_NOT_REGULAR, new RegExp(path), /not a regular file/);
  });
});

describe('spec errors', () => {
  it.each([
    [{ kind: 'mix', ratio: 0.5 }, /ratio must be a number ≥ 1, got 0.5/],
    [{ kind: 'mix', ratio: Number.NaN }, /ratio must be/],
    [{ kind: 'mix', ratio: 2, same: 0.7, zero: 0.5 }, /same \+ zero must be at most 1/],
    [{ kind: 'mix', ratio: 2, same: -0.1 }, /same must be a fraction/],
    [{ kind: 'bogus' }, /unknown content kind "bogus"/],
  ] as [ContentSpec, RegExp][])('%j is refused: %s', (spec, re) => {
    expect(() => createContentSource(spec, P, 1)).toThrow(re);
  });

  it('a page size that is not a power of two is refused', () => {
    expect(() => createContentSource({ kind: 'text' }, 3000, 1)).toThrow(/power of two/);
  });
});

describe('pageChecksum', () => {
  const W = P / 4;
  const words = (seed: number): Int32Array => {
    const w = new Int32Array(W);
    new Uint8Array(w.buffer).set(page({ kind: 'random' }, seed, 0, seed));
    return w;
  };

  it('flipping any one of the 32768 bits of a page changes its checksum', () => {
    const w = words(1);
    const base = pageChecksum(w, 0, W);
    for (let i = 0; i < W; i++) {
      for (let bit = 0; bit < 32; bit++) {
        w[i] ^= 1 << bit;
        if (pageChecksum(w, 0, W) === base) throw new Error(`flip of word ${i} bit ${bit} went unseen`);
        w[i] ^= 1 << bit;
      }
    }
    expect(pageChecksum(w, 0, W)).toBe(base);
  });

  it('detects a single flipped bit anywhere, in any page, at any offset (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: P, maxLength: P }),
        fc.nat({ max: P * 8 - 1 }),
        fc.nat({ max: 3 }),
        (bytes, bitIndex, slot) => {
          const arena = new Int32Array(new SharedArrayBuffer(4 * P));
          const view = new Uint8Array(arena.buffer);
          view.set(bytes, slot * P);
          const before = pageChecksum(arena, slot * W, W);
          view[slot * P + (bitIndex >> 3)] ^= 1 << (bitIndex & 7);
          return pageChecksum(arena, slot * W, W) !== before;
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('depends on where each word is: swapping two different words changes it (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: W - 1 }), fc.nat({ max: W - 1 }), fc.nat(), (i, j, seed) => {
        const w = words(seed);
        fc.pre(w[i] !== w[j]);
        const before = pageChecksum(w, 0, W);
        [w[i], w[j]] = [w[j], w[i]];
        return pageChecksum(w, 0, W) !== before;
      }),
      { numRuns: 500 },
    );
  });

  it('is a function of the words only, not of where the page sits in the arena', () => {
    const arena = new Int32Array(3 * W);
    const w = words(3);
    arena.set(w, 0);
    arena.set(w, 2 * W);
    expect(pageChecksum(arena, 0, W)).toBe(pageChecksum(arena, 2 * W, W));
    expect(pageChecksum(arena, 0, W)).toBe(pageChecksum(w, 0, W));
    expect(pageChecksum(arena, 0, W)).not.toBe(pageChecksum(arena, W, W));
    // Short and odd lengths go through the tail path.
    for (const n of [0, 1, 2, 3, 5, 7]) expect(pageChecksum(w, 0, n)).toBe(pageChecksum(arena, 2 * W, n));
  });

  it('tells pages of one content source apart: no collisions over 65536 (page, version) pairs', () => {
    const src = createContentSource({ kind: 'mix', ratio: 2.3, same: 0.2 }, P, 1);
    const buf = new Uint8Array(P);
    const w = new Int32Array(buf.buffer);
    const seen = new Set<number>();
    for (let p = 0; p < 16384; p++) {
      for (let v = 0; v < 4; v++) {
        src.fill(buf, 0, P, p, v);
        seen.add(pageChecksum(w, 0, W));
      }
    }
    // 65536 distinct pages into 2^32 values: a collision or two is possible (p ≈ 0.4),
    // more would mean the hash ignores part of the page.
    expect(seen.size).toBeGreaterThanOrEqual(65536 - 2);
  });
});
