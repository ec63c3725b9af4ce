/**
 * A compression worker's in-flight record: the pages it has popped from its ring and not yet
 * finished, with how far each got, so that if the worker dies mid-batch the main thread can
 * put every page back where it belongs. Also the worker's compressor-context mutex (the
 * per-CPU acomp_ctx mutex of zswap: taken once per request, so a batch takes it once).
 *
 * Layout (Int32Array over one SharedArrayBuffer):
 *   [0]   count      pages in the current batch (0 between batches)
 *   [1]   ctx lock   mutex word (lock.ts)
 *   [2]   batches    requests completed (for reports)
 *   [3]   done       pages finished (stored or returned), including recovered ones: kswapd's
 *                    count of pages still in a worker's hands is ring.pushed − done
 *  [16 ..16+cap)     page index of each entry
 *  [16+cap ..+cap)   mark of each entry (Mark)
 *
 * Writer: the worker only. Reader: the main thread, only after the worker is gone (a crash),
 * so no field needs more than plain writes ordered by the Atomics.store of `count`.
 */
export const InflightMark = {
  /** Popped; the arena page is intact. */
  ISOLATED: 0,
  /** Its object is in the pool and its slot set; page state not yet published. */
  STORED: 1,
  /** Same-filled: its fill word is in the slot; state not yet published. */
  STORED_SAME: 2,
  /** State published (SWAPPED / SAME_FILLED); counters not yet flushed. */
  PUBLISHED: 3,
  /** Published as SAME_FILLED; counters not yet flushed. */
  PUBLISHED_SAME: 4,
  /** Returned to RESIDENT (rejected); nothing to count. */
  RETURNED: 5,
} as const;
export type InflightMark = (typeof InflightMark)[keyof typeof InflightMark];

const COUNT = 0;
export const INFLIGHT_CTX_LOCK = 1;
const BATCHES = 2;
const DONE = 3;
const HEADER = 16;

export class Inflight {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;

  constructor(readonly capacity: number, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer((HEADER + 2 * capacity) * 4);
    this.words = new Int32Array(this.sab);
  }

  /** Record a popped batch before touching any of its pages. */
  begin(pages: Int32Array, n: number): void {
    const w = this.words;
    for (let i = 0; i < n; i++) {
      w[HEADER + i] = pages[i];
      w[HEADER + this.capacity + i] = InflightMark.ISOLATED;
    }
    Atomics.store(w, COUNT, n);
  }

  mark(i: number, m: InflightMark): void {
    this.words[HEADER + this.capacity + i] = m;
  }

  /** The batch is done and its counters flushed. */
  end(): void {
    const n = Atomics.load(this.words, COUNT);
    Atomics.store(this.words, COUNT, 0);
    Atomics.add(this.words, BATCHES, 1);
    Atomics.add(this.words, DONE, n);
  }

  /** Pages finished (see the layout). */
  get done(): number {
    return Atomics.load(this.words, DONE);
  }

  get count(): number {
    return Atomics.load(this.words, COUNT);
  }
  get batches(): number {
    return Atomics.load(this.words, BATCHES);
  }
  page(i: number): number {
    return this.words[HEADER + i];
  }
  markOf(i: number): InflightMark {
    return this.words[HEADER + this.capacity + i] as InflightMark;
  }
}
