/**
 * Pool compaction, as zsmalloc's shrinker does it under memory pressure (zs_shrinker_scan →
 * __zs_compact): kswapd moves the objects of sparse zspages into fuller ones of the same
 * class, so churn (faults and unmaps freeing objects all over the pool) does not leave
 * the footprint growing by every class's free slots. Counted as pages_compacted.
 *
 * The pool moves bytes; this side holds the owner of each moved object: the page whose
 * slot names it, taken SWAPPED → WRITEBACK by CAS (a fault or an unmap meanwhile sleeps on
 * it, as on zswap writeback) and given back SWAPPED with the new handle. An object whose
 * page cannot be taken at once (being faulted in, unmapped, or a slot already queued for
 * the GC worker) stays where it is, and its zspage with it.
 */
import { PageState, STATE_MASK } from '@zreclaim/shm';
import type { Mm } from './mm.js';
import { onDisk } from './store.js';

/** Compact only when at least this share of the pool could be freed (and ≥ MIN_PAGES). */
const WORTH = 0.02;
const MIN_PAGES = 8;

export class Compactor {
  /** handle → arena page, rebuilt for each pass (a scan of the slot table). */
  private readonly owner = new Map<number, number>();
  private readonly hold = (handle: number): number => {
    const mm = this.mm;
    const page = this.owner.get(handle);
    if (page === undefined) return -1;
    const w = mm.pt.load(page);
    if ((w & STATE_MASK) !== PageState.SWAPPED || !mm.pt.cas(page, w, PageState.WRITEBACK)) return -1;
    // Held: the slot cannot change now. It may have changed before the CAS (faulted in and
    // stored again under another handle), so check it names this object.
    if (mm.slots.handle[page] !== handle || onDisk(mm.slots.length[page])) {
      mm.pt.release(page, PageState.SWAPPED);
      return -1;
    }
    return page;
  };
  private readonly moved = (page: number, handle: number): void => {
    this.mm.slots.handle[page] = handle;
    this.mm.pt.release(page, PageState.SWAPPED);
  };

  constructor(private readonly mm: Mm) {}

  /** Pool pages compaction could free now (zs_can_compact over every class). */
  canCompact(): number {
    const pool = this.mm.pool;
    let n = 0;
    for (let c = 0; c < pool.nClasses; c++) n += pool.canCompact(c);
    return n;
  }

  /**
   * One pass when it is worth it: every class that can free pages, one source zspage at a
   * time, until `maxPages` pool pages were freed or nothing more moves. Returns pages freed.
   */
  compact(maxPages = Infinity): number {
    const mm = this.mm;
    const pool = mm.pool;
    const can = this.canCompact();
    if (can < MIN_PAGES || can < pool.pagesUsed * WORTH) return 0;
    this.index();
    let freed = 0;
    for (let c = 0; c < pool.nClasses && freed < maxPages; c++) {
      while (freed < maxPages && pool.canCompact(c) > 0) {
        const n = pool.compactOne(c, this.hold, this.moved);
        if (n === 0) break;
        freed += n;
      }
    }
    this.owner.clear();
    if (freed > 0) mm.vm.add(mm.ev.pages_compacted, freed);
    return freed;
  }

  private index(): void {
    const mm = this.mm;
    const owner = this.owner;
    owner.clear();
    for (let p = 0; p < mm.pages; p++) {
      if ((mm.pt.load(p) & STATE_MASK) !== PageState.SWAPPED) continue;
      const len = mm.slots.length[p];
      if (!onDisk(len)) owner.set(mm.slots.handle[p], p);
    }
  }
}
