/**
 * Log-linear latency histograms in shared memory (HdrHistogram-like), mergeable across
 * threads, shards and runs.
 *
 * Values are nanoseconds, rounded to an integer; negative values and NaN count as 0.
 *
 * Buckets (SUB = 32 linear sub-buckets per power of two):
 *
 *   index 0..63          exact: the value v itself (v < 64)
 *   index 64 + 32·(e−6) + s, for 2^e ≤ v < 2^(e+1), e = 6..47:
 *                        s = ⌊v / 2^(e−5)⌋ − 32, a bucket 2^(e−5) wide
 *
 * so a bucket is at most 1/32 of its lower bound wide: a reported percentile (the bucket's
 * upper bound) overstates the true value by less than 3.125 %, and never understates it.
 * Values from 2^48 ns (about 78 hours) up saturate into the last bucket.
 *
 * Layout of one histogram (BYTES bytes, a multiple of 64, at a byteOffset that is a
 * multiple of 8), as Uint32 words:
 *
 *   [0]  count lo      total records, low 32 bits
 *   [1]  count hi      total records, high 32 bits
 *   [2..15]            reserved (the header fills one 64-byte line)
 *   [16 + 2i]          bucket i count, low 32 bits
 *   [17 + 2i]          bucket i count, high 32 bits
 *
 * Writers: any thread, through record()/recordMany()/merge(), with Atomics.add on the low
 * word; the writer whose add wraps the low word carries 1 into the high word with a second
 * Atomics.add. reset() stores zeros and is meant for a quiescent histogram (between runs).
 *
 * Readers: Atomics.load. A reader may be late by the records in flight on other threads,
 * and the total count word and the buckets are read at different instants, so during a run
 * `count` may differ from the sum of the buckets by the records in flight. Readers that
 * need consistency (percentile, toJSON) work from one pass over the buckets. A reader that
 * races a carry (once per 2^32 records of one bucket) may see the low word wrapped before
 * the high word is bumped, for that instant.
 */

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS; // 32 linear sub-buckets per power of two
const EXACT = 2 * SUB; // values below 64 have their own bucket
const MIN_EXP = SUB_BITS + 1; // 6: the first log-linear power of two
const MAX_EXP = 47; // the last: values up to 2^48 − 1
const NBUCKETS = EXACT + (MAX_EXP - MIN_EXP + 1) * SUB; // 1408
const HEADER_WORDS = 16;
const COUNT_LO = 0; // and COUNT_LO + 1: the high word
const TWO32 = 4294967296;
const MAX_VALUE = 2 ** (MAX_EXP + 1) - 1;

/** 2^k for k = 0..63, so the hot path divides by an exact power of two without Math.pow. */
const POW2 = new Float64Array(64);
for (let k = 0; k < 64; k++) POW2[k] = 2 ** k;

/** Bucket index of a non-negative integer value. */
export function bucketOf(v: number): number {
  if (v < EXACT) return v;
  if (v > MAX_VALUE) return NBUCKETS - 1;
  const e = v < TWO32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO32));
  const s = Math.floor(v / POW2[e - SUB_BITS]) - SUB;
  return EXACT + (e - MIN_EXP) * SUB + s;
}

/** Smallest value that lands in bucket `i`. */
export function bucketLow(i: number): number {
  if (i < EXACT) return i;
  const g = (i - EXACT) >> SUB_BITS;
  const s = (i - EXACT) & (SUB - 1);
  return (SUB + s) * POW2[g + 1];
}

/** Largest value that lands in bucket `i` (its "highest equivalent value"). */
export function bucketHigh(i: number): number {
  if (i < EXACT) return i;
  return bucketLow(i) + POW2[((i - EXACT) >> SUB_BITS) + 1] - 1;
}

/** Largest relative overstatement of a reported percentile or max: 1/32. */
export const HISTOGRAM_RELATIVE_ERROR = 1 / SUB;

/** A histogram's summary. Every value is in nanoseconds, as everything a Histogram records. */
export interface HistogramSummary {
  /** Samples recorded (0: every other field is 0). */
  count: number;
  /** Nanoseconds: lower bound of the lowest non-empty bucket (≤ the true minimum, within 1/32). */
  min: number;
  /** Nanoseconds: upper bound of the highest non-empty bucket (≥ the true maximum, within 1/32). */
  max: number;
  /** Nanoseconds, from bucket midpoints (within 1/64 of the true mean). */
  mean: number;
  /** Nanoseconds: the 50th percentile's bucket upper bound (never below the true value, at most 1/32 above). */
  p50: number;
  /** Nanoseconds: the 90th percentile, as p50. */
  p90: number;
  /** Nanoseconds: the 99th percentile, as p50. */
  p99: number;
  /** Nanoseconds: the 99.9th percentile, as p50. */
  p999: number;
  /** Non-empty buckets as [upper bound in nanoseconds, count], ascending; enough to merge histograms again. */
  buckets: [number, number][];
}

