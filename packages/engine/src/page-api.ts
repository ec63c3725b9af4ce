/**
 * PageApi for one application thread: map, write, read and unmap its own pages of the
 * arena, with the kernel's paths behind them — the allocator's watermark checks and direct
 * reclaim (__alloc_pages_slowpath), the folio-lock wait on a page reclaim holds, and the
 * swap-in fault (do_swap_page). Every page it writes is checksummed; every read checks it.
 */
import { PageState, STATE_MASK, STATE_NAMES } from '@zreclaim/shm';

import { pageChecksum, type ContentSource, type MemInfo, type PageApi } from '@zreclaim/workloads';
import type { Mm } from './mm.js';
import { ReclaimOutcome, type Reclaimer } from './reclaim.js';
import type { ZramStore } from './store.js';

export interface AppStats {
  appId: number;
  pages: number;
  maps: number;
  unmaps: number;
  reads: number;
  writes: number;
  /** Swap-ins this application took (pgmajfault from its accesses). */
  faults: number;
  /** Allocations that reclaimed directly. */
  stalls: number;
  /** Waits on a page reclaim held. */
  writebackWaits: number;
  /** Reads whose checksum was checked, and how many did not match. */
  verified: number;
  mismatches: number;
  /** First mismatching pages (at most 8), for the report. */
  mismatchPages: number[];
}

export interface AppPagesOptions {
  appId: number;
  /** First arena page of this application's share. */
  base: number;
  count: number;
  verify: boolean;
  directReclaimBatch: number;
  durationMs: number;
  seed: number;
}

