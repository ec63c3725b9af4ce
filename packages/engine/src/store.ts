/**
 * The zram-like store, as seen from one thread: swap a held page out into the compressed
 * pool (zram_write_page), bring it back on a fault (zram_read_page), free its slot on unmap
 * (zram_slot_free_notify). The caller holds the page (ISOLATED to store, LOCKED to load or
 * free) and moves the page-table state itself; the store keeps the slot table, the pool and
 * the mm_stat gauges in step.
 *
 * A stored object records which codec wrote it in the top byte of its slot length
 * (length = bytes | codecId << 24): compression workers may use an asynchronous codec
 * (zstd) while threads that must compress synchronously (direct reclaim, kswapd when the
 * ring is full) use a synchronous one, and a fault decodes each object with its own.
 */
import { CODEC_IDS, createCodec, type Codec } from './codec.js';
import type { Config } from './config.js';
import type { Mm } from './mm.js';

export const StoreResult = {
  /** Compressed into the pool (or stored as a huge page). */
  STORED: 0,
  /** Every 8-byte word equal: only the fill word is kept. */
  SAME_FILLED: 1,
  /** Not stored: the codec failed; the page stays resident. */
  REJECTED: 2,
  /** Not stored: the pool is full (mem_limit or the RAM budget); the page stays resident. */
  NO_SPACE: 3,
} as const;
export type StoreResult = (typeof StoreResult)[keyof typeof StoreResult];

const LEN_MASK = 0xffffff;
const CODEC_SHIFT = 24;

/** Bytes of a stored object from its slot-table length word. */
export function slotBytes(lengthWord: number): number {
  return lengthWord & LEN_MASK;
}

/** Poison written over a stored page's bytes (when config.poison), so a fault that skips the store shows. */
const POISON = 0x5a5a5a5a;

export class ZramStore {
  private readonly fill = new Int32Array(2);
  /** Codec output, reused for every page (compress() writes here). */
  readonly scratch: Buffer;
  /** The same memory as a plain Uint8Array: its subarray views are cheaper than a Buffer's. */
  readonly scratchBytes: Uint8Array;
  /** An object straddling two pool pages is copied here before decompression. */
  private readonly tmp: Buffer;
  private readonly hugeThreshold: number;
  private readonly poolBuf: () => Buffer;

  /**
   * @param codec the synchronous codec this thread compresses with
   * @param decoder the codec that decodes objects written by codec id `id`
   */
  constructor(
    private readonly mm: Mm,
    private readonly codec: Codec,
    private readonly decoder: (id: number) => Codec,
    opts: { hugeThreshold: number; poison: boolean },
  ) {
    const ps = mm.pageSize;
    this.scratch = Buffer.allocUnsafeSlow(ps + 64);
    this.scratchBytes = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
    this.tmp = Buffer.allocUnsafeSlow(ps + 64);
    this.hugeThreshold = Math.floor(ps * opts.hugeThreshold);
    this.poison = opts.poison;
    // The pool's data view can be replaced when its buffer grows: rebuild the Buffer then.
    let cached: Buffer | undefined;
    let cachedFor: Uint8Array | undefined;
    this.poolBuf = () => {
      const d = mm.pool.data;
      if (d !== cachedFor || cached === undefined || cached.length !== d.length) {
        cached = Buffer.from(d.buffer, d.byteOffset, d.length);
        cachedFor = d;
      }
      return cached;
    };
  }

  private readonly poison: boolean;

  /**
   * swapOut's counter deltas, published by flushStats(): reclaim stores pages in slices and
   * publishes once per slice (like per-cpu vmstat deltas folded into the global counters),
   * so readers on other threads may be late by one slice. The fault and unmap paths
   * (swapIn, freeSlot) publish at once.
   */
  private pendStored = 0;
  private pendSame = 0;
  private pendHuge = 0;
  private pendCompr = 0;

  flushStats(): void {
    const { vm, ev } = this.mm;
    if (this.pendStored === 0) return;
    vm.add(ev.pswpout, this.pendStored);
    vm.add(ev.orig_data_size, this.pendStored * this.mm.pageSize);
    vm.add(ev.same_pages, this.pendSame);
    vm.add(ev.huge_pages, this.pendHuge);
    vm.add(ev.compr_data_size, this.pendCompr);
    this.pendStored = this.pendSame = this.pendHuge = this.pendCompr = 0;
  }

  /**
   * Store a page the caller holds ISOLATED, compressing it synchronously on this thread
   * (then flushStats() to publish the counters). On REJECTED/NO_SPACE nothing changed.
   */
  swapOut(page: number): StoreResult {
    if (this.trySameFilled(page)) return StoreResult.SAME_FILLED;
    const mm = this.mm;
    const off = mm.arena.offset(page);
    const t0 = performance.now();
    let len: number;
    let src: Uint8Array = this.scratchBytes;
    try {
      if (this.codec.compressOwned) {
        src = this.codec.compressOwned(mm.arenaBuf, off, mm.pageSize);
        len = src.length;
      } else {
        len = this.codec.compress!(mm.arenaBuf, off, mm.pageSize, this.scratch);
      }
    } catch {
      mm.vm.inc(mm.ev.reject_compress_fail);
      return StoreResult.REJECTED;
    }
    mm.h.compress.record((performance.now() - t0) * 1e6);
    return this.storeCompressed(page, src, len, this.codec.id);
  }

