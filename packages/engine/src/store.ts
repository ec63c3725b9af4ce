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
 *
 * zswap mode (store.mode): a huge page is rejected (reject_compress_poor) instead of stored
 * as is; every pool entry is on a shared LRU (mm.lru), and a store that finds the pool full
 * first writes back its oldest entries, decompressed, to the backing file (zswap's
 * writeback, done by the storing thread as zswap did before its shrink worker). A
 * written-back page stays SWAPPED; its slot says ON_DISK and names its swap slot in the
 * file, and a fault reads it from there.
 *
 * Slot freeing (freeSlot: a fault brought the page back, or it was unmapped) is immediate
 * with gc: sync; with gc: async a pool object's handle is queued (mm.gc) and the GC worker
 * frees it later (releaseObjects), unless the queue's byte cap is reached.
 */
import { readSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HistogramDeltas, PageState, STATE_MASK } from '@zreclaim/shm';
import { CODEC_IDS, createCodec, type Codec } from './codec.js';
import { spinFor, type Config } from './config.js';
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

/** Most pages compressBatch takes at once. */
export const BATCH_MAX = 64;
const EMPTY = new Uint8Array(0);

const LEN_MASK = 0xffffff;
const CODEC_SHIFT = 24;
/** Codec tag of a zswap page written back to the backing file; its handle is its swap slot. */
const ON_DISK = 0x7f;
/** zswap_accept_thr_percent: writeback goes on until the pool is this far under its cap. */
const ACCEPT_THRESHOLD = 0.9;
/** Most entries one store writes back before it gives up on making room. */
const WRITEBACK_MAX = 256;

/** Bytes of a stored object from its slot-table length word. */
export function slotBytes(lengthWord: number): number {
  return lengthWord & LEN_MASK;
}

