/**
 * kswapd on the main thread. It sleeps (Atomics.waitAsync on the zone's wait word, so the
 * event loop keeps running) until an allocator finds free memory under the low watermark,
 * then reclaims in slices of `slice` pages until free memory is back above high, yielding
 * the event loop every KSWAPD_RESCHED_MS so progress output and control calls keep flowing.
 */
import type { Compactor } from './compact.js';
import type { Mm } from './mm.js';
import type { Reclaimer } from './reclaim.js';

/** Most pool pages one balance pass frees by compaction (bounds the time it takes). */
const COMPACT_MAX_PAGES = 256;

/**
 * kswapd yields the event loop once it has run this long since its last yield
 * (cond_resched: give way when due, not after every batch). A yield per 64-page slice cost
 * an inline drain ~8 % here (a setImmediate turn, which also runs the finalizers of
 * lz4-napi's Buffers in small bites); progress output and control calls still get the loop
 * every couple of milliseconds.
 */
export const KSWAPD_RESCHED_MS = 2;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

export class Kswapd {
  /** Wall time spent reclaiming (the main thread does nothing else meanwhile). */
  busyMs = 0;
  /** What ended the loop, if it failed (the run reports it). */
  error: Error | undefined;
  private done: Promise<void> | undefined;
  /** Resolved when kswapd next goes to sleep (see nextSleep). */
  private sleepers: Array<() => void> = [];

  constructor(
    private readonly mm: Mm,
    private readonly reclaimer: Reclaimer,
    private readonly slice: number,
    /** zsmalloc's shrinker: compact the pool at the start of each balance pass (store.compact). */
    private readonly compactor?: Compactor,
  ) {}

  start(): void {
    this.done ??= this.loop().catch((e: unknown) => {
      this.error = e instanceof Error ? e : new Error(String(e));
      this.mm.zone.stop();
    }).finally(() => this.wakeSleepers());
  }

  /**
   * Resolves when kswapd next goes to sleep: free memory is above the low watermark (its
   * balance pass is over), or the loop ended. A drain waits on it instead of polling.
   */
  nextSleep(): Promise<void> {
    return new Promise((r) => this.sleepers.push(r));
  }

  private wakeSleepers(): void {
    const s = this.sleepers;
    if (s.length === 0) return;
    this.sleepers = [];
    for (const r of s) r();
  }

  /** Resolves when the loop has seen zone.stop(). */
  stopped(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    const { mm } = this;
    const zone = mm.zone;
    while (!zone.stopped) {
      zone.clearKswapdWake();
      if (mm.freePages() > zone.wmarkLow) {
        this.wakeSleepers();
        await zone.kswapdSleep(100);
        continue;
      }
      mm.vm.inc(mm.ev.pageoutrun);
      // When kswapd last gave the event loop a turn (every await below is one).
      let turnAt = performance.now();
      if (this.compactor) {
        const t0 = performance.now();
        this.compactor.compact(COMPACT_MAX_PAGES);
        this.busyMs += performance.now() - t0;
      }
      // balance_pgdat: reclaim until free memory is really back above high.
      while (!zone.stopped && mm.freePages() < zone.wmarkHigh) {
        // Pages queued to compression workers free memory once stored (about half a page
        // each at a typical ratio): when they will cover the gap, wait for them instead of
        // isolating more (the kernel throttles kswapd on writeback the same way).
        if (mm.freePages() + this.reclaimer.pending() / 2 >= zone.wmarkHigh) {
          await new Promise<void>((r) => setTimeout(r, 1));
          turnAt = performance.now();
          continue;
        }
        const t0 = performance.now();
        const n = this.reclaimer.shrink(this.slice, true);
        this.busyMs += performance.now() - t0;
        if (this.reclaimer.ringFull) {
          // kswapd.onFull 'wait': the workers are behind; sleep until one has room.
          await this.reclaimer.waitForRoom();
          turnAt = performance.now();
          continue;
        }
        if (n === 0 || performance.now() - turnAt >= KSWAPD_RESCHED_MS) {
          await yieldLoop();
          turnAt = performance.now();
        }
        if (n === 0) {
          // Nothing reclaimable right now (all referenced or held): back off briefly.
          await new Promise<void>((r) => setTimeout(r, 1));
          break;
        }
      }
    }
  }
}
