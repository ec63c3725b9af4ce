/**
 * The codecs side by side on one thread, on the same 16384 `mix` pages (lz4 ratio 2.3, no
 * same-filled or zero pages), as the store calls them:
 * - lz4         lz4-napi compressOwned (a new Buffer per page), uncompressSync (+ copy)
 * - lz4-native  liblz4 encodeBlock into one reused buffer, decodeBlock into the page
 * - zstd/N      @mongodb-js/zstd, batches of N compressAsync started together and awaited
 *               together (how a compression worker's batch keeps requests in flight; they
 *               run on libuv's pool, UV_THREADPOOL_SIZE threads); fzstd decompresses
 * Compressed pages are packed into one pool buffer, decompressed into a second arena and
 * checked against the first. Each figure is the median of `runs` rounds, the codecs
 * interleaved within a round. Not a test: quote the figures with the machine line.
 *
 *   node scripts/dist/bench-codecs.js [pages] [runs]
 */
import os from 'node:os';
import { createCodec } from '@zreclaim/engine/internal';
import { createContentSource } from '@zreclaim/workloads';
import { median } from './bench-drain.js';

const PS = 4096;

export interface CodecFigure {
  variant: string;
  /** Median µs per page, compress and decompress. */
  compressUs: number;
  decompressUs: number;
  /** Bytes in / bytes out (huge pages counted at the page size). */
  ratio: number;
}

export function codecMachineLine(): string {
  const uv = process.env.UV_THREADPOOL_SIZE;
  return (
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, availableParallelism ${os.availableParallelism()}, Node ${process.version}, ` +
    `UV_THREADPOOL_SIZE ${uv ?? 'unset (libuv default 4)'}`
  );
}

interface Pool {
  buf: Buffer;
  off: Int32Array;
  len: Int32Array;
}

interface Variant {
  name: string;
  /** Compress every page into `pool`; returns seconds. */
  compress(arena: Buffer, pages: number, pool: Pool): Promise<number>;
  /** Decompress every page of `pool` into `out`; returns seconds. */
  decompress(pool: Pool, pages: number, out: Buffer): number;
}

function syncVariant(name: 'lz4' | 'lz4-native'): Variant {
  const codec = createCodec(name, PS);
  const dst = Buffer.allocUnsafeSlow(PS + 64);
  return {
    name,
    async compress(arena, pages, pool) {
      let at = 0;
      const t0 = performance.now();
      for (let p = 0; p < pages; p++) {
        let len: number;
        if (codec.compressOwned) {
          const c = codec.compressOwned(arena, p * PS, PS);
          len = c.length;
          if (len < PS) pool.buf.set(c, at);
        } else {
          len = codec.compress(arena, p * PS, PS, dst);
          if (len > 0 && len < PS) dst.copy(pool.buf, at, 0, len);
        }
        if (len < 0 || len >= PS) {
          // Kept as it is, as the store keeps a huge page.
          len = PS;
          arena.copy(pool.buf, at, p * PS, p * PS + PS);
        }
        pool.off[p] = at;
        pool.len[p] = len;
        at += len;
      }
      return (performance.now() - t0) / 1000;
    },
    decompress: (pool, pages, out) => decompressAll(codec, pool, pages, out),
  };
}

function zstdVariant(inFlight: number): Variant {
  const codec = createCodec('zstd', PS);
  return {
    name: `zstd/${inFlight}`,
    async compress(arena, pages, pool) {
      let at = 0;
      const t0 = performance.now();
      for (let first = 0; first < pages; first += inFlight) {
        const n = Math.min(inFlight, pages - first);
        const reqs: Promise<Uint8Array>[] = new Array(n);
        for (let i = 0; i < n; i++) reqs[i] = codec.compressAsync(arena, (first + i) * PS, PS);
        const outs = await Promise.all(reqs);
        for (let i = 0; i < n; i++) {
          const p = first + i;
          let len = outs[i].length;
          if (len >= PS) {
            len = PS;
            arena.copy(pool.buf, at, p * PS, p * PS + PS);
          } else {
            pool.buf.set(outs[i], at);
          }
          pool.off[p] = at;
          pool.len[p] = len;
          at += len;
        }
      }
      return (performance.now() - t0) / 1000;
    },
    decompress: (pool, pages, out) => decompressAll(codec, pool, pages, out),
  };
}

function decompressAll(codec: ReturnType<typeof createCodec>, pool: Pool, pages: number, out: Buffer): number {
  const t0 = performance.now();
  for (let p = 0; p < pages; p++) {
    const len = pool.len[p];
    if (len === PS) pool.buf.copy(out, p * PS, pool.off[p], pool.off[p] + PS);
    else codec.decompress(pool.buf, pool.off[p], len, out, p * PS, PS);
  }
  return (performance.now() - t0) / 1000;
}

export async function benchCodecs(opts: { pages?: number; runs?: number; inFlight?: number[] } = {}): Promise<CodecFigure[]> {
  const pages = opts.pages ?? 16384;
  const runs = opts.runs ?? 3;
  const arena = Buffer.from(new SharedArrayBuffer(pages * PS));
  const content = createContentSource({ kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, PS, 11);
  for (let p = 0; p < pages; p++) content.fill(arena, p * PS, PS, p, 1);
  const out = Buffer.from(new SharedArrayBuffer(pages * PS));
  const pool: Pool = { buf: Buffer.allocUnsafeSlow(pages * PS), off: new Int32Array(pages), len: new Int32Array(pages) };
  const variants = [syncVariant('lz4'), syncVariant('lz4-native'), ...(opts.inFlight ?? [1, 8, 32, 128]).map(zstdVariant)];

  // Warm-up: JIT, bindings loaded, libuv's pool started.
  const warm = Math.min(pages, 1024);
  for (const v of variants) {
    await v.compress(arena, warm, pool);
    v.decompress(pool, warm, out);
  }

  const samples = new Map(variants.map((v) => [v.name, { c: [] as number[], d: [] as number[], ratio: 0 }]));
  for (let r = 0; r < runs; r++) {
    for (const v of variants) {
      const s = samples.get(v.name)!;
      out.fill(0);
      s.c.push(await v.compress(arena, pages, pool));
      s.d.push(v.decompress(pool, pages, out));
      if (!out.equals(arena)) throw new Error(`${v.name}: decompressed pages differ from the originals`);
      let bytes = 0;
      for (let p = 0; p < pages; p++) bytes += pool.len[p];
      s.ratio = (pages * PS) / bytes;
    }
  }
  return variants.map((v) => {
    const s = samples.get(v.name)!;
    return { variant: v.name, compressUs: (median(s.c) * 1e6) / pages, decompressUs: (median(s.d) * 1e6) / pages, ratio: s.ratio };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pages = Number(process.argv[2] ?? 16384);
  const runs = Number(process.argv[3] ?? 3);
  console.log(`bench-codecs — ${codecMachineLine()}`);
  console.log(`${pages} mix pages (ratio 2.3) of ${PS} B, one thread, median of ${runs} runs`);
  const rows = await benchCodecs({ pages, runs });
  const k = (n: number) => `${Math.round(1e6 / n / 1000)}k`.padStart(6);
  console.log('variant       compress µs/page  pages/s   decompress µs/page  pages/s   ratio');
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(12)}  ${r.compressUs.toFixed(2).padStart(16)}  ${k(r.compressUs)}   ${r.decompressUs.toFixed(2).padStart(18)}  ${k(r.decompressUs)}   ${r.ratio.toFixed(2)}`,
    );
  }
}
