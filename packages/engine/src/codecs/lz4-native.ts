/**
 * `lz4-native`: liblz4 (C, built by node-gyp) through node-lz4's block API. Output is a raw
 * LZ4 block, no size prefix: the page size is the decoded length.
 *
 * node-lz4 0.6.5's bindings, as lib/binding/lz4_binding.cc implements them (its README
 * describes the indices loosely):
 * - `encodeBlock(input, output, startIdx, endIdx)` compresses ALL of `input` (no input
 *   indices) into `output[startIdx, endIdx)` (LZ4_compress_default); returns the compressed
 *   length, or 0 if it does not fit (incompressible within that room).
 * - `decodeBlock(input, output, startIdx, endIdx)` decodes `input[startIdx, endIdx)` into
 *   `output` from 0 with room for all of `output` (LZ4_decompress_safe); returns the
 *   decoded length, or a negative number on malformed input. Both indices must be given
 *   together (uint32).
 * So a page goes in, and comes back out, as a Buffer view of exactly that page: the views
 * are made once per page and kept (PageViews), and compression writes into the caller's
 * reused `dst`, so nothing is allocated per page.
 */
import { createRequire } from 'node:module';
import type { SyncCodec } from './types.js';
import { PageViews } from './views.js';

interface NodeLz4 {
  encodeBlock(input: Buffer, output: Buffer, startIdx?: number, endIdx?: number): number;
  decodeBlock(input: Buffer, output: Buffer, startIdx?: number, endIdx?: number): number;
}

const require = createRequire(import.meta.url);

/** A class for the same reason as the lz4 codec's (see lz4.ts). */
class Lz4NativeCodec implements SyncCodec {
  readonly name = 'lz4-native' as const;
  readonly id = 1 as const;
  readonly sync = true as const;
  private readonly lz4 = require('lz4') as NodeLz4;
  private readonly views: PageViews;
  // For pages past the view cap: copied in (compress) or decoded here and copied out.
  private readonly input: Buffer;
  private readonly output: Buffer;

  constructor(pageSize: number) {
    this.views = new PageViews(pageSize);
    this.input = Buffer.allocUnsafeSlow(pageSize);
    this.output = Buffer.allocUnsafeSlow(pageSize);
  }

  prepare(buf: Buffer, pages: number): void {
    this.views.prepare(buf, pages);
  }

  compress(src: Buffer, srcOff: number, len: number, dst: Buffer): number {
    let inp = this.views.get(src, srcOff, len);
    if (inp === undefined) {
      if (this.views.pastCap(srcOff, len)) {
        src.copy(this.input, 0, srcOff, srcOff + len);
        inp = this.input;
      } else {
        inp = src.subarray(srcOff, srcOff + len);
      }
    }
    // Room for less than the page: output that does not shrink it is of no use (the
    // store keeps such a page as it is), and liblz4 gives up early on it.
    const room = Math.min(dst.length, len - 1);
    if (room <= 0) return -1;
    const n = this.lz4.encodeBlock(inp, dst, 0, room);
    return n > 0 ? n : -1;
  }

  decompress(src: Buffer, srcOff: number, srcLen: number, dst: Buffer, dstOff: number, outLen: number): void {
    let out = this.views.get(dst, dstOff, outLen);
    const through = out === undefined && this.views.pastCap(dstOff, outLen);
    if (out === undefined) out = through ? this.output : dst.subarray(dstOff, dstOff + outLen);
    const n = this.lz4.decodeBlock(src, out, srcOff, srcOff + srcLen);
    if (n < 0) throw new Error(`lz4-native: malformed block at input offset ${-n}`);
    if (n !== outLen) throw new Error(`lz4-native: decompressed ${n} bytes, expected ${outLen}`);
    if (through) this.output.copy(dst, dstOff, 0, outLen);
  }
}

export function createLz4NativeCodec(pageSize: number): SyncCodec {
  return new Lz4NativeCodec(pageSize);
}
