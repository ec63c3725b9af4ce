/**
 * The compressed pool: a zsmalloc analogue in two SharedArrayBuffers. Every thread that
 * stores or fetches compressed pages builds its own ZsPool over the same `sabs`.
 *
 * Objects are rounded up to a size class (a fixed step, ZS_SIZE_CLASS_DELTA, default
 * max(8, pageSize/256); the smallest class is max(32, step) bytes, the last is pageSize:
 * the huge class, one uncompressed page per zspage). A class packs its objects into zspages of k pool pages,
 * k = 1..4 chosen as zsmalloc's get_pages_per_zspage() does (best used percentage, the
 * smaller k on a tie). The pages of a zspage need not be contiguous, so an object may
 * straddle two pool pages: read/write copy it in two parts, and contiguousOffset() is the
 * zs_map_object fast path for the objects that do not.
 *
 * Handle: (zspage id << objBits) | object index, an Int32 ≥ 0; objBits covers the largest
 * objects-per-zspage (9 bits for 4 KiB pages), so maxPages ≤ 2^(31 − objBits). A handle
 * names its slot's class (classSizeOf), which may be up to BORROW steps above the class
 * of the size asked for (see alloc). A freed handle is refused once its zspage is gone;
 * a double free inside a live zspage is not detected (zsmalloc does not either).
 *
 * ── data SAB ─────────────────────────────────────────────────────────────────────────────
 * maxPages × pageSize bytes; pool page p starts at byte p × pageSize (a product: past 2^31
 * for a pool of 2 GiB or more, so never `<<`; word indices are byte offsets `>>> 2`, exact
 * below 4 GiB, the largest typed array on Node 20). It is preallocated,
 * not grown. Node 20 (V8 11.3) has growable SABs, but element access through a
 * length-tracking view of one is ~25× slower (a 2 KB word copy: 7.3 µs against 0.27 µs
 * measured here), and fixed-length views over a growable SAB go stale on other threads
 * after a grow: every thread would have to re-make its views, `data` could not be one
 * stable field, and a view captured by a caller would read `undefined` past its old end,
 * silently. A plain SAB is calloc'ed (mmap'ed zero pages), so the OS commits a pool page
 * on first touch and RSS follows the pages ever used; freed pages are reused first (LIFO).
 * The footprint the model charges against RAM is `pagesUsed`, not the buffer's length.
 *
 * Bytes of a live object: written and read by whoever holds its handle; the handle's
 * publication (page-table CAS, ring, message) orders them. Bytes 0..3 of a free object
 * hold the next free object index of its zspage (the embedded free list), under the
 * class lock.
 *
 * ── meta SAB (Int32) ─────────────────────────────────────────────────────────────────────
 *   [0..5]    magic, pageSize, maxPages, classStep, nClasses, objBits: written once at
 *             creation, checked by every thread that attaches
 *   [16]      pool lock (mutex): pool-page free stack, zspage-id free list, the two bump
 *             cursors below and the footprint
 *   [17]      freshPages    pool pages ever handed out (bump over `data`)
 *   [18]      freeDepth     pool pages on the free stack
 *   [19]      freeZspage    head of the free zspage-id list (linked through NEXT), −1
 *   [20]      freshZspages  zspage ids ever used
 *   [32]      pagesUsed     footprint in pool pages (mem_used_total / pageSize)
 *   [33]      maxPagesUsed  its high-water mark (mem_used_max)
 *             Both are Atomics.store'd under the pool lock and Atomics.load'ed by anyone:
 *             a reader is late by at most the zspage being created or freed right now.
 *   [48 + 16c ..]  class c, one 64-byte line each (its lock word contends):
 *     +0      class lock (mutex)
 *     +1      objects live in the class (Atomics.add under the lock; readers may be late
 *             by the allocs and frees in flight)
 *     +2      zspages of the class (under the lock)
 *     +3..10  fullness-group list heads, group g = ⌊inuse × 8 / objsPerZspage⌋ of the
 *             partial zspages (0 < inuse < objs), as zsmalloc's ZS_INUSE_RATIO groups;
 *             alloc takes from the fullest group so sparse zspages drain and are freed,
 *             and borrows a slot of the next BORROW classes before it makes a zspage.
 *             Full zspages are on no list; empty ones are freed at once.
 *   [zspageBase + 10z ..]  zspage z (maxPages records, under its class's lock):
 *     +0 CLASS   class index + 1, 0 while the id is free (zeroed memory needs no
 *                initialisation); written under both locks when the zspage is made or
 *                freed, read without a lock by free/read/write, which is safe because
 *                the caller's live object keeps the zspage alive
 *     +1 INUSE   live objects
 *     +2 FREE    head of the embedded free list (object index), −1 when empty
 *     +3 BUMP    objects never handed out start here (no free list written at creation)
 *     +4 PREV, +5 NEXT   fullness-list links (NEXT also links free zspage ids)
 *     +6..9 PAGES        pool page of each of its k pages (fixed while the zspage lives)
 *   [freeBase ..]  the pool-page free stack, maxPages entries, under the pool lock
 *   In all 4 × (48 + 16 × nClasses + 11 × maxPages) bytes, committed as they are used.
 *
 * Lock order: a class lock, then the pool lock, never the reverse. alloc and free allocate
 * no JS object; read and write make one short-lived subarray view each (see copyBytes).
 */
