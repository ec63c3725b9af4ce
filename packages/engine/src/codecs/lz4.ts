/**
 * `lz4`: lz4-napi (lz4_flex), synchronous. Its output carries a 4-byte size prefix, as
 * lz4-napi writes it, so it is not a raw LZ4 block: `lz4-native` cannot decode it.
 * lz4-napi cannot compress into memory of the caller's (compressSync returns a new Buffer),
 * so the adapter offers `compressOwned`; the cost of that allocation is part of what the
 * drain benchmark measures.
 */
import { createRequire } from 'node:module';
import type { SyncCodec } from './types.js';
import { PageViews } from './views.js';

interface Lz4Napi {
  compressSync(b: Buffer): Buffer;
  uncompressSync(b: Buffer): Buffer;
}

const require = createRequire(import.meta.url);

/** One compressSync and one uncompressSync output, kept for the thread's life (see the constructor). */
let SAMPLES: Buffer[] | undefined;

/**
 * A class, not an object of closures: its methods are one set of functions for every
 * instance, so code optimized around a call to them stays valid when a run's codec is
 * replaced by the next run's (see warm.ts).
 */
class Lz4Codec implements SyncCodec {
  readonly name = 'lz4' as const;
  readonly id = 0 as const;
  readonly sync = true as const;
  private readonly lz4 = require('lz4-napi') as Lz4Napi;
  // compressSync takes a whole Buffer: the page's view, so the input side neither copies
  // nor allocates per page; a page past the view cap is copied into `input` instead.
  private readonly views: PageViews;
  private readonly input: Buffer;

  constructor(pageSize: number) {
    this.views = new PageViews(pageSize);
    this.input = Buffer.allocUnsafeSlow(pageSize);
    // The Buffers lz4-napi returns get their map when their prototype is set; V8 keeps that
    // map only while one of them lives. Every output dies with its run, so keep one of each
    // kind for the thread's life, or the store's optimized copy code is thrown away after
    // every run (see warm.ts).
    if (SAMPLES === undefined) {
      const sample = this.lz4.compressSync(Buffer.alloc(64));
      SAMPLES = [sample, this.lz4.uncompressSync(sample)];
    }
  }

  prepare(buf: Buffer, pages: number): void {
    this.views.prepare(buf, pages);
  }

  private pageView(src: Buffer, off: number, len: number): Buffer {
    const v = this.views.get(src, off, len);
    if (v !== undefined) return v;
    if (this.views.pastCap(off, len)) {
      src.copy(this.input, 0, off, off + len);
      return this.input;
    }
    return src.subarray(off, off + len);
  }

  compressOwned(src: Buffer, srcOff: number, len: number): Uint8Array {
    return this.lz4.compressSync(this.pageView(src, srcOff, len));
  }

  compress(src: Buffer, srcOff: number, len: number, dst: Buffer): number {
    const out = this.lz4.compressSync(this.pageView(src, srcOff, len));
    if (out.length > dst.length) return -1;
    out.copy(dst, 0);
    return out.length;
  }

  decompress(src: Buffer, srcOff: number, srcLen: number, dst: Buffer, dstOff: number, outLen: number): void {
    const out = this.lz4.uncompressSync(src.subarray(srcOff, srcOff + srcLen));
    if (out.length !== outLen) throw new Error(`lz4: decompressed ${out.length} bytes, expected ${outLen}`);
    out.copy(dst, dstOff);
  }
}

export function createLz4Codec(pageSize: number): SyncCodec {
  return new Lz4Codec(pageSize);
}
