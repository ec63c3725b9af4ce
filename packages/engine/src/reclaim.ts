/**
 * shrink_page_list for one thread: a CLOCK (second-chance) hand over the page table,
 * shared by kswapd and every direct reclaimer (Zone.claimScan hands out runs of pages, so
 * two scanners never examine the same run at once). A page that is RESIDENT and not
 * referenced is isolated. Inline (today's kernel), the pages isolated from one run of the
 * hand are stored as a batch, as shrink_folio_list takes its list of isolated folios:
 * compressed back to back, then each stored and published. Other pipelines (kcompressd,
 * padata) decide page by page where kswapd's pages go (`reclaimPage`).
 */
import { PageState, REFERENCED, STATE_MASK } from '@zreclaim/shm';
import { spinFor } from './config.js';
import type { Mm } from './mm.js';
import { StoreResult, type ZramStore } from './store.js';

export const ReclaimOutcome = {
  /** The page left RAM. */
  FREED: 0,
  /** The page stays resident (codec failure). */
  KEPT: 1,
  /** The page stays resident because the pool is full. */
  NO_SPACE: 2,
  /** Handed to a compression worker (counts toward the slice; freed when stored). */
  QUEUED: 3,
  /** Every ring is full and kswapd waits for room (kswapd.onFull 'wait'): end the slice. */
  RING_FULL: 4,
} as const;
export type ReclaimOutcome = (typeof ReclaimOutcome)[keyof typeof ReclaimOutcome];

/** Pages a scanner claims from the hand at once. */
const SCAN_RUN = 32;

export class Reclaimer {
  /** Pages storeIsolated freed since the last flush(), by who reclaimed them. */
  private pendKswapd = 0;
  private pendDirect = 0;
  /** The last shrink stopped because every ring was full (kswapd.onFull 'wait'). */
  ringFull = false;

  constructor(
    protected readonly mm: Mm,
    protected readonly store: ZramStore,
    /** config.unmapCostNs: busy work per page reclaimed, standing in for try_to_unmap. */
    private readonly unmapCostNs = 0,
  ) {}

  /**
   * Try to free `nr` pages. kswapd = true counts pgscan_kswapd/pgsteal_kswapd, otherwise
   * the _direct counters. Gives up after scanning the table twice (everything referenced
   * twice over or held by someone else). Returns the pages freed.
   */
  shrink(nr: number, kswapd: boolean): number {
    const mm = this.mm;
    const pt = mm.pt;
    const words = pt.words;
    const pages = mm.pages;
    const ev = mm.ev;
    let reclaimed = 0;
    let scanned = 0;
    let examined = 0;
    let rejected = 0;
    let activated = 0;
    const maxExamine = pages * 2;
    // A full pool will not take the next page either: stop at once. A codec that keeps
    // failing: stop after a few rejects rather than compress the whole table in vain.
    const maxRejected = Math.max(8, nr);
    this.ringFull = false;
    const batched = this.storesInBatches(kswapd);
    const iso = this.iso;
    while (reclaimed < nr && examined < maxExamine && rejected < maxRejected && !this.ringFull) {
      const start = mm.zone.claimScan(SCAN_RUN, pages);
      let nIso = 0;
      for (let j = 0; j < SCAN_RUN && reclaimed + nIso < nr; j++) {
        let page = start + j;
        if (page >= pages) page -= pages;
        examined++;
        const w = Atomics.load(words, page);
        if ((w & STATE_MASK) !== PageState.RESIDENT) continue;
        scanned++;
        if (w & REFERENCED) {
          // Second chance: referenced since the hand last passed.
          if (pt.clearReferenced(page, w)) activated++;
          continue;
        }
        if (!pt.cas(page, w, PageState.ISOLATED)) continue;
        if (batched) {
          // Isolated now, stored with the rest of the run below (shrink_folio_list's list).
          iso[nIso++] = page;
          continue;
        }
        let r: ReclaimOutcome;
        try {
          r = this.reclaimPage(page, kswapd);
        } catch (e) {
          // Never leave a page isolated behind a failure: its owner would wait for ever.
          this.putBack(page);
          this.flush();
          throw e;
        }
        if (r === ReclaimOutcome.FREED || r === ReclaimOutcome.QUEUED) {
          reclaimed++;
          // Charged once per page that leaves (a page put back is not charged twice).
          if (this.unmapCostNs > 0) spinFor(this.unmapCostNs);
        }
        else if (r === ReclaimOutcome.NO_SPACE) rejected = maxRejected;
        else if (r === ReclaimOutcome.RING_FULL) {
          this.ringFull = true;
          break;
        }
        else rejected++;
      }
      if (nIso > 0) {
        reclaimed += this.storeRun(nIso, kswapd);
        if (this.runNoSpace) rejected = maxRejected;
        else rejected += this.runRejected;
      }
    }
    mm.vm.add(kswapd ? ev.pgscan_kswapd : ev.pgscan_direct, scanned);
    mm.vm.add(ev.pgactivate, activated);
    this.flush();
    return reclaimed;
  }