import { mutexLock, mutexUnlock } from './lock.js';

export interface ZsPoolOptions {
  /** Pool page size in bytes: a power of two ≥ 64 (the arena's page size). */
  pageSize: number;
  /** Most pool pages the pool may hold; alloc returns −1 beyond it. */
  maxPages: number;
  /** Size-class step in bytes: a power of two, 4 ≤ step ≤ pageSize/2. Default max(8, pageSize/256). */
  classStep?: number;
}

export interface ZsPoolBuffers {
  meta: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** What audit() found; for tests and debugging. */
export interface ZsPoolAudit {
  pagesUsed: number;
  objects: number;
  zspages: number;
  /** Per zspage id up to the highest used: live objects, or −1 for a free id. */
  inuse: Int32Array;
}

const MAGIC = 0x7a73706c; // 'zspl'
const H_MAGIC = 0;
const H_PAGE_SIZE = 1;
const H_MAX_PAGES = 2;
const H_STEP = 3;
const H_NCLASSES = 4;
const H_OBJ_BITS = 5;
const POOL_LOCK = 16;
const FRESH_PAGES = 17;
const FREE_DEPTH = 18;
const FREE_ZSPAGE = 19;
const FRESH_ZSPAGES = 20;
const PAGES_USED = 32;
const MAX_PAGES_USED = 33;
const CLASS_BASE = 48;
const CLASS_WORDS = 16;
const C_LOCK = 0;
const C_LIVE = 1;
const C_ZSPAGES = 2;
const C_HEADS = 3;
const GROUPS = 8;

const Z_WORDS = 10;
const Z_CLASS = 0;
const Z_INUSE = 1;
const Z_FREE = 2;
const Z_BUMP = 3;
const Z_PREV = 4;
const Z_NEXT = 5;
const Z_PAGES = 6;
const MAX_ZSPAGE_PAGES = 4;

const MIN_ALLOC_SIZE = 32;
/** How many larger classes alloc may borrow a free slot from (see alloc). */
const BORROW = 2;

/** zsmalloc's get_pages_per_zspage(): the k in 1..4 with the best used percentage. */
function pagesPerZspage(size: number, pageSize: number): number {
  let best = 0;
  let k = 1;
  for (let i = 1; i <= MAX_ZSPAGE_PAGES; i++) {
    const span = i * pageSize;
    const usedPc = Math.floor(((span - (span % size)) * 100) / span);
    if (usedPc > best) {
      best = usedPc;
      k = i;
    }
  }
  return k;
}

/**
 * Copy n bytes from src[sOff..] to dst[dOff..] with TypedArray.set (a native memcpy).
 * It costs one short-lived subarray view per call, the one allocation on this path: a
 * 32-bit word loop avoided it but was 4× slower per 1.9 KB object (0.5 µs against 0.12 µs
 * measured here), and the copy dominated the inline kswapd drain.
 */
function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  if (sOff === 0 && n === src.length) dst.set(src, dOff);
  else dst.set(src.subarray(sOff, sOff + n), dOff);
}

export class ZsPool {
  readonly sabs: ZsPoolBuffers;
  /** The pool pages; contiguousOffset() indexes it. */
  readonly data: Uint8Array;
  readonly pageSize: number;
  readonly maxPages: number;
  readonly classStep: number;
  /** Number of size classes; the last is the huge class (pageSize). */
  readonly nClasses: number;
  readonly objBits: number;

  private readonly meta: Int32Array;
  private readonly dataW: Int32Array;
  private readonly pageShift: number;
  private readonly stepShift: number;
  private readonly minSize: number;
  private readonly objMask: number;
  private readonly zspageBase: number;
  private readonly freeBase: number;
  /** Per class, computed identically by every thread from the options. */
  private readonly classSize: Int32Array;
  private readonly classPages: Int32Array;
  private readonly classObjs: Int32Array;
  /** freeBulk's bucket cursors (American flag sort by class). */
  private readonly bucketNext: Int32Array;
  /** compactOne's scratch: the source zspage's live objects, and one object's bytes. */
  private readonly compactLive: Uint8Array;
  private readonly compactBuf: Uint8Array;
  private readonly bucketEnd: Int32Array;
  /** locate()'s second results: bytes in the first page, and where the rest starts. */
  private firstLen = 0;
  private secondOff = 0;
  /** Word views of the last caller buffers seen by write (source) and read (target). */