/** How long a page may stay held after the run stopped before its holder is taken for dead. */
const HELD_GIVE_UP_MS = 2000;

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class AppPages implements PageApi {
  readonly appId: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly stats: AppStats;
  readonly random: () => number;
  private readonly base: number;
  private readonly checksums: Uint32Array;
  private readonly versions: Int32Array;
  private readonly mapped: Uint8Array;
  private readonly zeroSum: number;
  private readonly wordsPerPage: number;
  private startedAt = performance.now();
  private lastYield = this.startedAt;

  constructor(
    private readonly mm: Mm,
    private readonly reclaimer: Reclaimer,
    private readonly store: ZramStore,
    private readonly content: ContentSource,
    private readonly opts: AppPagesOptions,
  ) {
    if (opts.appId < 1 || opts.appId > 127) throw new RangeError(`appId must be 1..127, got ${opts.appId}`);
    this.appId = opts.appId;
    this.base = opts.base;
    this.pages = opts.count;
    this.pageSize = mm.pageSize;
    this.wordsPerPage = mm.pageSize >> 2;
    this.checksums = new Uint32Array(opts.count);
    this.versions = new Int32Array(opts.count);
    this.mapped = new Uint8Array(opts.count);
    this.zeroSum = pageChecksum(new Int32Array(this.wordsPerPage), 0, this.wordsPerPage);
    this.random = prng(opts.seed);
    this.stats = {
      appId: opts.appId,
      pages: opts.count,
      maps: 0,
      unmaps: 0,
      reads: 0,
      writes: 0,
      faults: 0,
      stalls: 0,
      writebackWaits: 0,
      verified: 0,
      mismatches: 0,
      mismatchPages: [],
    };
  }

  /** Restart the access-phase clock (the worker calls it when the run starts). */
  start(): void {
    this.startedAt = performance.now();
    this.lastYield = this.startedAt;
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  shouldStop(): boolean {
    return this.mm.zone.stopped || this.elapsedMs >= this.opts.durationMs;
  }

  async checkpoint(): Promise<boolean> {
    const now = performance.now();
    if (now - this.lastYield >= 5) {
      this.lastYield = now;
      await new Promise<void>((r) => setImmediate(r));
    }
    return !this.shouldStop();
  }

  isMapped(i: number): boolean {
    return this.mapped[i] === 1;
  }

  map(i: number): void {
    this.check(i);
    const page = this.base + i;
    if (this.mapped[i]) throw new Error(`app ${this.appId}: page ${i} is already mapped`);
    this.allocate();
    if (this.mm.pt.map(page, this.appId) < 0) {
      this.mm.zone.addResident(-1);
      throw new Error(`app ${this.appId}: page ${i} (arena page ${page}) is not UNMAPPED`);
    }
    const off = this.mm.arena.offset(page);
    this.mm.arena.bytes.fill(0, off, off + this.pageSize);
    this.checksums[i] = this.zeroSum;
    this.mapped[i] = 1;
    this.stats.maps++;
    this.mm.pt.release(page, PageState.RESIDENT, true);
  }

  write(i: number, data?: Uint8Array): void {
    const page = this.lock(i);
    const off = this.mm.arena.offset(page);
    if (data) {
      if (data.length !== this.pageSize) {
        this.mm.pt.release(page, PageState.RESIDENT, true);
        throw new RangeError(`app ${this.appId}: write of ${data.length} bytes, a page is ${this.pageSize}`);
      }
      this.mm.arena.bytes.set(data, off);
    } else {
      this.content.fill(this.mm.arena.bytes, off, this.pageSize, page, ++this.versions[i]);
    }
    if (this.opts.verify) this.checksums[i] = pageChecksum(this.mm.arena.words, this.mm.arena.wordOffset(page), this.wordsPerPage);
    this.stats.writes++;
    this.mm.pt.release(page, PageState.RESIDENT, true);
  }

  read(i: number): void {
    const page = this.lock(i);
    if (this.opts.verify) {
      const sum = pageChecksum(this.mm.arena.words, this.mm.arena.wordOffset(page), this.wordsPerPage);
      this.stats.verified++;
      if (sum !== this.checksums[i]) {
        this.stats.mismatches++;
        if (this.stats.mismatchPages.length < 8) this.stats.mismatchPages.push(i);
      }
    }
    this.stats.reads++;
    this.mm.pt.release(page, PageState.RESIDENT, true);
  }

  unmap(i: number): void {
    this.check(i);
    if (!this.mapped[i]) throw new Error(`app ${this.appId}: page ${i} is not mapped`);
    this.unmapRange(i, 1);
  }

  unmapRange(start: number, count: number): number {
    this.checkRange(start, count, 'unmapRange');
    const t0 = performance.now();
    const n = this.zap(start, count);
    this.mm.h.unmap.record((performance.now() - t0) * 1e6);
    return n;
  }

  kill(): number {
    const t0 = performance.now();
    const n = this.zap(0, this.pages);
    this.mm.h.unmap.record((performance.now() - t0) * 1e6);
    return n;
  }

  /**
   * zap_pte_range over [start, start + count): every mapped page nobody else holds leaves
   * in one pass (resident pages are freed, swapped ones free their slot through the store);
   * pages reclaim holds (ISOLATED, WRITEBACK) are left for a second pass that waits for each,
   * so one held page does not stall the rest of the range. nr_resident drops once per pass.
   */
  private zap(start: number, count: number): number {
    const end = start + count;
    let unmapped = 0;
    let held = 0;
    for (let i = start; i < end; i++) {
      if (!this.mapped[i]) continue;
      if (this.tryUnmap(i)) unmapped++;
      else held++;
    }
    this.publishZapped();
    if (held === 0) return unmapped;
    for (let i = start; i < end; i++) {
      if (!this.mapped[i]) continue;
      this.unmapWaiting(i);
      unmapped++;
    }
    return unmapped;
  }

  /** Resident pages tryUnmap freed and publishZapped has not yet taken off nr_resident. */
  private zappedResident = 0;

  private publishZapped(): void {
    if (this.zappedResident > 0) this.mm.zone.addResident(-this.zappedResident);
    this.zappedResident = 0;
  }

  /** Unmap page i unless someone else holds it; false (nothing changed) if held. */
  private tryUnmap(i: number): boolean {
    const mm = this.mm;
    const page = this.base + i;
    for (;;) {
      const w = mm.pt.load(page);
      const st = w & STATE_MASK;
      if (st === PageState.RESIDENT) {
        if (!mm.pt.cas(page, w, PageState.UNMAPPED)) continue;
        this.zappedResident++;
        break;
      }
      if (st === PageState.SWAPPED || st === PageState.SAME_FILLED) {
        if (!mm.pt.cas(page, w, PageState.UNMAPPED)) continue;
        // The page is ours and UNMAPPED: nobody else reads its slot any more.
        this.store.freeSlot(page, st === PageState.SAME_FILLED);
        break;
      }
      if (st === PageState.UNMAPPED) throw new Error(`app ${this.appId}: arena page ${page} was unmapped under us`);
      return false;
    }
    this.mapped[i] = 0;
    this.stats.unmaps++;
    return true;
  }

  /** Unmap page i, waiting while reclaim holds it (a writeback wait). */
  private unmapWaiting(i: number): void {
    const page = this.base + i;
    let waitedSince = 0;
    while (!this.tryUnmap(i)) waitedSince = this.waitHeld(page, this.mm.pt.load(page), waitedSince);
    this.endWait(waitedSince);
    this.publishZapped();
  }

  pageout(start: number, count: number): number {
    this.checkRange(start, count, 'pageout');
    const mm = this.mm;
    const pt = mm.pt;
    const end = start + count;
    let out = 0;
    let scanned = 0;
    try {
      for (let i = start; i < end; i++) {
        if (!this.mapped[i]) continue;
        const page = this.base + i;
        const w = pt.load(page);
        if ((w & STATE_MASK) !== PageState.RESIDENT) continue;
        scanned++;
        if (!pt.cas(page, w, PageState.ISOLATED)) continue;
        let r: ReclaimOutcome;
        try {
          r = this.reclaimer.storeIsolated(page, false);
        } catch (e) {
          // Never leave a page isolated behind a failure.
          if ((pt.load(page) & STATE_MASK) === PageState.ISOLATED) pt.release(page, PageState.RESIDENT, true);
          throw e;
        }
        if (r === ReclaimOutcome.FREED) out++;
        else if (r === ReclaimOutcome.NO_SPACE) break;
        // Publish per slice, as reclaim does, not per page.
        if ((scanned & 63) === 0) this.reclaimer.flush();
      }
    } finally {
      mm.vm.add(mm.ev.pgscan_direct, scanned);
      this.reclaimer.flush();
    }
    return out;
  }

  meminfo(): MemInfo {
    const mm = this.mm;
    return { freePages: mm.freePages(), residentPages: mm.zone.nrResident, poolPages: mm.pool.pagesUsed, gcPendingBytes: mm.vm.get(mm.ev.gc_bytes_pending) };
  }

  /** Take the page LOCKED for an access, waiting for reclaim or faulting it in. */
  private lock(i: number): number {
    this.check(i);
    if (!this.mapped[i]) throw new Error(`app ${this.appId}: page ${i} is not mapped`);
    const mm = this.mm;
    const page = this.base + i;
    let waitedSince = 0;
    for (;;) {
      const w = mm.pt.load(page);
      const st = w & STATE_MASK;
      if (st === PageState.RESIDENT) {
        if (!mm.pt.cas(page, w, PageState.LOCKED)) continue;
        this.endWait(waitedSince);
        return page;
      }
      if (st === PageState.SWAPPED || st === PageState.SAME_FILLED) {
        this.allocate();
        if (!mm.pt.cas(page, w, PageState.LOCKED)) {
          mm.zone.addResident(-1);
          continue;
        }
        const t0 = performance.now();
        this.store.swapIn(page, st === PageState.SAME_FILLED);
        mm.h.swapin.record((performance.now() - t0) * 1e6);
        mm.vm.inc(mm.ev.pswpin);
        mm.vm.inc(mm.ev.pgmajfault);
        mm.vm.inc(mm.ev.workingset_refault_anon);
        this.stats.faults++;
        this.endWait(waitedSince);
        return page;
      }
      waitedSince = this.waitHeld(page, w, waitedSince);
    }
  }

  /**
   * The page is ISOLATED (or otherwise held): sleep on its word like a folio-lock wait.
   * Returns when the wait began (kept across retries, so one wait is recorded once).
   */
  private waitHeld(page: number, w: number, since: number): number {
    const st = w & STATE_MASK;
    if (st === PageState.UNMAPPED) throw new Error(`app ${this.appId}: arena page ${page} was unmapped under us`);
    const now = performance.now();
    if (since === 0) since = now;
    // Holders keep a page for microseconds. Held this long after the run stopped means the
    // holder died (a thread that crashed mid-reclaim): give up rather than wait for ever.
    if (this.mm.zone.stopped && now - since > HELD_GIVE_UP_MS) {
      throw new Error(`app ${this.appId}: page ${page - this.base} is still held (${STATE_NAMES[st]}) ${Math.round(now - since)} ms after the run stopped; its holder died`);
    }
    this.mm.pt.waitChange(page, w, 100);
    return since;
  }

  private endWait(since: number): void {
    if (since === 0) return;
    this.mm.h.writeback_wait.record((performance.now() - since) * 1e6);
    this.stats.writebackWaits++;
  }

  /** One page of RAM for a map or a fault: the allocator's watermark checks. */
  private allocate(): void {
    const mm = this.mm;
    const zone = mm.zone;
    mm.vm.inc(mm.ev.pgalloc_normal);
    let free = mm.freePages();
    if (free <= zone.wmarkLow) zone.wakeKswapd();
    if (free <= zone.wmarkMin && !zone.stopped) {
      // __alloc_pages_direct_reclaim: this thread compresses pages itself, synchronously.
      mm.vm.inc(mm.ev.allocstall);
      this.stats.stalls++;
      const t0 = performance.now();
      for (let tries = 0; free <= zone.wmarkMin && tries < 16; tries++) {
        if (this.reclaimer.shrink(this.opts.directReclaimBatch, false) === 0) break;
        free = mm.freePages();
      }
      mm.h.alloc_stall.record((performance.now() - t0) * 1e6);
    }
    zone.addResident(1);
  }

  private checkRange(start: number, count: number, what: string): void {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > this.pages) {
      throw new RangeError(`app ${this.appId}: ${what}(${start}, ${count}) is outside 0..${this.pages - 1}`);
    }
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.pages) {
      throw new RangeError(`app ${this.appId}: page ${i} is outside 0..${this.pages - 1}`);
    }
  }
}
