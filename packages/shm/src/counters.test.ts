import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CounterSet } from './counters.js';

const NAMES = ['events', 'bytes'];

/** Sum of 1..n: what a worker adds to `bytes`. */
const tri = (n: number) => (n * (n + 1)) / 2;

function runWorker(data: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../dist/testing/counter-diffs-worker.js', import.meta.url), { workerData: data });
    w.once('error', reject);
    w.once('exit', resolve);
  });
}

describe('per-thread counter diffs', () => {
  it('stay out of the shared counters until folded, then add up exactly', () => {
    const shared = new CounterSet(NAMES);
    const diffs = new SharedArrayBuffer(CounterSet.diffBytes(NAMES.length));
    const mine = new CounterSet(NAMES, shared.sab, diffs);
    mine.inc(0);
    mine.add(1, 4096);
    mine.add(1, -96);
    // Readers see the shared slots: late by this thread's unfolded diffs.
    expect(shared.snapshot()).toEqual({ events: 0, bytes: 0 });
    expect(mine.read('bytes')).toBe(0);
    mine.fold();
    expect(shared.snapshot()).toEqual({ events: 1, bytes: 4000 });
    // A fold leaves the block empty: folding again adds nothing.
    mine.fold();
    expect(shared.snapshot()).toEqual({ events: 1, bytes: 4000 });
    // Without a block, adds go straight to the shared slots.
    shared.add(1, 96);
    expect(shared.read('bytes')).toBe(4096);
  });

  it('of a thread that dies before folding are folded by whoever recovers it: nothing counted is lost', async () => {
    const shared = new CounterSet(NAMES);
    const n = 20_000;
    const diffs = [0, 1, 2].map(() => new SharedArrayBuffer(CounterSet.diffBytes(NAMES.length)));
    // Three threads count at once; the last dies with 20 000 mod 4096 events unfolded.
    const codes = await Promise.all([
      runWorker({ sab: shared.sab, diffs: diffs[0], names: NAMES, n, foldEvery: 1000, die: false }),
      runWorker({ sab: shared.sab, diffs: diffs[1], names: NAMES, n, foldEvery: 7, die: false }),
      runWorker({ sab: shared.sab, diffs: diffs[2], names: NAMES, n, foldEvery: 4096, die: true }),
    ]);
    expect(codes).toEqual([0, 0, 70]);
    const unfolded = n % 4096;
    expect(shared.read('events')).toBe(3 * n - unfolded);
    shared.foldFrom(diffs[2]);
    expect(shared.snapshot()).toEqual({ events: 3 * n, bytes: 3 * tri(n) });
    // The recovered block is empty now: a second recovery would add nothing.
    shared.foldFrom(diffs[2]);
    expect(shared.read('events')).toBe(3 * n);
  });

  it('never hold a gauge: its adds reach the shared slot at once, so a decrement elsewhere cannot go first', () => {
    const names = ['events', 'bytes'] as const;
    const shared = new CounterSet(names);
    const diffs = new SharedArrayBuffer(CounterSet.diffBytes(names.length));
    // A storing thread counts through its diff block; `bytes` is a gauge.
    const storer = new CounterSet(names, shared.sab, diffs, ['bytes']);
    storer.inc(0);
    storer.add(1, 3751);
    expect(shared.snapshot()).toEqual({ events: 0, bytes: 3751 });
    // Another thread frees what was stored: the gauge goes back to 0, never below.
    shared.add(1, -3751);
    expect(shared.read('bytes')).toBe(0);
    storer.fold();
    expect(shared.snapshot()).toEqual({ events: 1, bytes: 0 });
    // The gauge never entered the block: a recovery fold adds nothing to it.
    shared.foldFrom(diffs);
    expect(shared.snapshot()).toEqual({ events: 1, bytes: 0 });
    expect(() => new CounterSet(names, undefined, undefined, ['nope' as 'bytes'])).toThrow(/unknown counter nope/);
  });

  it('refuse a diff block too small for the names', () => {
    expect(() => new CounterSet(NAMES, undefined, new SharedArrayBuffer(8))).toThrow(/diff block holds 1 slots, 2 names given/);
  });
});