  constructor(opts: ZsPoolOptions, sabs?: ZsPoolBuffers) {
    const { pageSize, maxPages } = opts;
    if (!Number.isInteger(pageSize) || pageSize < 64 || (pageSize & (pageSize - 1)) !== 0) {
      throw new RangeError(`ZsPool: pageSize must be a power of two ≥ 64, got ${pageSize}`);
    }
    const step = opts.classStep ?? Math.max(8, pageSize >> 8);
    if (!Number.isInteger(step) || step < 4 || step > pageSize / 2 || (step & (step - 1)) !== 0) {
      throw new RangeError(`ZsPool: classStep must be a power of two in 4..pageSize/2, got ${step}`);
    }
    this.pageSize = pageSize;
    this.classStep = step;
    this.pageShift = 31 - Math.clz32(pageSize);
    this.stepShift = 31 - Math.clz32(step);
    this.minSize = Math.max(step, MIN_ALLOC_SIZE);
    const n = ((pageSize - this.minSize) >> this.stepShift) + 1;
    this.nClasses = n;
    this.classSize = new Int32Array(n);
    this.classPages = new Int32Array(n);
    this.classObjs = new Int32Array(n);
    let maxObjs = 1;
    for (let c = 0; c < n; c++) {
      const size = this.minSize + (c << this.stepShift);
      const k = pagesPerZspage(size, pageSize);
      this.classSize[c] = size;
      this.classPages[c] = k;
      this.classObjs[c] = Math.floor((k * pageSize) / size);
      maxObjs = Math.max(maxObjs, this.classObjs[c]);
    }
    this.objBits = 32 - Math.clz32(maxObjs - 1);
    this.objMask = (1 << this.objBits) - 1;
    const pageLimit = 2 ** (31 - this.objBits);
    if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > pageLimit) {
      throw new RangeError(`ZsPool: maxPages must be in 1..${pageLimit} for pageSize ${pageSize}, got ${maxPages}`);
    }
    this.maxPages = maxPages;
    this.bucketNext = new Int32Array(n);
    this.compactLive = new Uint8Array(maxObjs);
    this.compactBuf = new Uint8Array(pageSize);
    this.bucketEnd = new Int32Array(n);