export class Histogram {
  /** Bytes one histogram occupies in a SharedArrayBuffer (a multiple of 64). */
  static readonly BYTES = (HEADER_WORDS + 2 * NBUCKETS) * 4;
  /** Number of buckets (for tests and plots). */
  static readonly BUCKETS = NBUCKETS;

  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
  private readonly w: Uint32Array;

  constructor(sab?: SharedArrayBuffer, byteOffset = 0) {
    this.sab = sab ?? new SharedArrayBuffer(Histogram.BYTES);
    if (byteOffset % 8 !== 0 || byteOffset < 0) {
      throw new RangeError(`Histogram: byteOffset ${byteOffset} must be a non-negative multiple of 8`);
    }
    if (this.sab.byteLength < byteOffset + Histogram.BYTES) {
      throw new RangeError(
        `Histogram: buffer of ${this.sab.byteLength} bytes has no room for ${Histogram.BYTES} bytes at offset ${byteOffset}`,
      );
    }
    this.byteOffset = byteOffset;
    this.w = new Uint32Array(this.sab, byteOffset, HEADER_WORDS + 2 * NBUCKETS);
  }

  /** Record one value in ns. Allocation-free: two or three Atomics.add. */
  record(ns: number): void {
    let v = Math.round(ns);
    if (!(v > 0)) v = 0;
    this.add(HEADER_WORDS + 2 * bucketOf(v), 1);
    this.add(COUNT_LO, 1);
  }

  /** Record `n` occurrences of one value (n a non-negative integer < 2^53). */
  recordMany(ns: number, n: number): void {
    if (!(n > 0)) return;
    let v = Math.round(ns);
    if (!(v > 0)) v = 0;
    this.add(HEADER_WORDS + 2 * bucketOf(v), n);
    this.add(COUNT_LO, n);
  }

  /** Atomically add n to the 64-bit pair at word `lo` (carry on the wrap of the low word). */
  private add(lo: number, n: number): void {
    const nlo = n % TWO32;
    const old = Atomics.add(this.w, lo, nlo);
    const carry = old + nlo >= TWO32 ? 1 : 0;
    const nhi = (n - nlo) / TWO32 + carry;
    if (nhi !== 0) Atomics.add(this.w, lo + 1, nhi);
  }

  /** Add `n` records to bucket `i` and to the total (HistogramDeltas.publish). */
  addToBucket(i: number, n: number): void {
    if (!(n > 0)) return;
    this.add(HEADER_WORDS + 2 * i, n);
    this.add(COUNT_LO, n);
  }

  private load64(lo: number): number {
    for (;;) {
      const hi = Atomics.load(this.w, lo + 1);
      const l = Atomics.load(this.w, lo);
      if (Atomics.load(this.w, lo + 1) === hi) return hi * TWO32 + l;
    }
  }

  /** Count of bucket i (late by the records in flight). */
  bucketCount(i: number): number {
    return this.load64(HEADER_WORDS + 2 * i);
  }

  /** Total records, from the count word (late by the records in flight). */
  get count(): number {
    return this.load64(COUNT_LO);
  }

  /**
   * Value at percentile p (0..100): the upper bound of the bucket holding the record of
   * rank ⌈p/100 · n⌉ (rank 1 for p = 0), so it is ≥ the exact percentile and within 1/32
   * of it. 0 when empty.
   */
  percentile(p: number): number {
    const total = this.sumBuckets();
    if (total === 0) return 0;
    const rank = rankOf(p, total);
    let seen = 0;
    let last = 0;
    for (let i = 0; i < NBUCKETS; i++) {
      const c = this.bucketCount(i);
      if (c === 0) continue;
      seen += c;
      last = i;
      if (seen >= rank) return bucketHigh(i);
    }
    return bucketHigh(last); // records arrived after the first pass
  }

  /** Lower bound of the lowest non-empty bucket (≤ true min, within 1/32); 0 when empty. */
  min(): number {
    for (let i = 0; i < NBUCKETS; i++) if (this.bucketCount(i) !== 0) return bucketLow(i);
    return 0;
  }

  /** Upper bound of the highest non-empty bucket (≥ true max, within 1/32); 0 when empty. */
  max(): number {
    for (let i = NBUCKETS - 1; i >= 0; i--) if (this.bucketCount(i) !== 0) return bucketHigh(i);
    return 0;
  }