/** Whether a SWAPPED page's slot length word says it was written back to the zswap file. */
export function onDisk(lengthWord: number): boolean {
  return lengthWord >>> CODEC_SHIFT === ON_DISK;
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
  /** zswap: a decompressed entry on its way to the backing file. */
  private wbPage: Buffer | undefined;

  constructor(
    private readonly mm: Mm,
    readonly codec: Codec,
    private readonly decoder: (id: number) => Codec,
    opts: { hugeThreshold: number; poison: boolean; compressSpinNs?: number },
  ) {
    this.spinNs = opts.compressSpinNs ?? 0;
    this.compressLat = new HistogramDeltas(mm.h.compress);
    codec.prepare?.(mm.arenaBuf, mm.pages);
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
  /** Injected busy work per compressed page (config inject.compressSpinNs), 0 = none. */
  readonly spinNs: number;

  /**
   * Pages stored since the last flushStats(), for pswpout: reclaim stores pages in slices and
   * publishes this event count once per slice (like per-cpu vmstat deltas folded into the
   * global counters), so readers on other threads may be late by one slice. The mm_stat
   * gauges are not: a store adds a page to them at once (countStored), before its caller
   * publishes the page, as zram_write_page updates its atomics before the slot is visible.
   * Another thread may fault the page in or unmap it the moment it is published, and its
   * decrement must find the increment already there (see CounterSet's gauges).
   */
  private pendStored = 0;
  /** swapOut's compress latencies, published with pswpout. */
  private readonly compressLat: HistogramDeltas;

  flushStats(): void {
    this.compressLat.publish();
    if (this.pendStored === 0) return;
    this.mm.vm.add(this.mm.ev.pswpout, this.pendStored);
    this.pendStored = 0;
  }

  /** A page is in the store: its gauges now (mm_stat), its pswpout at flushStats(). `len` −1: same-filled. */
  private countStored(len: number): void {
    const { vm, ev } = this.mm;
    const ps = this.mm.pageSize;
    vm.add(ev.orig_data_size, ps);
    if (len < 0) vm.inc(ev.same_pages);
    else {
      vm.add(ev.compr_data_size, len);
      if (len === ps) vm.inc(ev.huge_pages);
    }
    this.pendStored++;
  }

  /**
   * Store a page the caller holds ISOLATED, compressing it synchronously on this thread
   * (its gauges are counted at once; flushStats() publishes pswpout). On REJECTED/NO_SPACE nothing changed.
   */
  swapOut(page: number): StoreResult {
    if (this.trySameFilled(page)) return StoreResult.SAME_FILLED;
    const mm = this.mm;
    const off = mm.arena.offset(page);
    const t0 = performance.now();
    let len: number;
    try {
      len = this.compressPage(off, this.scratch);
    } catch {
      mm.vm.inc(mm.ev.reject_compress_fail);
      return StoreResult.REJECTED;
    }
    if (this.spinNs > 0) spinFor(this.spinNs);
    this.compressLat.record((performance.now() - t0) * 1e6);
    return this.storeCompressed(page, this.out, len, this.codec.id);
  }

  /** The bytes compressPage left: the codec's own memory, or the `dst` it was given. */
  private out: Uint8Array = EMPTY;

  /**
   * Run the codec on the page at arena offset `off`: into `dst`, or into memory of its own
   * (compressOwned). Returns the length (−1: did not fit); the bytes are in `this.out`.
   * Throws on a codec failure.
   */
  private compressPage(off: number, dst: Buffer): number {
    const { codec, mm } = this;
    if (codec.compressOwned) {
      const own = codec.compressOwned(mm.arenaBuf, off, mm.pageSize);
      this.out = own;
      return own.length;
    }
    this.out = dst;
    return codec.compress!(mm.arenaBuf, off, mm.pageSize, dst);
  }

  /** compressBatch's compressed outputs and their lengths, slot k for the batch's page k. */
  private readonly batchOut: Uint8Array[] = new Array<Uint8Array>(BATCH_MAX).fill(EMPTY);
  private readonly batchLen = new Int32Array(BATCH_MAX);
  /** Fill words of the batch's same-filled pages (low, high). */
  private readonly batchFill = new Int32Array(2 * BATCH_MAX);
  /** For a codec that compresses into the caller's memory: one scratch page per slot. */
  private readonly batchScratch: Buffer[] = [];

  /**
   * The first half of storing a batch of pages the caller holds ISOLATED (at most
   * BATCH_MAX), as shrink_folio_list takes its isolated folios and zswap a batch: same-filled
   * pages are found and the others compressed back to back, all kept for storeBatched;
   * nothing is stored yet. Back to back, one clock read a page times them all (a page's compress latency is the time
   * between the reads around its codec call), where swapOut needs two: on this machine
   * those reads cost ~5 % of an inline drain. `result[k]` gets SAME_FILLED (one repeated
   * word), REJECTED (the codec failed) or STORED (compressed).
   */
  compressBatch(pages: Int32Array, n: number, result: Uint8Array): void {
    const mm = this.mm;
    const ps = mm.pageSize;
    const outs = this.batchOut;
    const lens = this.batchLen;
    const fill = this.batchFill;
    for (let k = 0; k < n; k++) {
      result[k] = mm.arena.sameFilled(pages[k], this.fill) ? StoreResult.SAME_FILLED : StoreResult.STORED;
      fill[2 * k] = this.fill[0];
      fill[2 * k + 1] = this.fill[1];
    }
    let t = performance.now();
    for (let k = 0; k < n; k++) {
      if (result[k] !== StoreResult.STORED) continue;
      try {
        // A codec that compresses into the caller's memory needs a page per slot; lz4-napi does not.
        const dst = this.codec.compressOwned ? this.scratch : (this.batchScratch[k] ??= Buffer.allocUnsafeSlow(ps + 64));
        lens[k] = this.compressPage(mm.arena.offset(pages[k]), dst);
        outs[k] = this.out;
      } catch {
        mm.vm.inc(mm.ev.reject_compress_fail);
        result[k] = StoreResult.REJECTED;
        t = performance.now();
        continue;
      }
      if (this.spinNs > 0) spinFor(this.spinNs);
      const t1 = performance.now();
      this.compressLat.record((t1 - t) * 1e6);
      t = t1;
    }
  }

  /**
   * The second half: store page k of the batch as compressBatch found it (`result`, its
   * result there): its fill word, or its compressed bytes as storeCompressed does. The
   * caller publishes each page before storing the next, so that zswap's writeback never
   * meets an entry of this batch still isolated.
   */
  storeBatched(k: number, page: number, result: StoreResult): StoreResult {
    if (result === StoreResult.SAME_FILLED) {
      this.storeSameFilled(page, this.batchFill[2 * k], this.batchFill[2 * k + 1]);
      return result;
    }
    if (result !== StoreResult.STORED) return result;
    const out = this.batchOut[k];
    // The output's memory is the codec's or lz4-napi's: let it go.
    this.batchOut[k] = EMPTY;
    return this.storeCompressed(page, out, this.batchLen[k], this.codec.id);
  }

  /** zram's same-filled check: if the page is one repeated 8-byte word, keep only that. */
  trySameFilled(page: number): boolean {
    if (!this.mm.arena.sameFilled(page, this.fill)) return false;
    this.storeSameFilled(page, this.fill[0], this.fill[1]);
    return true;
  }

  /** Store a held page found same-filled with the fill word (lo, hi): only the word is kept. */
  storeSameFilled(page: number, lo: number, hi: number): void {
    this.mm.slots.set(page, lo, hi);
    this.countStored(-1);
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
      if (mm.lru) {
        // zswap: not worth storing; the page stays resident.
        mm.vm.inc(mm.ev.reject_compress_poor);
        return StoreResult.REJECTED;
      }
      // zram: a huge page is stored as it is (ZRAM_HUGE).
      len = ps;
      src = mm.arena.bytes;
      srcOff = off;
    }
    let handle = mm.pool.alloc(len);
    if (handle < 0 && mm.lru) handle = this.allocAfterWriteback(len);
    if (handle < 0) {
      mm.vm.inc(mm.ev.reject_alloc_fail);
      return StoreResult.NO_SPACE;
    }
    mm.pool.write(handle, src, srcOff, len);
    mm.slots.set(page, handle, len | (codecId << CODEC_SHIFT));
    // Before the caller publishes SWAPPED: writeback puts back an entry it finds still ISOLATED.
    mm.lru?.addTail(page);
    this.countStored(len);
    if (poison) this.poisonPage(page);
    return StoreResult.STORED;
  }

  /** Overwrite a stored page's bytes (config.poison), so a fault that skips the store shows. */
  poisonPage(page: number): void {
    if (!this.poison) return;
    const w = this.mm.arena.wordOffset(page);
    this.mm.arena.words.fill(POISON, w, w + this.mm.arena.pageWords);
  }

  /** Bring back a page the caller holds LOCKED (it was SWAPPED or SAME_FILLED), and free its slot. */
  swapIn(page: number, sameFilled: boolean): void {
    const mm = this.mm;
    const handle = mm.slots.handle[page];
    const word = mm.slots.length[page];
    if (sameFilled) {
      mm.arena.fillPage(page, handle, word);
    } else if (onDisk(word)) {
      this.readBacking(handle, mm.arenaBuf, mm.arena.offset(page));
    } else {
      this.decode(handle, word, mm.arenaBuf, mm.arena.offset(page));
    }
    this.freeSlot(page, sameFilled);
  }

  /** Decompress (or copy, for a huge page) the pool object `handle` into dst[dstOff, +pageSize). */
  private decode(handle: number, word: number, dst: Buffer, dstOff: number): void {
    const mm = this.mm;
    const ps = mm.pageSize;
    const len = slotBytes(word);
    if (len === ps) {
      mm.pool.read(handle, dst, dstOff, ps);
      return;
    }
    const codec = this.decoder(word >>> CODEC_SHIFT);
    const at = mm.pool.contiguousOffset(handle, len);
    if (at >= 0) {
      codec.decompress(this.poolBuf(), at, len, dst, dstOff, ps);
    } else {
      mm.pool.read(handle, this.tmp, 0, len);
      codec.decompress(this.tmp, 0, len, dst, dstOff, ps);
    }
  }

  /**
   * Free a stored page's slot (swap-in done, or the page was unmapped): zram's
   * slot_free, counted as notify_free as zram_slot_free_notify counts both cases. The
   * caller holds the page (LOCKED, or UNMAPPED by its own CAS). With gc: async a pool
   * object goes to the GC queue and is freed later; orig_data_size drops now (the page is
   * no longer stored), compr_data_size when the object is freed.
   */
  freeSlot(page: number, sameFilled: boolean): void {
    const mm = this.mm;
    const ev = mm.ev;
    const vm = mm.vm;
    const ps = mm.pageSize;
    const word = mm.slots.length[page];
    if (sameFilled) {
      vm.add(ev.same_pages, -1);
      vm.add(ev.orig_data_size, -ps);
    } else if (onDisk(word)) {
      // Its swap slot in the backing file is simply forgotten (the file is sparse scratch).
    } else {
      mm.lru?.remove(page);
      const handle = mm.slots.handle[page];
      const len = slotBytes(word);
      vm.add(ev.orig_data_size, -ps);
      if (mm.gc !== undefined && mm.gc.push(handle, len)) {
        vm.inc(ev.gc_slots_queued);
        vm.add(ev.gc_bytes_pending, len);
      } else {
        mm.pool.free(handle);
        vm.add(ev.compr_data_size, -len);
        if (len === ps) vm.add(ev.huge_pages, -1);
      }
    }
    vm.inc(ev.notify_free);
    mm.slots.clear(page);
  }

  /**
   * zswap's pool is full: write back the oldest entries until the pool is under the accept
   * threshold, then (freeing an object frees a pool page only when its zspage empties)
   * until an object of `len` bytes fits. Gives up after WRITEBACK_MAX entries or when the
   * LRU is empty. Returns the handle, or −1.
   */
  private allocAfterWriteback(len: number): number {
    const mm = this.mm;
    const lru = mm.lru!;
    const target = Math.floor(mm.shared.poolMaxPages * ACCEPT_THRESHOLD);
    for (let tries = 0; tries < WRITEBACK_MAX; tries++) {
      if (mm.pool.pagesUsed <= target) {
        const handle = mm.pool.alloc(len);
        if (handle >= 0) return handle;
      }
      const page = lru.popHead();
      if (page < 0) break;
      this.writeback(page);
    }
    return mm.pool.alloc(len);
  }

  /**
   * zswap_writeback_entry: take an LRU entry SWAPPED → WRITEBACK, decompress it, write the
   * page to its swap slot in the backing file (a positional write), free the pool object,
   * and publish the page SWAPPED again with an ON_DISK slot. An application touching the
   * page meanwhile sleeps on it (writeback wait). False if the entry was not written back.
   */
  private writeback(page: number): boolean {
    const mm = this.mm;
    for (;;) {
      const w = mm.pt.load(page);
      const st = w & STATE_MASK;
      if (st === PageState.ISOLATED || st === PageState.WRITEBACK) {
        // Stored but not yet published by the thread storing it (still the newest entry),
        // or held by compaction for a moment: keep it on the LRU.
        mm.lru!.addTail(page);
        return false;
      }
      // Anything else: the entry was freed after we popped it (a fault or an unmap).
      if (st !== PageState.SWAPPED) return false;
      if (mm.pt.cas(page, w, PageState.WRITEBACK)) break;
    }
    const t0 = performance.now();
    const ps = mm.pageSize;
    const handle = mm.slots.handle[page];
    const word = mm.slots.length[page];
    const len = slotBytes(word);
    const buf = (this.wbPage ??= Buffer.allocUnsafeSlow(ps));
    this.decode(handle, word, buf, 0);
    // The swap slot is the arena page itself: a sparse file as large as the arena.
    const n = writeSync(this.backingFd(), buf, 0, ps, page * ps);
    if (n !== ps) throw new Error(`zswap writeback: wrote ${n} of ${ps} bytes of page ${page}`);
    mm.pool.free(handle);
    mm.slots.set(page, page, ps | (ON_DISK << CODEC_SHIFT));
    const vm = mm.vm;
    const ev = mm.ev;
    vm.add(ev.orig_data_size, -ps);
    vm.add(ev.compr_data_size, -len);
    vm.inc(ev.written_back_pages);
    mm.pt.release(page, PageState.SWAPPED);
    mm.h.zswap_writeback.record((performance.now() - t0) * 1e6);
    return true;
  }

  private readBacking(slot: number, dst: Buffer, dstOff: number): void {
    const ps = this.mm.pageSize;
    const n = readSync(this.backingFd(), dst, dstOff, ps, slot * ps);
    if (n !== ps) throw new Error(`zswap: read ${n} of ${ps} bytes of swap slot ${slot} from ${this.mm.shared.zswap?.file}`);
  }

  /**
   * The backing file's descriptor: the process's one (see createBacking), shared by every
   * thread and closed by the run's owner after the threads have stopped, never here.
   */
  private backingFd(): number {
    const z = this.mm.shared.zswap;
    if (!z || z.fd < 0) throw new Error('zswap backing file used outside zswap mode or after its run');
    return z.fd;
  }

  /** Release what this thread's store holds outside shared memory. */
  close(): void {
    // Nothing today: the zswap backing file is the run's (disposeSharedMm closes it).
  }
}

