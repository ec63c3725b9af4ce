/**
 * kswapd's side of the kcompressd / padata / batch pipelines: instead of compressing an
 * isolated page itself, kswapd pushes its index into a compression worker's ring
 * (swap_sched_async_compress in the kcompressd patch) and goes on scanning. Pages are sharded
 * round-robin over the workers' rings; when every ring is full kswapd compresses the page
 * inline and counts kcompressd_fifo_full, as the patch falls back to a synchronous store.
 * Direct reclaim never uses the rings (current_is_kswapd()).
 *
 * Pushes are staged and published once per slice (flush), one Atomics.store per ring.
 */
import { Inflight, PageState, Ring } from '@zreclaim/shm';
import type { Mm } from './mm.js';
import { ReclaimOutcome, Reclaimer } from './reclaim.js';
import type { ZramStore } from './store.js';

/** Milliseconds on a clock every thread shares (performance.now() has a per-thread origin). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

export class OffloadReclaimer extends Reclaimer {
  private next = 0;
  private enqueued = 0;
  /** Pages pushed since the last publish (at most one slice), to stamp at publish. */
  private readonly staged: number[] = [];
  private fifoFull = 0;

  constructor(
    mm: Mm,
    store: ZramStore,
    private readonly rings: Ring[],
    private readonly inflight: Inflight[],
    /** When each page was pushed (sharedNow ms), for the ring_wait histogram. */
    private readonly stamps: Float64Array,
    private readonly waitWhenFull = false,
    unmapCostNs = 0,
  ) {
    super(mm, store, unmapCostNs);
  }

  /** kswapd's pages go to the rings one by one; a direct reclaimer's are stored here in batches. */
  protected override storesInBatches(kswapd: boolean): boolean {
    return !kswapd;
  }

  protected override reclaimPage(page: number, kswapd: boolean): ReclaimOutcome {
    if (!kswapd) return this.storeIsolated(page, false);
    const rings = this.rings;
    for (let k = 0; k < rings.length; k++) {
      const ring = rings[this.next];
      if (++this.next === rings.length) this.next = 0;
      if (ring.tryPush(page)) {
        this.staged.push(page);
        this.enqueued++;
        return ReclaimOutcome.QUEUED;
      }
    }
    this.fifoFull++;
    if (this.waitWhenFull) {
      // Put it back untouched (not referenced: it is still cold) and stop this slice.
      this.mm.pt.release(page, PageState.RESIDENT, false);
      return ReclaimOutcome.RING_FULL;
    }
    return this.storeIsolated(page, true);
  }

  override flush(): void {
    // ring_wait runs from the moment a page becomes visible to its worker: stamp at publish
    // (the plain stores are ordered before the ring's Atomics.store of `in`).
    if (this.staged.length > 0) {
      const now = sharedNow();
      for (const p of this.staged) this.stamps[p] = now;
      this.staged.length = 0;
    }
    for (const ring of this.rings) ring.publish();
    const { vm, ev } = this.mm;
    vm.add(ev.kcompressd_enqueued, this.enqueued);
    vm.add(ev.kcompressd_fifo_full, this.fifoFull);
    this.enqueued = this.fifoFull = 0;
    super.flush();
  }

  override async waitForRoom(): Promise<void> {
    await Promise.race(this.rings.map((r) => r.waitForSpaceAsync(5)));
  }

  /** Pages handed to workers and not yet stored or returned (published pushes − done). */
  override pending(): number {
    let n = 0;
    for (let i = 0; i < this.rings.length; i++) n += this.rings[i].pushed - this.inflight[i].done;
    return n;
  }
}
