/**
 * The codec interface. A codec compresses one page at a time and decompresses into a
 * caller-provided page. Decompression is always synchronous: a fault happens inside an
 * application thread, which cannot wait for an event loop turn. Compression is either
 * synchronous (`SyncCodec`: into a caller-provided buffer, or into memory of its own) or
 * asynchronous (`AsyncCodec`: a promise per page, many in flight at once — how the engine
 * models an accelerator's parallel engines). Narrow on `sync`.
 */

/**
 * Every codec's small numeric id: stable, recorded with each stored object (the store keeps
 * it beside the object's length) so a fault decodes an object with the codec that wrote it.
 */
export const CODEC_IDS = { lz4: 0, 'lz4-native': 1, zstd: 2 } as const;
export type CodecName = keyof typeof CODEC_IDS;
export type CodecId = (typeof CODEC_IDS)[CodecName];
/** Codec names, indexed by id. */
export const CODEC_NAMES: readonly CodecName[] = ['lz4', 'lz4-native', 'zstd'];

interface CodecBase {
  readonly name: CodecName;
  readonly id: CodecId;
  /**
   * Make this codec's per-page views of `buf` (the arena: pages in, pages out) now, once,
   * rather than on each page's first use. Optional: a codec that needs no views has none.
   */
  prepare?(buf: Buffer, pages: number): void;
  /**
   * Decompress `srcLen` bytes of `src` from `srcOff` into `dst` at `dstOff`; exactly
   * `outLen` bytes must come out (a codec that can tell otherwise throws). Synchronous.
   */
  decompress(src: Buffer, srcOff: number, srcLen: number, dst: Buffer, dstOff: number, outLen: number): void;
}

export interface SyncCodec extends CodecBase {
  readonly sync: true;
  /**
   * Compress `len` bytes of `src` from `srcOff` into `dst` from 0. Returns the compressed
   * length, or -1 if it does not fit in `dst` (the caller treats the page as incompressible;
   * a codec may also return -1 when the output would not be smaller than `len`).
   * Throws on a codec failure (the caller counts reject_compress_fail).
   */
  compress(src: Buffer, srcOff: number, len: number, dst: Buffer): number;
  /**
   * For a codec that can only hand back memory of its own (lz4-napi returns a new Buffer):
   * the compressed page, valid until the next call. The store then copies it straight into
   * the pool instead of through `compress`'s buffer, saving one copy. Optional.
   */
  compressOwned?(src: Buffer, srcOff: number, len: number): Uint8Array;
  readonly compressAsync?: undefined;
}

export interface AsyncCodec extends CodecBase {
  readonly sync: false;
  /**
   * Compress `len` bytes of `src` from `srcOff`; resolves to the compressed bytes (new
   * memory, the caller's to keep), rejects on a codec failure. The source bytes must stay
   * unchanged until it settles. Callers keep several requests in flight at once: the codec
   * does not serialize them.
   */
  compressAsync(src: Buffer, srcOff: number, len: number): Promise<Uint8Array>;
  /**
   * Always throws: this codec cannot compress synchronously. Declared so that code written
   * for synchronous codecs still type-checks against `Codec`; narrow on `sync` instead.
   */
  compress(src: Buffer, srcOff: number, len: number, dst: Buffer): never;
  readonly compressOwned?: undefined;
}

export type Codec = SyncCodec | AsyncCodec;

export interface CodecOptions {
  /**
   * zstd compression level (default 3, zstd's own default). @mongodb-js/zstd's exported
   * `compress` drops its level argument; this codec calls the binding, which honours it.
   */
  zstdLevel?: number;
}