  /** Mean from bucket midpoints (within 1/64 of the true mean); 0 when empty. */
  mean(): number {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < NBUCKETS; i++) {
      const c = this.bucketCount(i);
      if (c === 0) continue;
      n += c;
      sum += c * ((bucketLow(i) + bucketHigh(i)) / 2);
    }
    return n === 0 ? 0 : sum / n;
  }

  /** Add every count of `other` into this one (other may be live; it is read once). */
  merge(other: Histogram): void {
    let total = 0;
    for (let i = 0; i < NBUCKETS; i++) {
      const c = other.bucketCount(i);
      if (c === 0) continue;
      this.add(HEADER_WORDS + 2 * i, c);
      total += c;
    }
    if (total !== 0) this.add(COUNT_LO, total);
  }

  /** Zero every word. Not atomic against concurrent record(): reset between runs. */
  reset(): void {
    for (let i = 0; i < this.w.length; i++) Atomics.store(this.w, i, 0);
  }

  /** One pass over the buckets; every field of the summary comes from that pass. */
  toJSON(): HistogramSummary {
    const buckets: [number, number][] = [];
    const idx: number[] = [];
    let count = 0;
    let sum = 0;
    for (let i = 0; i < NBUCKETS; i++) {
      const c = this.bucketCount(i);
      if (c === 0) continue;
      buckets.push([bucketHigh(i), c]);
      idx.push(i);
      count += c;
      sum += c * ((bucketLow(i) + bucketHigh(i)) / 2);
    }
    if (count === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, buckets };
    const at = (p: number): number => {
      const rank = rankOf(p, count);
      let seen = 0;
      for (const b of buckets) {
        seen += b[1];
        if (seen >= rank) return b[0];
      }
      return buckets[buckets.length - 1][0];
    };
    return {
      count,
      min: bucketLow(idx[0]),
      max: bucketHigh(idx[idx.length - 1]),
      mean: sum / count,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      buckets,
    };
  }

  /** A fresh (private) histogram holding the buckets of a summary. */
  static fromSummary(s: Pick<HistogramSummary, 'buckets'>, sab?: SharedArrayBuffer, byteOffset = 0): Histogram {
    const h = new Histogram(sab, byteOffset);
    for (const [v, c] of s.buckets) {
      if (!Number.isFinite(v) || !Number.isInteger(c) || c < 0) {
        throw new RangeError(`Histogram.fromSummary: bad bucket [${v}, ${c}]`);
      }
      h.recordMany(v, c);
    }
    return h;
  }

  private sumBuckets(): number {
    let n = 0;
    for (let i = 0; i < NBUCKETS; i++) n += this.bucketCount(i);
    return n;
  }
}

function rankOf(p: number, total: number): number {
  const q = p <= 0 ? 0 : p >= 100 ? 1 : p / 100;
  // p/100 · n carries float noise (99.9/100 · 1000 = 999.0000000000001): trim it.
  return Math.max(1, Math.ceil(q * total - 1e-9 * total));
}

/**
 * Several named histograms in one SharedArrayBuffer: histogram i (names[i]) at byte
 * i · Histogram.BYTES. Create it on one thread, send `sab` to the others, and let each
 * thread build its own HistogramSet over it with the same names.
 */
export class HistogramSet<N extends string> {
  readonly sab: SharedArrayBuffer;
  private readonly byName: Map<N, Histogram>;

  static bytesFor(count: number): number {
    return count * Histogram.BYTES;
  }

  constructor(
    readonly names: readonly N[],
    sab?: SharedArrayBuffer,
  ) {
    const bytes = HistogramSet.bytesFor(names.length);
    this.sab = sab ?? new SharedArrayBuffer(bytes);
    if (this.sab.byteLength < bytes) {
      throw new RangeError(
        `HistogramSet: buffer of ${this.sab.byteLength} bytes holds ${Math.floor(this.sab.byteLength / Histogram.BYTES)} histograms, ${names.length} names given`,
      );
    }
    this.byName = new Map(names.map((n, i) => [n, new Histogram(this.sab, i * Histogram.BYTES)]));
  }

  /** The histogram of a name; resolve it once, outside the hot path. */
  get(name: N): Histogram {
    const h = this.byName.get(name);
    if (h === undefined) throw new RangeError(`unknown histogram ${name}`);
    return h;
  }

  /** A plain object, name → summary, in declaration order. */
  snapshot(): Record<N, HistogramSummary> {
    const out = {} as Record<N, HistogramSummary>;
    for (const n of this.names) out[n] = this.get(n).toJSON();
    return out;
  }

  reset(): void {
    for (const h of this.byName.values()) h.reset();
  }
}

/**
 * One thread's unpublished records for a shared Histogram: plain counts, no atomics, added
 * into the histogram by publish(), as per-cpu vmstat deltas are folded into the global
 * counters. For a path that records per page and publishes per slice or batch: two
 * Atomics.add a record become one a touched bucket a publish. Readers of the histogram
 * are late by what is not published yet. Owned by one thread.
 */
export class HistogramDeltas {
  private readonly counts = new Uint32Array(NBUCKETS);
  /** Buckets with a count, in the order first touched since the last publish. */
  private readonly touched = new Int32Array(NBUCKETS);
  private nTouched = 0;

  constructor(readonly target: Histogram) {}

  /** Record one value in ns (as Histogram.record), unpublished. */
  record(ns: number): void {
    let v = Math.round(ns);
    if (!(v > 0)) v = 0;
    const b = bucketOf(v);
    if (this.counts[b]++ === 0) this.touched[this.nTouched++] = b;
  }

  /** Add every unpublished record into the shared histogram. */
  publish(): void {
    const n = this.nTouched;
    for (let k = 0; k < n; k++) {
      const b = this.touched[k];
      this.target.addToBucket(b, this.counts[b]);
      this.counts[b] = 0;
    }
    this.nTouched = 0;
  }
}
