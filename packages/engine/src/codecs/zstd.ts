/**
 * `zstd`: compression by @mongodb-js/zstd (Rust zstd via napi-rs), asynchronous on libuv's
 * thread pool; decompression by fzstd (pure JS), synchronous, because a fault is served
 * inside an application thread.
 *
 * Each `compressAsync` is one request on the pool: a batch that keeps N requests in flight
 * uses up to min(N, pool size) threads at once, which is how the engine models an
 * accelerator's parallel engines. The codec never serializes requests itself.
 *
 * The frame @mongodb-js/zstd writes carries no content size, so the decoder cannot check
 * how many bytes came out: fzstd throws on a malformed frame and writes into the caller's
 * page directly (given the output buffer it allocates no window).
 */
import { createRequire } from 'node:module';
import { decompress as fzstdDecompress } from 'fzstd';
import type { AsyncCodec } from './types.js';
import { PageViews } from './views.js';

/** @mongodb-js/zstd's native binding. Its exported `compress` wrapper drops `level`; the binding honours it. */
export interface ZstdBinding {
  compress(data: Buffer, level?: number | null): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

/** zstd's own default level (ZSTD_CLEVEL_DEFAULT), what @mongodb-js/zstd's `compress` always uses. */
export const ZSTD_DEFAULT_LEVEL = 3;

/** libuv's upper bound on the pool size (MAX_THREADPOOL_SIZE, libuv ≥ 1.45; Node 20 ships 1.46). */
export const LIBUV_MAX_THREADPOOL_SIZE = 1024;

/**
 * The size of libuv's thread pool as libuv computes it when the pool starts: the number of
 * zstd "engines" (requests that compress at the same time), whatever the number in flight.
 * UV_THREADPOOL_SIZE as atoi reads it (0 or unparsable → 1, capped at 1024), default 4.
 *
 * The pool is one per process, shared by every worker thread, and starts at its first use
 * (zstd, fs, dns, crypto…). Its size is fixed from then on, so UV_THREADPOOL_SIZE must be
 * in the process's environment before that (at launch, or set in process.env by the main
 * thread before anything uses the pool; a worker's process.env is a copy and setting it
 * there does nothing). Nothing here changes it: this only reports what it is.
 */
export function defaultThreadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.UV_THREADPOOL_SIZE;
  if (v === undefined) return 4;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n === 0) return 1;
  // libuv stores atoi's result in an unsigned int: a negative number becomes huge.
  return n < 0 ? LIBUV_MAX_THREADPOOL_SIZE : Math.min(n, LIBUV_MAX_THREADPOOL_SIZE);
}

/** A class for the same reason as the lz4 codec's (see lz4.ts). */
class ZstdCodec implements AsyncCodec {
  readonly name = 'zstd' as const;
  readonly id = 2 as const;
  readonly sync = false as const;
  private readonly views: PageViews;
  private readonly output: Uint8Array;

  constructor(
    pageSize: number,
    private readonly level: number,
    private readonly zstd: ZstdBinding,
  ) {
    this.views = new PageViews(pageSize);
    this.output = new Uint8Array(pageSize);
  }

  prepare(buf: Buffer, pages: number): void {
    this.views.prepare(buf, pages);
  }

  compressAsync(src: Buffer, srcOff: number, len: number): Promise<Uint8Array> {
    // Requests in flight share no scratch memory: past the view cap, a fresh view.
    const inp = this.views.get(src, srcOff, len) ?? src.subarray(srcOff, srcOff + len);
    return this.zstd.compress(inp, this.level).then(undefined, fail);
  }

  compress(): never {
    throw new Error('zstd compresses asynchronously: use compressAsync (check codec.sync)');
  }

  decompress(src: Buffer, srcOff: number, srcLen: number, dst: Buffer, dstOff: number, outLen: number): void {
    const inp = new Uint8Array(src.buffer, src.byteOffset + srcOff, srcLen);
    let out: Uint8Array | undefined = this.views.get(dst, dstOff, outLen);
    const through = out === undefined && this.views.pastCap(dstOff, outLen);
    if (out === undefined) out = through ? this.output : new Uint8Array(dst.buffer, dst.byteOffset + dstOff, outLen);
    try {
      fzstdDecompress(inp, out);
    } catch (e) {
      fail(e);
    }
    if (through) dst.set(this.output.subarray(0, outLen), dstOff);
  }
}

/** napi-rs errors carry no JS stack; give them one, and the codec's name. */
function fail(e: unknown): never {
  throw new Error(`zstd: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** `binding` replaces @mongodb-js/zstd's (tests use it to watch the requests in flight). */
export function createZstdCodec(pageSize: number, level: number = ZSTD_DEFAULT_LEVEL, binding?: ZstdBinding): AsyncCodec {
  if (!Number.isInteger(level)) throw new Error(`zstd: level must be an integer, got ${level}`);
  return new ZstdCodec(pageSize, level, binding ?? (require('@mongodb-js/zstd/bindings') as ZstdBinding));
}
