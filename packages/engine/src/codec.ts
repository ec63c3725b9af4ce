/**
 * Codecs behind one small interface: compress a page into a caller-provided buffer and
 * return the length, decompress into a caller-provided page. A codec that can work without
 * allocating per page does so; lz4-napi cannot (compressSync returns a new Buffer), so its
 * adapter copies that Buffer into the caller's — the cost of that allocation is part of what
 * the drain benchmark measures.
 */
import { createRequire } from 'node:module';

export interface Codec {
  readonly name: string;
  /**
   * Compress `len` bytes of `src` from `srcOff` into `dst` from 0. Returns the compressed
   * length, or -1 if it does not fit in `dst` (the caller treats the page as incompressible).
   * Throws on a codec failure (the caller counts reject_compress_fail).
   */
  compress(src: Buffer, srcOff: number, len: number, dst: Buffer): number;
  /**
   * For a codec that can only hand back memory of its own (lz4-napi returns a new Buffer):
   * the compressed page, valid until the next call. The store then copies it straight into
   * the pool instead of through `compress`'s buffer, saving one copy. Optional.
   */
  compressOwned?(src: Buffer, srcOff: number, len: number): Uint8Array;
  /** Decompress `srcLen` bytes of `src` from `srcOff` into `dst` at `dstOff`; exactly `outLen` bytes must come out. */
  decompress(src: Buffer, srcOff: number, srcLen: number, dst: Buffer, dstOff: number, outLen: number): void;
}

interface Lz4Napi {
  compressSync(b: Buffer): Buffer;
  uncompressSync(b: Buffer): Buffer;
}

const require = createRequire(import.meta.url);

/** lz4-napi (lz4_flex): output carries a 4-byte size prefix, as lz4-napi writes it. */
export function createLz4Codec(pageSize: number): Codec {
  const lz4 = require('lz4-napi') as Lz4Napi;
  // compressSync takes a whole Buffer: one view per page of the source, made on first use
  // and kept, so the input side neither copies nor allocates per page. A view costs ~108 B;
  // past MAX_VIEWS pages (1 GiB of 4 KiB pages) the page is copied into `input` instead.
  const MAX_VIEWS = 1 << 18;
  const input = Buffer.allocUnsafeSlow(pageSize);
  let viewsOf: Buffer | undefined;
  let views: Buffer[] = [];
  const pageView = (src: Buffer, off: number, len: number): Buffer => {
    if (src !== viewsOf) {
      viewsOf = src;
      views = [];
    }
    const i = off / pageSize;
    if (len !== pageSize || !Number.isInteger(i)) return src.subarray(off, off + len);
    if (i >= MAX_VIEWS) {
      src.copy(input, 0, off, off + len);
      return input;
    }
    return (views[i] ??= src.subarray(off, off + len));
  };
  return {
    name: 'lz4',
    compressOwned(src, srcOff, len) {
      return lz4.compressSync(pageView(src, srcOff, len));
    },
    compress(src, srcOff, len, dst) {
      const out = lz4.compressSync(pageView(src, srcOff, len));
      if (out.length > dst.length) return -1;
      out.copy(dst, 0);
      return out.length;
    },
    decompress(src, srcOff, srcLen, dst, dstOff, outLen) {
      const out = lz4.uncompressSync(src.subarray(srcOff, srcOff + srcLen));
      if (out.length !== outLen) throw new Error(`lz4: decompressed ${out.length} bytes, expected ${outLen}`);
      out.copy(dst, dstOff);
    },
  };
}

export function createCodec(name: string, pageSize: number): Codec {
  switch (name) {
    case 'lz4':
      return createLz4Codec(pageSize);
    default:
      throw new Error(`unknown codec ${name}`);
  }
}