  /** zram's same-filled check: if the page is one repeated 8-byte word, keep only that. */
  trySameFilled(page: number): boolean {
    const mm = this.mm;
    if (!mm.arena.sameFilled(page, this.fill)) return false;
    mm.slots.set(page, this.fill[0], this.fill[1]);
    this.pendSame++;
    this.pendStored++;
    return true;
  }

  /**
   * Store a held page whose compressed bytes are `src[0, len)` (len < 0: incompressible),
   * written by codec `codecId`: a huge page if it did not compress enough, else a pool
   * object. The arena's page is poisoned once its copy is in the pool.
   */
  storeCompressed(page: number, src: Uint8Array, len: number, codecId: number, poison = true): StoreResult {
    const mm = this.mm;
    const ps = mm.pageSize;
    const off = mm.arena.offset(page);
    let srcOff = 0;
    // len ≥ pageSize must be huge too: the slot table tells a huge page by its length.
    if (len < 0 || len >= ps || len > this.hugeThreshold) {
      // zram: a huge page is stored as it is (ZRAM_HUGE).
      len = ps;
      src = mm.arena.bytes;
      srcOff = off;
    }
    const handle = mm.pool.alloc(len);
    if (handle < 0) {
      mm.vm.inc(mm.ev.reject_alloc_fail);
      return StoreResult.NO_SPACE;
    }
    mm.pool.write(handle, src, srcOff, len);
    mm.slots.set(page, handle, len | (codecId << CODEC_SHIFT));
    if (len === ps) this.pendHuge++;
    this.pendStored++;
    this.pendCompr += len;
    if (poison) this.poisonPage(page);
    return StoreResult.STORED;
  }

  /** Overwrite a stored page's bytes (config.poison), so a fault that skips the store shows. */
  poisonPage(page: number): void {
    if (!this.poison) return;
    const off = this.mm.arena.offset(page);
    this.mm.arena.words.fill(POISON, off >> 2, (off + this.mm.pageSize) >> 2);
  }

  /** Bring back a page the caller holds LOCKED (it was SWAPPED or SAME_FILLED), and free its slot. */
  swapIn(page: number, sameFilled: boolean): void {
    const mm = this.mm;
    const ps = mm.pageSize;
    const handle = mm.slots.handle[page];
    const word = mm.slots.length[page];
    if (sameFilled) {
      mm.arena.fillPage(page, handle, word);
    } else {
      const off = mm.arena.offset(page);
      const len = slotBytes(word);
      if (len === ps) {
        mm.pool.read(handle, mm.arena.bytes, off, ps);
      } else {
        const codec = this.decoder(word >>> CODEC_SHIFT);
        const at = mm.pool.contiguousOffset(handle, len);
        if (at >= 0) {
          codec.decompress(this.poolBuf(), at, len, mm.arenaBuf, off, ps);
        } else {
          mm.pool.read(handle, this.tmp, 0, len);
          codec.decompress(this.tmp, 0, len, mm.arenaBuf, off, ps);
        }
      }
    }
    this.freeSlot(page, sameFilled);
  }

  /**
   * Free a stored page's slot (swap-in done, or the page was unmapped): zram's
   * slot_free, counted as notify_free as zram_slot_free_notify counts both cases.
   */
  freeSlot(page: number, sameFilled: boolean): void {
    const mm = this.mm;
    const ev = mm.ev;
    const vm = mm.vm;
    const ps = mm.pageSize;
    if (sameFilled) {
      vm.add(ev.same_pages, -1);
    } else {
      const len = slotBytes(mm.slots.length[page]);
      mm.pool.free(mm.slots.handle[page]);
      vm.add(ev.compr_data_size, -len);
      if (len === ps) vm.add(ev.huge_pages, -1);
    }
    vm.add(ev.orig_data_size, -ps);
    vm.inc(ev.notify_free);
    mm.slots.clear(page);
  }
}

/** The synchronous codec a thread that must not wait compresses with when the configured one is asynchronous. */
export const SYNC_FALLBACK_CODEC = 'lz4';

/**
 * This thread's store: it compresses synchronously with the configured codec, or with
 * SYNC_FALLBACK_CODEC when that one is asynchronous (zstd: direct reclaim in an application,
 * kswapd when every ring is full), and decodes every object with the codec that wrote it.
 */
export function createStore(mm: Mm, c: Config): ZramStore {
  const names = Object.keys(CODEC_IDS) as (keyof typeof CODEC_IDS)[];
  const byId: Codec[] = [];
  const decoder = (id: number): Codec => {
    const name = names.find((n) => CODEC_IDS[n] === id);
    if (name === undefined) throw new Error(`slot tagged with unknown codec id ${id}`);
    return (byId[id] ??= createCodec(name, c.pageSize));
  };
  let codec = createCodec(c.codec, c.pageSize);
  if (!codec.sync) codec = createCodec(SYNC_FALLBACK_CODEC, c.pageSize);
  byId[codec.id] = codec;
  return new ZramStore(mm, codec, decoder, { hugeThreshold: c.store.hugeThreshold, poison: c.poison });
}
