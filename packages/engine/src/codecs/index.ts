/** The codecs, selected by name. */
import { createLz4Codec } from './lz4.js';
import { createLz4NativeCodec } from './lz4-native.js';
import { CODEC_IDS, CODEC_NAMES, type AsyncCodec, type Codec, type CodecName, type CodecOptions, type SyncCodec } from './types.js';
import { createZstdCodec } from './zstd.js';

export * from './types.js';
export { createLz4Codec } from './lz4.js';
export { createLz4NativeCodec } from './lz4-native.js';
export { createZstdCodec, type ZstdBinding, defaultThreadpoolSize, LIBUV_MAX_THREADPOOL_SIZE, ZSTD_DEFAULT_LEVEL } from './zstd.js';

export function isCodecName(name: string): name is CodecName {
  return Object.hasOwn(CODEC_IDS, name);
}

/** A new codec instance for one thread (codecs keep per-thread scratch memory and views). */
export function createCodec(name: 'lz4' | 'lz4-native', pageSize: number, opts?: CodecOptions): SyncCodec;
export function createCodec(name: 'zstd', pageSize: number, opts?: CodecOptions): AsyncCodec;
export function createCodec(name: string, pageSize: number, opts?: CodecOptions): Codec;
export function createCodec(name: string, pageSize: number, opts: CodecOptions = {}): Codec {
  if (!Number.isInteger(pageSize) || pageSize <= 0) throw new Error(`codec ${name}: page size must be a positive integer, got ${pageSize}`);
  switch (name) {
    case 'lz4':
      return createLz4Codec(pageSize);
    case 'lz4-native':
      return createLz4NativeCodec(pageSize);
    case 'zstd':
      return createZstdCodec(pageSize, opts.zstdLevel);
    default:
      throw new Error(`unknown codec ${JSON.stringify(name)}: known codecs are ${CODEC_NAMES.join(', ')}`);
  }
}
