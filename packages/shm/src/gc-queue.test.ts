import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { GcQueue } from './gc-queue.js';
import { bytesOf, GC_STAT_WORDS, GcStat, type GcQueueWorkerData } from './testing/gc-queue-stats.js';

function start(data: GcQueueWorkerData): { worker: Worker; message: Promise<unknown> } {
  const worker = new Worker(new URL('../dist/testing/gc-queue-worker.js', import.meta.url), { workerData: data });
  const message = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
  message.catch(() => undefined); // awaited by the test; not an unhandled rejection meanwhile
  return { worker, message };
}

describe('GcQueue, one thread', () => {
  it('pops what was pushed, oldest first, and keeps pendingBytes exact across the wrap', () => {
    const q = new GcQueue(8, 0);
    const h = new Int32Array(8);
    const b = new Int32Array(8);
    let next = 0;
    let popped = 0;
    for (let lap = 0; lap < 50; lap++) {
      let sum = 0;
      for (let i = 0; i < 5; i++) {
        expect(q.push(next, bytesOf(next))).toBe(true);
        sum += bytesOf(next++);
      }
      expect(q.count).toBe(5);
      expect(q.pendingBytes()).toBe(sum);
      const n = q.popBatch(h, b, 3) + q.popBatch(h.subarray(3), b.subarray(3), 8);
      expect(n).toBe(5);
      for (let i = 0; i < 5; i++) {
        expect(h[i]).toBe(popped);
        expect(b[i]).toBe(bytesOf(popped++));
      }
      expect(q.pendingBytes()).toBe(0);
    }
  });

  it('refuses a push past the byte cap or the capacity, and every push after close', () => {
    const q = new GcQueue(4, 1000);
    expect(q.push(1, 600)).toBe(true);
    expect(q.push(2, 401)).toBe(false); // 1001 > cap
    expect(q.push(3, 400)).toBe(true); // exactly the cap
    expect(q.pendingBytes()).toBe(1000);
    expect(q.push(4, 1)).toBe(false);
    const h = new Int32Array(4);
    const b = new Int32Array(4);
    expect(q.popBatch(h, b, 1)).toBe(1);
    expect(q.pendingBytes()).toBe(400);
    // Capacity: 4 entries whatever their bytes.
    const roomy = new GcQueue(4, 0);
    for (let i = 0; i < 4; i++) expect(roomy.push(i, 1 << 20)).toBe(true);
    expect(roomy.push(9, 1)).toBe(false);
    expect(roomy.pendingBytes()).toBe(4 << 20);
    q.close();
    expect(q.closed).toBe(true);
    expect(q.push(5, 1)).toBe(false);
    // What was queued before close is still there for the consumer.
    expect(q.popBatch(h, b, 4)).toBe(1);
    expect(h[0]).toBe(3);
  });

  it('wakes a sleeping consumer once, not once per push (one sleep costs one notify)', () => {
    const q = new GcQueue(256, 0);
    // Meta words (gc-queue.ts): [4] the consumer's `sleeping` flag, [5] its futex word `seq`.
    const meta = new Int32Array(q.sabs.meta);
    Atomics.store(meta, 4, 1); // as wait() leaves it while the consumer sleeps
    const seq = Atomics.load(meta, 5);
    for (let i = 0; i < 100; i++) expect(q.push(i, 10)).toBe(true);
    // The first push cleared the flag and bumped seq; the other 99 left both alone (a
    // producer that notified on every push until the woken consumer ran again slowed an
    // unmapping thread ~3× here).
    expect(Atomics.load(meta, 4)).toBe(0);
    expect(Atomics.load(meta, 5)).toBe(seq + 1);
  });
});

describe('GcQueue, threads', () => {
  it('three producers and one consumer: every (handle, bytes) pushed is popped exactly once, and the byte cap holds', async () => {
    const producers = 3;
    const perProducer = 20_000;
    const total = producers * perProducer;
    const capBytes = 4096; // ~40 entries of 1..200 bytes: producers hit the cap constantly
    const q = new GcQueue(256, capBytes);
    const counts = new SharedArrayBuffer(total * 4);
    const stats = Array.from({ length: producers + 1 }, () => new SharedArrayBuffer(GC_STAT_WORDS * 4));
    const consumer = start({ role: 'consumer', sabs: q.sabs, capacity: q.capacity, capBytes, counts, stats: stats[0] });
    const ps = Array.from({ length: producers }, (_, i) =>
      start({ role: 'producer', sabs: q.sabs, capacity: q.capacity, capBytes, from: i * perProducer, count: perProducer, stats: stats[i + 1] }),
    );
    try {
      await Promise.all(ps.map((p) => p.message));
      q.close();
      await consumer.message;
    } finally {
      await Promise.all([consumer, ...ps].map((w) => w.worker.terminate()));
    }
    const c = new Int32Array(counts);
    const wrong = [];
    for (let h = 0; h < total && wrong.length < 5; h++) if (c[h] !== 1) wrong.push(`handle ${h} popped ${c[h]} times`);
    expect(wrong).toEqual([]);
    const s = stats.map((b) => new Int32Array(b));
    expect(s[0][GcStat.popped]).toBe(total);
    expect(s[0][GcStat.badBytes]).toBe(0);
    for (const x of s) {
      expect(x[GcStat.overCap]).toBe(0);
      expect(x[GcStat.maxPending]).toBeLessThanOrEqual(capBytes);
    }
    // The cap was reached and pushes were refused (then retried).
    expect(s.slice(1).reduce((sum, x) => sum + x[GcStat.refused], 0)).toBeGreaterThan(0);
    expect(q.count).toBe(0);
    expect(q.pendingBytes()).toBe(0);
  });

  for (const role of ['sleeper', 'sleeper-async'] as const) {
    it(`close() wakes a consumer sleeping on an empty queue (${role === 'sleeper' ? 'Atomics.wait' : 'Atomics.waitAsync'})`, async () => {
      const q = new GcQueue(16, 0);
      const w = start({ role, sabs: q.sabs, capacity: q.capacity, capBytes: 0, stats: new SharedArrayBuffer(GC_STAT_WORDS * 4) });
      try {
        // Word 4 of the queue's meta is the consumer's `sleeping` flag: wait until it is set.
        const meta = new Int32Array(q.sabs.meta);
        while (Atomics.load(meta, 4) !== 1) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 50));
        q.close();
        // It sleeps for up to 120 s unless close() wakes it: a lost wake-up times the test out.
        expect(await w.message).toEqual({ closed: true, count: 0 });
      } finally {
        await w.worker.terminate();
      }
    }, 20_000);
  }
});