/**
 * The GC worker's bulk free of queued pool objects (handles[i] of bytes[i] compressed
 * bytes): zsmalloc's free, one class lock per run of same-class handles, and the counters
 * the queue deferred (compr_data_size, huge_pages, gc_bytes_pending, gc_slots_freed).
 * The caller sorts handles by class first if it wants long runs.
 */
export function releaseObjects(mm: Mm, handles: Int32Array, bytes: Int32Array, n: number): void {
  if (n === 0) return;
  mm.pool.freeBulk(handles, n);
  let sum = 0;
  let huge = 0;
  for (let i = 0; i < n; i++) {
    sum += bytes[i];
    if (bytes[i] === mm.pageSize) huge++;
  }
  const vm = mm.vm;
  const ev = mm.ev;
  vm.add(ev.compr_data_size, -sum);
  if (huge > 0) vm.add(ev.huge_pages, -huge);
  vm.add(ev.gc_bytes_pending, -sum);
  vm.add(ev.gc_slots_freed, n);
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
  // A decoder is made on the first object of its codec this thread meets, views and all.
  const addDecoder = (id: number): Codec => {
    const name = names.find((n) => CODEC_IDS[n] === id);
    if (name === undefined) throw new Error(`slot tagged with unknown codec id ${id}`);
    const d = (byId[id] = createCodec(name, c.pageSize));
    d.prepare?.(mm.arenaBuf, mm.pages);
    return d;
  };
  const decoder = (id: number): Codec => byId[id] ?? addDecoder(id);
  let codec = createCodec(c.codec, c.pageSize);
  if (!codec.sync) codec = createCodec(SYNC_FALLBACK_CODEC, c.pageSize);
  byId[codec.id] = codec;
  return new ZramStore(mm, codec, decoder, { hugeThreshold: c.store.hugeThreshold, poison: c.poison, compressSpinNs: c.inject.compressSpinNs });
}
