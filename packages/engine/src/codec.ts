/**
 * Codecs behind one small interface (see codecs/types.ts): `lz4` (lz4-napi), `lz4-native`
 * (liblz4 through node-lz4, allocating nothing per page) and `zstd` (@mongodb-js/zstd on
 * libuv's pool, asynchronous; fzstd to decompress). This module is the entry point; the
 * codecs live in codecs/.
 */
export * from './codecs/index.js';