  /** Pages isolated from one scan run, and what became of each (batched stores). */
  private readonly iso = new Int32Array(SCAN_RUN);
  private readonly results = new Uint8Array(SCAN_RUN);

  /**
   * Whether this reclaimer stores the pages of a scan run as one batch (storeRun)
   * rather than one by one through reclaimPage: yes when every page is compressed here
   * (inline); a pipeline's kswapd decides page by page where each goes.
   */
  protected storesInBatches(_kswapd: boolean): boolean {
    return true;
  }

  /** What the last storeRun put back: pages the store rejected, and whether the pool was full. */
  private runRejected = 0;
  private runNoSpace = false;

  /**
   * Store the scan run's isolated pages iso[0, n) as one batch (store.compressBatch, then
   * each stored and published before the next) and return how many left RAM.
   */
  private storeRun(n: number, kswapd: boolean): number {
    const { mm, iso, store } = this;
    const res = this.results;
    let freed = 0;
    this.runRejected = 0;
    this.runNoSpace = false;
    let k = 0;
    try {
      store.compressBatch(iso, n, res);
      for (; k < n; k++) {
        const page = iso[k];
        const r = store.storeBatched(k, page, res[k] as StoreResult);
        if (r === StoreResult.REJECTED || r === StoreResult.NO_SPACE) {
          mm.pt.release(page, PageState.RESIDENT, true);
          if (r === StoreResult.NO_SPACE) this.runNoSpace = true;
          else this.runRejected++;
          continue;
        }
        mm.pt.release(page, r === StoreResult.SAME_FILLED ? PageState.SAME_FILLED : PageState.SWAPPED);
        this.countFreed(kswapd);
        freed++;
        // Charged once per page that leaves (a page put back is not charged twice).
        if (this.unmapCostNs > 0) spinFor(this.unmapCostNs);
      }
    } catch (e) {
      // Pages k.. are still isolated and not stored: each is published before the next is stored.
      for (let j = k; j < n; j++) this.putBack(iso[j]);
      this.flush();
      throw e;
    }
    return freed;
  }

  /** After a failure: a page still isolated goes back to RESIDENT (its owner would wait for ever). */
  private putBack(page: number): void {
    const pt = this.mm.pt;
    if ((pt.load(page) & STATE_MASK) === PageState.ISOLATED) pt.release(page, PageState.RESIDENT, true);
  }

  /** Wait until a compression worker has room again (after a shrink that found every ring full). */
  async waitForRoom(): Promise<void> {}

  /** Pages reclaim has taken but not freed yet (queued to compression workers). */
  pending(): number {
    return 0;
  }

  /** Count a page a compression worker freed on kswapd's behalf (published at flush). */
  countFreed(kswapd: boolean): void {
    if (kswapd) this.pendKswapd++;
    else this.pendDirect++;
  }

  /**
   * Publish what storeIsolated counted: pages freed from RAM (nr_resident), pgsteal, and
   * the store's counters. Once per slice or batch, not per page.
   */
  flush(): void {
    const mm = this.mm;
    const ev = mm.ev;
    if (this.pendKswapd + this.pendDirect > 0) {
      mm.zone.addResident(-(this.pendKswapd + this.pendDirect));
      mm.vm.add(ev.pgsteal_kswapd, this.pendKswapd);
      mm.vm.add(ev.pgsteal_direct, this.pendDirect);
      mm.vm.add(ev.pgsteal_anon, this.pendKswapd + this.pendDirect);
      this.pendKswapd = this.pendDirect = 0;
    }
    this.store.flushStats();
  }

  /**
   * Reclaim one ISOLATED page and say what became of it. Here: compress inline
   * (today's kernel: kswapd or the direct reclaimer compresses itself).
   */
  protected reclaimPage(page: number, kswapd: boolean): ReclaimOutcome {
    return this.storeIsolated(page, kswapd);
  }

  /**
   * Store an ISOLATED page and publish its new state; on reject it goes back to RESIDENT.
   * Its counters wait for flush().
   */
  storeIsolated(page: number, kswapd: boolean): ReclaimOutcome {
    const mm = this.mm;
    const r = this.store.swapOut(page);
    if (r === StoreResult.REJECTED || r === StoreResult.NO_SPACE) {
      mm.pt.release(page, PageState.RESIDENT, true);
      return r === StoreResult.NO_SPACE ? ReclaimOutcome.NO_SPACE : ReclaimOutcome.KEPT;
    }
    mm.pt.release(page, r === StoreResult.SAME_FILLED ? PageState.SAME_FILLED : PageState.SWAPPED);
    this.countFreed(kswapd);
    return ReclaimOutcome.FREED;
  }
}
