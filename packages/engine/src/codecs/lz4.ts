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

export function createLz4Codec(pageSize: number): SyncCodec {
  const lz4 = require('lz4-napi') as Lz4Napi;
  // compressSync takes a whole Buffer: the page's view, so the input side neither copies
  // nor allocates per page; a page past the view cap is copied into `input` instead.
  const views = new PageViews(pageSize);
  const input = Buffer.allocUnsafeSlow(pageSize);
  const pageView = (src: Buffer, off: number, len: number): Buffer => {
    const v = views.get(src, off, len);
    if (v !== undefined) return v;
    if (views.pastCap(off, len)) {
      src.copy(input, 0, off, off + len);
      return input;
    }
    return src.subarray(off, off + len);
  };
  return {
    name: 'lz4',
    id: 0,
    sync: true,
    prepare: (buf, pages) => views.prepare(buf, pages),
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