    this.zspageBase = CLASS_BASE + n * CLASS_WORDS;
    this.freeBase = this.zspageBase + maxPages * Z_WORDS;
    const metaBytes = (this.freeBase + maxPages) * 4;
    const dataBytes = maxPages * pageSize;
    if (sabs) {
      if (sabs.meta.byteLength < metaBytes || sabs.data.byteLength < dataBytes) {
        throw new RangeError(
          `ZsPool: buffers too small for these options (meta ${sabs.meta.byteLength}/${metaBytes}, data ${sabs.data.byteLength}/${dataBytes})`,
        );
      }
      this.sabs = sabs;
      this.meta = new Int32Array(sabs.meta, 0, metaBytes / 4);
      const m = this.meta;
      if (
        Atomics.load(m, H_MAGIC) !== MAGIC ||
        m[H_PAGE_SIZE] !== pageSize ||
        m[H_MAX_PAGES] !== maxPages ||
        m[H_STEP] !== step ||
        m[H_NCLASSES] !== n ||
        m[H_OBJ_BITS] !== this.objBits
      ) {
        throw new RangeError(
          `ZsPool: buffers were made for pageSize ${m[H_PAGE_SIZE]}, maxPages ${m[H_MAX_PAGES]}, classStep ${m[H_STEP]}; given ${pageSize}, ${maxPages}, ${step}`,
        );
      }
    } else {
      this.sabs = { meta: new SharedArrayBuffer(metaBytes), data: new SharedArrayBuffer(dataBytes) };
      this.meta = new Int32Array(this.sabs.meta, 0, metaBytes / 4);
      const m = this.meta;
      m[H_PAGE_SIZE] = pageSize;
      m[H_MAX_PAGES] = maxPages;
      m[H_STEP] = step;
      m[H_NCLASSES] = n;
      m[H_OBJ_BITS] = this.objBits;
      m[FREE_ZSPAGE] = -1;
      for (let c = 0; c < n; c++) {
        m.fill(-1, CLASS_BASE + c * CLASS_WORDS + C_HEADS, CLASS_BASE + c * CLASS_WORDS + C_HEADS + GROUPS);
      }
      Atomics.store(m, H_MAGIC, MAGIC);
    }
    this.data = new Uint8Array(this.sabs.data, 0, dataBytes);
    this.dataW = new Int32Array(this.sabs.data, 0, dataBytes / 4);
  }

  /** Footprint in pool pages (mem_used_total / pageSize). Late by at most one zspage. */
  get pagesUsed(): number {
    return Atomics.load(this.meta, PAGES_USED);
  }

  /** High-water mark of pagesUsed (mem_used_max). */
  get maxPagesUsed(): number {
    return Atomics.load(this.meta, MAX_PAGES_USED);
  }

  /** Live objects, summed over the classes; late by the allocs and frees in flight. */
  get objectsLive(): number {
    let sum = 0;
    for (let c = 0; c < this.nClasses; c++) sum += Atomics.load(this.meta, CLASS_BASE + c * CLASS_WORDS + C_LIVE);
    return sum;
  }

  /** Slot size of the class an object of `size` bytes goes to. */
  classSizeFor(size: number): number {
    return this.classSize[this.classOf(size)];
  }

  /** Slot size of the object's class (≥ the length it was allocated for). */
  classSizeOf(handle: number): number {
    return this.classSize[this.classOfHandle(handle)];
  }

  /**
   * A handle for an object of `size` bytes (1..pageSize), or −1 when a new zspage would
   * take the pool past maxPages: the caller counts it and keeps the page resident.
   *
   * When the object's class has no partial zspage, a free slot of one of the next
   * BORROW classes (at most BORROW × classStep bytes larger) is taken before a new
   * zspage is made: without compaction, the free slots that churn leaves in a class
   * would otherwise wait for that class alone, and the pool would grow by the sum of
   * every class's fluctuation.
   */
  alloc(size: number): number {
    const c = this.classOf(size);
    const m = this.meta;
    const lock = CLASS_BASE + c * CLASS_WORDS + C_LOCK;
    mutexLock(m, lock);
    let z = this.partialOf(c);
    if (z >= 0) {
      const h = this.allocFrom(c, z);
      mutexUnlock(m, lock);
      return h;
    }
    mutexUnlock(m, lock);
    const last = Math.min(c + BORROW, this.nClasses - 1);
    for (let b = c + 1; b <= last; b++) {
      // A racy peek at the heads spares the lock of a class with nothing to lend.
      if (this.partialOf(b) < 0) continue;
      const bl = CLASS_BASE + b * CLASS_WORDS + C_LOCK;
      mutexLock(m, bl);
      z = this.partialOf(b);
      if (z >= 0) {
        const h = this.allocFrom(b, z);
        mutexUnlock(m, bl);
        return h;
      }
      mutexUnlock(m, bl);
    }
    mutexLock(m, lock);
    z = this.partialOf(c);
    if (z < 0) z = this.zspageCreate(c);
    const h = z < 0 ? -1 : this.allocFrom(c, z);
    mutexUnlock(m, lock);
    return h;
  }

  /**
   * zs_can_compact: pool pages that moving objects between the class's zspages could free
   * (zspages beyond those its live objects need). A racy estimate, for deciding to compact.
   */
  canCompact(c: number): number {
    const cb = CLASS_BASE + c * CLASS_WORDS;
    const objs = this.classObjs[c];
    const needed = Math.ceil(Atomics.load(this.meta, cb + C_LIVE) / objs);
    return Math.max(0, this.meta[cb + C_ZSPAGES] - needed) * this.classPages[c];
  }

  /**
   * zs_compact for one class, one source zspage: under the class lock, move the live
   * objects of its sparsest partial zspage into its fullest ones, so the source empties
   * and gives its pages back. The pool does not know who refers to an object, so the
   * caller does that part: `hold(handle)` takes the object's owner off every other thread
   * (without blocking) and returns a token, or −1 to leave the object where it is;
   * `moved(token, newHandle)` points the owner at the new copy and lets it go. Both run
   * under the class lock: they must not touch the pool. Returns the pool pages freed (0
   * when the class has fewer than two partial zspages, or an object could not be held).
   */
  compactOne(c: number, hold: (handle: number) => number, moved: (token: number, handle: number) => void): number {
    const m = this.meta;
    const cb = CLASS_BASE + c * CLASS_WORDS;
    const size = this.classSize[c];
    mutexLock(m, cb + C_LOCK);
    try {
      const src = this.sparsestOf(c);
      if (src < 0) return 0;
      const zb = this.zspageBase + src * Z_WORDS;
      // The source's live objects: below BUMP and not on its embedded free list.
      const live = this.compactLive;
      const bump = m[zb + Z_BUMP];
      live.fill(1, 0, bump);
      for (let idx = m[zb + Z_FREE]; idx >= 0; idx = this.dataW[this.objectStart(src, idx, size) >>> 2]) live[idx] = 0;
      for (let idx = 0; idx < bump; idx++) {
        if (live[idx] === 0) continue;
        const dst = this.fullestOtherThan(c, src);
        if (dst < 0) return 0;
        const old = (src << this.objBits) | idx;
        const token = hold(old);
        if (token < 0) return 0;
        const h = this.allocFrom(c, dst);
        this.read(old, this.compactBuf, 0, size);
        this.write(h, this.compactBuf, 0, size);
        moved(token, h);
        // The last object out frees the source and its pages.
        this.freeLocked(c, old);
      }
      return this.classPages[c];
    } finally {
      mutexUnlock(m, cb + C_LOCK);
    }
  }

  /** Under class c's lock: the sparsest partial zspage, if the class has another partial one. */
  private sparsestOf(c: number): number {
    const heads = CLASS_BASE + c * CLASS_WORDS + C_HEADS;
    for (let g = 0; g < GROUPS; g++) {
      const z = this.meta[heads + g];
      if (z >= 0) return this.fullestOtherThan(c, z) >= 0 ? z : -1;
    }
    return -1;
  }

  /** Under class c's lock: the fullest partial zspage that is not z, or −1. */
  private fullestOtherThan(c: number, z: number): number {
    const heads = CLASS_BASE + c * CLASS_WORDS + C_HEADS;
    for (let g = GROUPS - 1; g >= 0; g--) {
      for (let y = this.meta[heads + g]; y >= 0; y = this.meta[this.zspageBase + y * Z_WORDS + Z_NEXT]) {
        if (y !== z) return y;
      }
    }
    return -1;
  }

  /** Free one object. Its zspage returns its pages to the pool when it empties. */
  free(handle: number): void {
    const c = this.classOfHandle(handle);
    const cb = CLASS_BASE + c * CLASS_WORDS;
    mutexLock(this.meta, cb + C_LOCK);
    try {
      this.freeLocked(c, handle);
    } finally {
      mutexUnlock(this.meta, cb + C_LOCK);
    }
  }

  /**
   * Free handles[0..n). Reorders them by class in place (an American flag sort, no
   * allocation) and takes each class lock once per class, as the zram GC worker's bulk
   * free amortises its locking.
   */
  freeBulk(handles: Int32Array, n: number): void {
    if (n <= 0) return;
    if (n > handles.length) throw new RangeError(`ZsPool.freeBulk: n ${n} > handles.length ${handles.length}`);
    const next = this.bucketNext;
    const end = this.bucketEnd;
    const nc = this.nClasses;
    end.fill(0);
    for (let i = 0; i < n; i++) end[this.classOfHandle(handles[i])]++;
    let at = 0;
    for (let c = 0; c < nc; c++) {
      next[c] = at;
      at += end[c];
      end[c] = at;
    }
    for (let c = 0; c < nc; c++) {
      while (next[c] < end[c]) {
        let v = handles[next[c]];
        let cv = this.classOfHandle(v);
        while (cv !== c) {
          const t = handles[next[cv]];
          handles[next[cv]++] = v;
          v = t;
          cv = this.classOfHandle(v);
        }
        handles[next[c]++] = v;
      }
    }
    const m = this.meta;
    let i = 0;
    while (i < n) {
      const c = this.classOfHandle(handles[i]);
      const lock = CLASS_BASE + c * CLASS_WORDS + C_LOCK;
      mutexLock(m, lock);
      try {
        do this.freeLocked(c, handles[i++]);
        while (i < n && this.classOfHandle(handles[i]) === c);
      } finally {
        mutexUnlock(m, lock);
      }
    }
  }

  /** Copy src[srcOff, srcOff+len) into the object (len ≤ its class size). */
  write(handle: number, src: Uint8Array, srcOff: number, len: number): void {
    if (srcOff < 0 || len < 0 || srcOff + len > src.length) {
      throw new RangeError(`ZsPool.write: [${srcOff}, ${srcOff + len}) outside a source of ${src.length}`);
    }
    const off = this.locate(handle, len);
    const first = this.firstLen;
    copyBytes(this.data, off, src, srcOff, first);
    if (first < len) copyBytes(this.data, this.secondOff, src, srcOff + first, len - first);
  }

  /** Copy the object's first len bytes into dst[dstOff, dstOff+len). */
  read(handle: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (dstOff < 0 || len < 0 || dstOff + len > dst.length) {
      throw new RangeError(`ZsPool.read: [${dstOff}, ${dstOff + len}) outside a target of ${dst.length}`);
    }
    const off = this.locate(handle, len);
    const first = this.firstLen;
    copyBytes(dst, dstOff, this.data, off, first);
    if (first < len) copyBytes(dst, dstOff + first, this.data, this.secondOff, len - first);
  }

  /**
   * Byte offset in `data` of the object's first len bytes when they lie in one pool page
   * (read them in place, zs_map_object's fast path), else −1: copy them out with read().
   */
  contiguousOffset(handle: number, len: number): number {
    const off = this.locate(handle, len);
    return this.firstLen < len ? -1 : off;
  }

  /**
   * Where the object's slot (its full class size) lies in `data`: writes [offset, length]
   * of each part into out and returns the number of parts (1, or 2 when it straddles).
   */
  spans(handle: number, out: Float64Array): number {
    const size = this.classSizeOf(handle);
    out[0] = this.locate(handle, size);
    out[1] = this.firstLen;
    if (this.firstLen === size) return 1;
    out[2] = this.secondOff;
    out[3] = size - this.firstLen;
    return 2;
  }

  /**
   * Walk every list and free list under all the locks and check they agree with the
   * counters; throws an Error naming the first inconsistency. For tests: it allocates.
   */
  audit(): ZsPoolAudit {
    const m = this.meta;
    for (let c = 0; c < this.nClasses; c++) mutexLock(m, CLASS_BASE + c * CLASS_WORDS + C_LOCK);
    mutexLock(m, POOL_LOCK);
    try {
      const fail = (what: string): never => {
        throw new Error(`ZsPool audit: ${what}`);
      };
      const fresh = m[FRESH_ZSPAGES];
      const owner = new Int32Array(this.maxPages).fill(-1);
      const inuseOf = new Int32Array(fresh).fill(-1);
      const onList = new Uint8Array(fresh);
      let pages = 0;
      let objects = 0;
      let zspages = 0;
      for (let z = m[FREE_ZSPAGE], hops = 0; z >= 0; z = m[this.zspageBase + z * Z_WORDS + Z_NEXT]) {
        if (z >= fresh || ++hops > fresh) fail(`free zspage list broken at ${z}`);
        if (m[this.zspageBase + z * Z_WORDS + Z_CLASS] !== 0) fail(`free zspage ${z} has a class`);
      }
      for (let z = 0; z < fresh; z++) {
        const zb = this.zspageBase + z * Z_WORDS;
        const c = m[zb + Z_CLASS] - 1;
        if (c === -1) continue;
        if (c < 0 || c >= this.nClasses) fail(`zspage ${z} has class ${c}`);
        const size = this.classSize[c];
        const objs = this.classObjs[c];
        const inuse = m[zb + Z_INUSE];
        const bump = m[zb + Z_BUMP];
        if (bump < 0 || bump > objs) fail(`zspage ${z} bump ${bump} of ${objs}`);
        let freeLen = 0;
        for (let idx = m[zb + Z_FREE]; idx >= 0; idx = this.dataW[this.objectStart(z, idx, size) >>> 2]) {
          if (idx >= bump || ++freeLen > bump) fail(`zspage ${z} free list broken at object ${idx}`);
        }
        if (inuse !== bump - freeLen || inuse <= 0) fail(`zspage ${z}: inuse ${inuse}, bump ${bump}, free ${freeLen}`);
        for (let i = 0; i < this.classPages[c]; i++) {
          const p = m[zb + Z_PAGES + i];
          if (p < 0 || p >= m[FRESH_PAGES]) fail(`zspage ${z} page ${p} out of range`);
          if (owner[p] !== -1) fail(`pool page ${p} in zspages ${owner[p]} and ${z}`);
          owner[p] = z;
        }
        inuseOf[z] = inuse;
        pages += this.classPages[c];
        objects += inuse;
        zspages++;
      }
      for (let c = 0; c < this.nClasses; c++) {
        const cb = CLASS_BASE + c * CLASS_WORDS;
        let live = 0;
        let count = 0;
        for (let z = 0; z < fresh; z++) {
          if (m[this.zspageBase + z * Z_WORDS + Z_CLASS] === c + 1) {
            live += inuseOf[z];
            count++;
          }
        }
        if (m[cb + C_LIVE] !== live) fail(`class ${c} counts ${m[cb + C_LIVE]} live, zspages hold ${live}`);
        if (m[cb + C_ZSPAGES] !== count) fail(`class ${c} counts ${m[cb + C_ZSPAGES]} zspages, found ${count}`);
        for (let g = 0; g < GROUPS; g++) {
          let prev = -1;
          for (let z = m[cb + C_HEADS + g]; z >= 0; z = m[this.zspageBase + z * Z_WORDS + Z_NEXT]) {
            const zb = this.zspageBase + z * Z_WORDS;
            if (z >= fresh || onList[z]) fail(`class ${c} group ${g} list broken at zspage ${z}`);
            onList[z] = 1;
            if (m[zb + Z_CLASS] !== c + 1) fail(`zspage ${z} of class ${m[zb + Z_CLASS] - 1} on class ${c}'s list`);
            if (m[zb + Z_PREV] !== prev) fail(`zspage ${z} prev link ${m[zb + Z_PREV]}, expected ${prev}`);
            const inuse = m[zb + Z_INUSE];
            if (inuse <= 0 || inuse >= this.classObjs[c] || (((inuse * GROUPS) / this.classObjs[c]) | 0) !== g) {
              fail(`zspage ${z} with ${inuse}/${this.classObjs[c]} in group ${g}`);
            }
            prev = z;
          }
        }
      }
      for (let z = 0; z < fresh; z++) {
        const c = m[this.zspageBase + z * Z_WORDS + Z_CLASS] - 1;
        if (c >= 0 && inuseOf[z] < this.classObjs[c] && !onList[z]) fail(`partial zspage ${z} on no list`);
      }
      const depth = m[FREE_DEPTH];
      for (let i = 0; i < depth; i++) {
        const p = m[this.freeBase + i];
        if (p < 0 || p >= m[FRESH_PAGES]) fail(`free page ${p} out of range`);
        if (owner[p] !== -1) fail(`pool page ${p} both free and in zspage ${owner[p]}`);
        owner[p] = -2;
      }
      if (pages + depth !== m[FRESH_PAGES]) fail(`${pages} pages in zspages + ${depth} free ≠ ${m[FRESH_PAGES]} handed out`);
      if (m[PAGES_USED] !== pages) fail(`pagesUsed ${m[PAGES_USED]}, zspages hold ${pages}`);
      if (m[MAX_PAGES_USED] < pages || m[MAX_PAGES_USED] > this.maxPages) fail(`maxPagesUsed ${m[MAX_PAGES_USED]}`);
      return { pagesUsed: pages, objects, zspages, inuse: inuseOf };
    } finally {
      mutexUnlock(m, POOL_LOCK);
      for (let c = this.nClasses - 1; c >= 0; c--) mutexUnlock(m, CLASS_BASE + c * CLASS_WORDS + C_LOCK);
    }
  }

  private classOf(size: number): number {
    if (!(size >= 1 && size <= this.pageSize)) {
      throw new RangeError(`ZsPool.alloc: size must be in 1..${this.pageSize}, got ${size}`);
    }
    return size <= this.minSize ? 0 : (size - this.minSize + this.classStep - 1) >> this.stepShift;
  }

  private classOfHandle(handle: number): number {
    const z = handle >>> this.objBits;
    const c = z < this.maxPages && handle >= 0 ? this.meta[this.zspageBase + z * Z_WORDS + Z_CLASS] - 1 : -1;
    if (c < 0 || (handle & this.objMask) >= this.classObjs[c]) {
      throw new RangeError(`ZsPool: bad handle ${handle}`);
    }
    return c;
  }

  /** Byte offset in `data` of object idx's first byte. */
  private objectStart(z: number, idx: number, size: number): number {
    const at = idx * size;
    const page = this.meta[this.zspageBase + z * Z_WORDS + Z_PAGES + (at >> this.pageShift)];
    return page * this.pageSize + (at & (this.pageSize - 1));
  }

  /**
   * Offset in `data` of the object's first byte; leaves in firstLen how many of its first
   * len bytes are in that pool page and in secondOff where the rest starts.
   */
  private locate(handle: number, len: number): number {
    const c = this.classOfHandle(handle);
    const size = this.classSize[c];
    if (len > size) throw new RangeError(`ZsPool: ${len} bytes do not fit a ${size}-byte object`);
    const zb = this.zspageBase + (handle >>> this.objBits) * Z_WORDS;
    const at = (handle & this.objMask) * size;
    const pi = at >> this.pageShift;
    const inPage = at & (this.pageSize - 1);
    const room = this.pageSize - inPage;
    if (len <= room) {
      this.firstLen = len;
    } else {
      this.firstLen = room;
      this.secondOff = this.meta[zb + Z_PAGES + pi + 1] * this.pageSize;
    }
    return this.meta[zb + Z_PAGES + pi] * this.pageSize + inPage;
  }

  /** The fullest partial zspage of class c, or −1 (under its lock, or as a racy hint). */
  private partialOf(c: number): number {
    const heads = CLASS_BASE + c * CLASS_WORDS + C_HEADS;
    for (let g = GROUPS - 1; g >= 0; g--) {
      const z = this.meta[heads + g];
      if (z >= 0) return z;
    }
    return -1;
  }

  /** Under class c's lock: take a slot of zspage z (partial, or new and empty). */
  private allocFrom(c: number, z: number): number {
    const m = this.meta;
    const cb = CLASS_BASE + c * CLASS_WORDS;
    const zb = this.zspageBase + z * Z_WORDS;
    let idx = m[zb + Z_FREE];
    if (idx >= 0) {
      m[zb + Z_FREE] = this.dataW[this.objectStart(z, idx, this.classSize[c]) >>> 2];
    } else {
      idx = m[zb + Z_BUMP]++;
    }
    const objs = this.classObjs[c];
    const inuse = m[zb + Z_INUSE];
    m[zb + Z_INUSE] = inuse + 1;
    // A new zspage (inuse 0) is on no list yet.
    if (inuse > 0) {
      const from = ((inuse * GROUPS) / objs) | 0;
      if (inuse + 1 === objs) this.listRemove(cb, z, from);
      else {
        const to = (((inuse + 1) * GROUPS) / objs) | 0;
        if (to !== from) {
          this.listRemove(cb, z, from);
          this.listPush(cb, z, to);
        }
      }
    } else if (objs > 1) {
      this.listPush(cb, z, (GROUPS / objs) | 0);
    }
    Atomics.add(m, cb + C_LIVE, 1);
    return (z << this.objBits) | idx;
  }

  /** Under class c's lock. */
  private freeLocked(c: number, handle: number): void {
    const m = this.meta;
    const z = handle >>> this.objBits;
    const idx = handle & this.objMask;
    const zb = this.zspageBase + z * Z_WORDS;
    const cb = CLASS_BASE + c * CLASS_WORDS;
    const objs = this.classObjs[c];
    const inuse = m[zb + Z_INUSE];
    if (inuse <= 0 || idx >= m[zb + Z_BUMP]) throw new RangeError(`ZsPool.free: handle ${handle} is not live`);
    this.dataW[this.objectStart(z, idx, this.classSize[c]) >>> 2] = m[zb + Z_FREE];
    m[zb + Z_FREE] = idx;
    m[zb + Z_INUSE] = inuse - 1;
    Atomics.sub(m, cb + C_LIVE, 1);
    if (inuse === objs) {
      // Full → partial (or straight to empty when it held one object).
      if (inuse > 1) this.listPush(cb, z, (((inuse - 1) * GROUPS) / objs) | 0);
    } else {
      const from = ((inuse * GROUPS) / objs) | 0;
      if (inuse === 1) this.listRemove(cb, z, from);
      else {
        const to = (((inuse - 1) * GROUPS) / objs) | 0;
        if (to !== from) {
          this.listRemove(cb, z, from);
          this.listPush(cb, z, to);
        }
      }
    }
    if (inuse === 1) this.zspageFree(c, z);
  }

  private listPush(cb: number, z: number, g: number): void {
    const m = this.meta;
    const zb = this.zspageBase + z * Z_WORDS;
    const head = m[cb + C_HEADS + g];
    m[zb + Z_PREV] = -1;
    m[zb + Z_NEXT] = head;
    if (head >= 0) m[this.zspageBase + head * Z_WORDS + Z_PREV] = z;
    m[cb + C_HEADS + g] = z;
  }

  private listRemove(cb: number, z: number, g: number): void {
    const m = this.meta;
    const zb = this.zspageBase + z * Z_WORDS;
    const prev = m[zb + Z_PREV];
    const next = m[zb + Z_NEXT];
    if (prev >= 0) m[this.zspageBase + prev * Z_WORDS + Z_NEXT] = next;
    else m[cb + C_HEADS + g] = next;
    if (next >= 0) m[this.zspageBase + next * Z_WORDS + Z_PREV] = prev;
  }

  /** Under class c's lock: a zspage with its pages, or −1 at maxPages. */
  private zspageCreate(c: number): number {
    const m = this.meta;
    const k = this.classPages[c];
    mutexLock(m, POOL_LOCK);
    const used = m[PAGES_USED];
    if (used + k > this.maxPages) {
      mutexUnlock(m, POOL_LOCK);
      return -1;
    }
    let z = m[FREE_ZSPAGE];
    if (z >= 0) m[FREE_ZSPAGE] = m[this.zspageBase + z * Z_WORDS + Z_NEXT];
    else z = m[FRESH_ZSPAGES]++;
    const zb = this.zspageBase + z * Z_WORDS;
    for (let i = 0; i < k; i++) {
      const depth = m[FREE_DEPTH];
      if (depth > 0) {
        m[FREE_DEPTH] = depth - 1;
        m[zb + Z_PAGES + i] = m[this.freeBase + depth - 1];
      } else {
        m[zb + Z_PAGES + i] = m[FRESH_PAGES]++;
      }
    }
    m[zb + Z_CLASS] = c + 1;
    m[zb + Z_INUSE] = 0;
    m[zb + Z_FREE] = -1;
    m[zb + Z_BUMP] = 0;
    m[zb + Z_PREV] = -1;
    m[zb + Z_NEXT] = -1;
    Atomics.store(m, PAGES_USED, used + k);
    if (used + k > m[MAX_PAGES_USED]) Atomics.store(m, MAX_PAGES_USED, used + k);
    mutexUnlock(m, POOL_LOCK);
    m[CLASS_BASE + c * CLASS_WORDS + C_ZSPAGES]++;
    return z;
  }

  /** Under class c's lock, the zspage empty and on no list: give its pages back. */
  private zspageFree(c: number, z: number): void {
    const m = this.meta;
    const k = this.classPages[c];
    const zb = this.zspageBase + z * Z_WORDS;
    m[CLASS_BASE + c * CLASS_WORDS + C_ZSPAGES]--;
    mutexLock(m, POOL_LOCK);
    let depth = m[FREE_DEPTH];
    for (let i = k - 1; i >= 0; i--) m[this.freeBase + depth++] = m[zb + Z_PAGES + i];
    m[FREE_DEPTH] = depth;
    m[zb + Z_CLASS] = 0;
    m[zb + Z_NEXT] = m[FREE_ZSPAGE];
    m[FREE_ZSPAGE] = z;
    Atomics.store(m, PAGES_USED, m[PAGES_USED] - k);
    mutexUnlock(m, POOL_LOCK);
  }
}
