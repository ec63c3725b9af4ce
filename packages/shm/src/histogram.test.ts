import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import {
  Histogram,
  HistogramDeltas,
  HistogramSet,
  HISTOGRAM_RELATIVE_ERROR,
  bucketHigh,
  bucketLow,
  bucketOf,
} from './histogram.js';

/** Deterministic PRNG for reproducible distributions (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exact percentile under the histogram's rank rule: the value of rank ⌈p/100·n⌉. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9 * sorted.length));
  return sorted[rank - 1];
}

function histOf(values: number[]): Histogram {
  const h = new Histogram();
  for (const v of values) h.record(v);
  return h;
}

function bucketsOf(h: Histogram): number[] {
  const out: number[] = [];
  for (let i = 0; i < Histogram.BUCKETS; i++) out.push(h.bucketCount(i));
  return out;
}

function runWorker(data: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../dist/testing/hist-worker.js', import.meta.url), { workerData: data });
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hist-worker exited with ${code}`))));
  });
}

describe('bucket layout', () => {
  it('buckets tile the value range without gaps, exact below 64, each at most 1/32 of its lower bound wide', () => {
    for (let i = 0; i < Histogram.BUCKETS; i++) {
      expect(bucketOf(bucketLow(i))).toBe(i);
      expect(bucketOf(bucketHigh(i))).toBe(i);
      if (i + 1 < Histogram.BUCKETS) expect(bucketLow(i + 1)).toBe(bucketHigh(i) + 1);
      if (i < 64) expect(bucketHigh(i)).toBe(i);
      else expect(bucketHigh(i) + 1 - bucketLow(i)).toBeLessThanOrEqual(bucketLow(i) * HISTOGRAM_RELATIVE_ERROR);
    }
    expect(bucketHigh(Histogram.BUCKETS - 1)).toBeGreaterThanOrEqual(2 ** 40);
    expect(Histogram.BYTES % 64).toBe(0);
  });

  it('every value up to 2^48 lands in a bucket whose bounds contain it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (v) => {
        const i = bucketOf(v);
        return bucketLow(i) <= v && v <= bucketHigh(i);
      }),
      { numRuns: 20_000 },
    );
  });

  it('negative and NaN values count as 0, fractions round, huge values saturate into the last bucket', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(Number.NaN);
    h.record(0.4);
    h.record(2.6);
    h.record(2 ** 60);
    expect(h.bucketCount(0)).toBe(3);
    expect(h.bucketCount(3)).toBe(1);
    expect(h.bucketCount(Histogram.BUCKETS - 1)).toBe(1);
    expect(h.count).toBe(5);
  });
});

describe('Histogram statistics', () => {
  const n = 200_000;
  const dists: [string, () => number][] = [
    ['uniform 0..10 ms', ((r) => () => r() * 1e7)(rng(1))],
    ['exponential, mean 50 µs', ((r) => () => -Math.log(1 - r()) * 5e4)(rng(2))],
    [
      'lognormal around 5 µs with a long tail',
      ((r) => () => Math.exp(Math.log(5000) + 1.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())))(
        rng(3),
      ),
    ],
    ['small exact values 0..100 ns', ((r) => () => Math.floor(r() * 100))(rng(4))],
  ];

  for (const [name, draw] of dists) {
    it(`percentiles of ${name} are at or above the exact value and within 1/32 of it`, () => {
      const values: number[] = [];
      for (let i = 0; i < n; i++) values.push(Math.round(draw()));
      const h = histOf(values);
      const sorted = [...values].sort((a, b) => a - b);
      expect(h.count).toBe(n);
      for (const p of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100]) {
        const exact = exactPercentile(sorted, p);
        const got = h.percentile(p);
        expect(got).toBeGreaterThanOrEqual(exact);
        expect(got - exact).toBeLessThanOrEqual(exact * HISTOGRAM_RELATIVE_ERROR);
      }
      const s = h.toJSON();
      expect(s.p50).toBe(h.percentile(50));
      expect(s.p999).toBe(h.percentile(99.9));
      expect(s.max).toBe(h.max());
      expect(h.min()).toBeLessThanOrEqual(sorted[0]);
      expect(sorted[0] - h.min()).toBeLessThanOrEqual(sorted[0] * HISTOGRAM_RELATIVE_ERROR);
      expect(h.max()).toBeGreaterThanOrEqual(sorted[n - 1]);
      expect(h.max() - sorted[n - 1]).toBeLessThanOrEqual(sorted[n - 1] * HISTOGRAM_RELATIVE_ERROR);
      const mean = values.reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(h.mean() - mean)).toBeLessThanOrEqual(mean * (HISTOGRAM_RELATIVE_ERROR / 2) + 0.5);
    });
  }

  it('an empty histogram reports zeros', () => {
    const h = new Histogram();
    expect([h.count, h.percentile(50), h.min(), h.max(), h.mean()]).toEqual([0, 0, 0, 0, 0]);
    expect(h.toJSON()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, buckets: [] });
  });

  it('counts carry past 2^32 without loss', () => {
    const h = new Histogram();
    h.recordMany(1000, 2 ** 32 - 1);
    h.record(1000);
    h.record(1000);
    h.recordMany(7, 3 * 2 ** 32 + 5);
    expect(h.bucketCount(bucketOf(1000))).toBe(2 ** 32 + 1);
    expect(h.bucketCount(7)).toBe(3 * 2 ** 32 + 5);
    expect(h.count).toBe(4 * 2 ** 32 + 6);
    expect(h.percentile(50)).toBe(7);
    expect(h.percentile(100)).toBe(bucketHigh(bucketOf(1000)));
  });

  it('reset empties the histogram', () => {
    const h = histOf([1, 2, 3, 1e9]);
    h.reset();
    expect(h.count).toBe(0);
    expect(bucketsOf(h).every((c) => c === 0)).toBe(true);
  });
});

describe('per-thread deltas', () => {
  it('publish adds exactly what was recorded, and nothing shows before it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 2 ** 40, noNaN: true }), { maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (values, every) => {
        const direct = new Histogram();
        const shared = new Histogram();
        const deltas = new HistogramDeltas(shared);
        values.forEach((v, i) => {
          direct.record(v);
          deltas.record(v);
          if (i % every === every - 1) deltas.publish();
        });
        const unpublished = values.length % every;
        expect(shared.count).toBe(values.length - unpublished);
        deltas.publish();
        deltas.publish(); // a second publish adds nothing
        expect(shared.count).toBe(direct.count);
        for (let b = 0; b < Histogram.BUCKETS; b++) expect(shared.bucketCount(b)).toBe(direct.bucketCount(b));
      }),
      { numRuns: 60 },
    );
  });
});

describe('merging', () => {
  const values = fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 45 })), {
    maxLength: 300,
  });

  it('the merge of two histograms equals the histogram of the union', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const ha = histOf(a);
        ha.merge(histOf(b));
        const hu = histOf([...a, ...b]);
        expect(bucketsOf(ha)).toEqual(bucketsOf(hu));
        expect(ha.count).toBe(hu.count);
        expect(ha.toJSON()).toEqual(hu.toJSON());
      }),
      { numRuns: 200 },
    );
  });

  it('toJSON → fromSummary round-trips every bucket and every statistic', () => {
    fc.assert(
      fc.property(values, (a) => {
        const h = histOf(a);
        const s = h.toJSON();
        const back = Histogram.fromSummary(JSON.parse(JSON.stringify(s)));
        expect(bucketsOf(back)).toEqual(bucketsOf(h));
        expect(back.toJSON()).toEqual(s);
      }),
      { numRuns: 200 },
    );
  });

  it('fromSummary refuses a malformed bucket', () => {
    expect(() => Histogram.fromSummary({ buckets: [[100, -1]] })).toThrow(/bad bucket/);
    expect(() => Histogram.fromSummary({ buckets: [[Number.NaN, 1]] })).toThrow(/bad bucket/);
  });
});

describe('shared memory', () => {
  it('two worker threads recording into one shared histogram lose no counts', async () => {
    const set = new HistogramSet(['fault', 'compress'] as const);
    const n = 1_000_000;
    const h = set.get('compress');
    await Promise.all([
      runWorker({ sab: set.sab, byteOffset: h.byteOffset, n, seed: 1 }),
      runWorker({ sab: set.sab, byteOffset: h.byteOffset, n, seed: 2 }),
    ]);
    // The same values recorded privately, one thread after the other.
    const expected = new Histogram();
    for (const seed of [1, 2]) {
      let x = seed;
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        expected.record(((x >>> 0) >>> (i % 32)) * 2 ** (i % 9));
      }
    }
    expect(h.count).toBe(2 * n);
    expect(bucketsOf(h)).toEqual(bucketsOf(expected));
    expect(set.get('fault').count).toBe(0);
  });

  it('two worker threads hammering one bucket lose no counts', async () => {
    const h = new Histogram();
    const n = 1_000_000;
    await Promise.all([
      runWorker({ sab: h.sab, byteOffset: 0, n, seed: 1, fixed: 4242 }),
      runWorker({ sab: h.sab, byteOffset: 0, n, seed: 2, fixed: 4242 }),
    ]);
    expect(h.count).toBe(2 * n);
    expect(h.bucketCount(bucketOf(4242))).toBe(2 * n);
  });

  it('a HistogramSet attached to the same buffer sees the same named histograms', () => {
    const names = ['alloc_stall', 'fault', 'unmap'] as const;
    const a = new HistogramSet(names);
    const b = new HistogramSet(names, a.sab);
    a.get('fault').record(1500);
    a.get('fault').record(1500);
    b.get('unmap').record(10);
    const snap = b.snapshot();
    expect(Object.keys(snap)).toEqual([...names]);
    expect(snap.fault.count).toBe(2);
    expect(snap.unmap.p50).toBe(10);
    expect(snap.alloc_stall.count).toBe(0);
    expect(() => new HistogramSet(names, new SharedArrayBuffer(Histogram.BYTES))).toThrow(/holds 1 histograms, 3 names/);
    expect(() => a.get('nope' as 'fault')).toThrow(/unknown histogram nope/);
  });
});
