/**
 * The zone: the RAM budget, its watermarks, kswapd's wait word and the CLOCK hand.
 * One Int32Array; each field is on its own 64-byte line where writers contend.
 *
 *   [0]  managed       RAM budget in pages (resident pages + compressed pool footprint)
 *   [1]  min           watermarks in free pages: below min an allocator reclaims directly
 *   [2]  low           below low an allocator wakes kswapd
 *   [3]  high          kswapd reclaims until free ≥ high, then sleeps
 *   [4]  stop          1 when the run is over: every sleeper gives up
 *  [16]  nr_resident   pages counted against RAM in the arena (RESIDENT, LOCKED, ISOLATED);
 *                      Atomics.add by whoever maps, faults, stores or unmaps a page
 *  [32]  kswapd_wait   futex word: allocators set 1 and notify; kswapd sets 0 before it
 *                      checks the watermark and sleeps on 0 (no lost wake-up)
 *  [48]  clock_hand    free-running; scanners claim runs of pages with Atomics.add
 *
 * Readers of nr_resident see a value late by the allocations in flight: watermarks are
 * approximate in the kernel too.
 */
const MANAGED = 0;
const MIN = 1;
const LOW = 2;
const HIGH = 3;
const STOP = 4;
const NR_RESIDENT = 16;
const KSWAPD_WAIT = 32;
const CLOCK_HAND = 48;
const WORDS = 64;

export interface Watermarks {
  min: number;
  low: number;
  high: number;
}

export class Zone {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;

  constructor(init?: { managed: number } & Watermarks, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(WORDS * 4);
    this.words = new Int32Array(this.sab);
    if (init) {
      if (!(init.min <= init.low && init.low <= init.high && init.high < init.managed)) {
        throw new RangeError(`watermarks must satisfy min ≤ low ≤ high < managed, got ${JSON.stringify(init)}`);
      }
      this.words[MANAGED] = init.managed;
      this.words[MIN] = init.min;
      this.words[LOW] = init.low;
      this.words[HIGH] = init.high;
    }
  }

  get managed(): number {
    return this.words[MANAGED];
  }
  get wmarkMin(): number {
    return this.words[MIN];
  }
  get wmarkLow(): number {
    return this.words[LOW];
  }
  get wmarkHigh(): number {
    return this.words[HIGH];
  }

  get nrResident(): number {
    return Atomics.load(this.words, NR_RESIDENT);
  }
  addResident(n: number): void {
    Atomics.add(this.words, NR_RESIDENT, n);
  }

  get stopped(): boolean {
    return Atomics.load(this.words, STOP) !== 0;
  }
  stop(): void {
    Atomics.store(this.words, STOP, 1);
    this.wakeKswapd();
  }

  /** Claim `n` consecutive pages for a scanner; returns the first (wraps at `pages`). */
  claimScan(n: number, pages: number): number {
    return (Atomics.add(this.words, CLOCK_HAND, n) >>> 0) % pages;
  }

  /** wakeup_kswapd(): cheap when kswapd is already awake. */
  wakeKswapd(): void {
    if (Atomics.compareExchange(this.words, KSWAPD_WAIT, 0, 1) === 0) {
      Atomics.notify(this.words, KSWAPD_WAIT, 1);
    }
  }

  /** kswapd: consume a wake-up before checking the watermark. */
  clearKswapdWake(): void {
    Atomics.store(this.words, KSWAPD_WAIT, 0);
  }

  /** kswapd: sleep (without blocking the event loop) until woken or `timeoutMs`. */
  async kswapdSleep(timeoutMs: number): Promise<void> {
    const r = Atomics.waitAsync(this.words, KSWAPD_WAIT, 0, timeoutMs);
    if (r.async) await r.value;
  }
}
