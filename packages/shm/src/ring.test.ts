import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuRelax, Ring } from './ring.js';
import { RING_STAT_WORDS, RingStat, type RingConsumerData } from './testing/ring-stats.js';

/** Deterministic xorshift, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

describe('Ring, one thread', () => {
  it('keeps FIFO order and the fill level over many laps of the slots', () => {
    const ring = new Ring(8);
    const next = rng(7);
    const out = new Int32Array(8);
    let pushed = 0;
    let popped = 0;
    for (let lap = 0; lap < 2000; lap++) {
      const k = 1 + (next() % 8);
      for (let i = 0; i < k; i++) expect(ring.push(pushed++)).toBe(true);
      expect(ring.size()).toBe(k);
      if (lap & 1) {
        const n = ring.popBatch(out, 8);
        expect(n).toBe(k);
        for (let i = 0; i < n; i++) expect(out[i]).toBe(popped++);
      } else {
        for (let i = 0; i < k; i++) expect(ring.tryPop()).toBe(popped++);
      }
      expect(ring.tryPop()).toBe(-1);
      expect(ring.size()).toBe(0);
    }
    expect(ring.pushed).toBe(pushed);
    expect(ring.popped).toBe(popped);
    expect(pushed).toBeGreaterThan(8 * 500);
  });

  it('refuses a push at exactly capacity, counting staged items, and never waits', () => {
    const ring = new Ring(16);
    for (let i = 0; i < 16; i++) expect(ring.tryPush(i)).toBe(true);
    expect(ring.staged).toBe(16);
    expect(ring.size()).toBe(0); // staged items are not visible yet
    expect(ring.tryPop()).toBe(-1);
    expect(ring.tryPush(16)).toBe(false);
    ring.publish();
    expect(ring.staged).toBe(0);
    expect(ring.size()).toBe(16);
    expect(ring.push(16)).toBe(false);
    expect(ring.tryPop()).toBe(0);
    expect(ring.tryPush(16)).toBe(true);
    expect(ring.tryPush(17)).toBe(false);
    ring.publish();
    for (let i = 1; i <= 16; i++) expect(ring.tryPop()).toBe(i);
    expect(ring.pushed).toBe(17);
    expect(ring.popped).toBe(17);
  });

  it('popBatch returns the oldest items first, bounded by max and out.length, across the wrap', () => {
    const ring = new Ring(8);
    for (let i = 0; i < 5; i++) ring.push(100 + i);
    for (let i = 0; i < 5; i++) ring.tryPop();
    for (let i = 0; i < 8; i++) ring.tryPush(i); // slots 5,6,7,0,1,…
    ring.publish();
    const out = new Int32Array(4).fill(-9);
    expect(ring.popBatch(out, 3)).toBe(3);
    expect([...out]).toEqual([0, 1, 2, -9]);
    expect(ring.popBatch(out, 100)).toBe(4);
    expect([...out]).toEqual([3, 4, 5, 6]);
    expect(ring.popBatch(out, 0)).toBe(0);
    expect(ring.popBatch(out, 4)).toBe(1);
    expect(out[0]).toBe(7);
    expect(ring.popBatch(out, 4)).toBe(0);
    expect(ring.popped).toBe(13);
  });

  it('runs its counters free across 2^32 without losing the fill level or the counts', () => {
    const sab = new SharedArrayBuffer(Ring.bytesFor(4));
    const words = new Int32Array(sab);
    const start = 0x1_0000_0000 - 6;
    words[0] = start | 0; // in, byte 0
    words[32] = start | 0; // out, byte 128
    const ring = new Ring(4, sab);
    for (let i = 0; i < 40; i++) {
      expect(ring.push(i)).toBe(true);
      expect(ring.push(1000 + i)).toBe(true);
      expect(ring.size()).toBe(2);
      expect(ring.tryPop()).toBe(i);
      expect(ring.tryPop()).toBe(1000 + i);
    }
    expect(ring.pushed).toBe(start + 80);
    expect(ring.popped).toBe(start + 80);
    expect(words[1]).toBe(2); // in_seq: one lap turned, seqlock even again
  });

  it('rejects a capacity that is not a power of two with a RangeError that says so', () => {
    for (const c of [0, 3, 100, 1.5, -4, 2 ** 29, Number.NaN]) {
      expect(() => new Ring(c)).toThrow(RangeError);
      expect(() => Ring.bytesFor(c)).toThrow(/power of two/);
    }
    expect(() => new Ring(64, new SharedArrayBuffer(Ring.bytesFor(32)))).toThrow(/too small/);
    expect(new Ring().capacity).toBe(256);
    expect(new Ring(1).push(5)).toBe(true);
  });

  it('rejects items that are not Int32 page indices ≥ 0', () => {
    const ring = new Ring(4);
    expect(() => ring.tryPush(-1)).toThrow(RangeError);
    expect(() => ring.tryPush(2 ** 31)).toThrow(RangeError);
    expect(() => ring.tryPush(1.5)).toThrow(RangeError);
    expect(ring.size()).toBe(0);
  });

  it('after close the consumer drains what is left, then sees closed; an empty open ring times out', () => {
    const ring = new Ring(8);
    expect(ring.waitForData(5, 0)).toBe('timed-out');
    expect(ring.sleeps).toBe(1);
    ring.tryPush(1);
    ring.tryPush(2);
    ring.close(); // publishes the staged items
    expect(ring.closed).toBe(true);
    expect(() => {
      ring.tryPush(3);
      ring.publish();
    }).toThrow(/after close/);
    expect(ring.waitForData(5)).toBe('ok');
    const out = new Int32Array(8);
    expect(ring.popBatch(out, 8)).toBe(2); // the refused 3 was staged, never published
    expect(ring.waitForData(5)).toBe('closed');
  });
});

interface Consumed {
  ring: Ring;
  counts: Int32Array;
  stats: Int32Array;
  fullRetries: number;
}

/**
 * Consumers here sleep without a timeout: only a wake-up (or close) ends a sleep, so a lost
 * wake-up hangs the consumer and times the test out, whatever the host's load; no test
 * bounds how long a wake-up takes.
 */
const NO_TIMEOUT = Infinity;

/** One turn of the event loop: a producer that waits for its consumer lets the test's timeout fire. */
const turn = () => new Promise<void>((r) => setImmediate(r));

interface Consumer {
  worker: Worker;
  /** Settles when the worker reports (its one message) or fails. */
  done: Promise<unknown>;
  /** Rejects with why the worker stopped if it already has, before it was meant to. */
  check(): Promise<void>;
}

function startConsumer(entry: string, data: RingConsumerData): Consumer {
  const worker = new Worker(new URL(`../dist/testing/${entry}`, import.meta.url), { workerData: data });
  let gone = false;
  const done = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`consumer exited (${code}) before it reported`)));
  });
  done.then(
    () => (gone = true),
    () => (gone = true),
  );
  const check = async () => {
    if (!gone) return;
    await done;
    throw new Error('the consumer reported before the ring was closed');
  };
  return { worker, done, check };
}

/** The consumer's futex word (ring.ts layout: byte 256): 1 while it sleeps or is about to. */
const SLEEPING_WORD = 64;

/**
 * Wait until the consumer sleeps (with nothing pushed meanwhile it stays asleep until a
 * wake-up), and with `ticks` until its event loop has also run a timer tick since: it kept
 * running while the consumer slept.
 */
async function untilAsleep(c: Consumer, ring: Ring, ticks?: Int32Array): Promise<void> {
  const ctl = new Int32Array(ring.sab);
  while (Atomics.load(ctl, SLEEPING_WORD) !== 1) {
    await c.check();
    await turn();
  }
  if (!ticks) return;
  const t = Atomics.load(ticks, RingStat.ticks);
  while (Atomics.load(ticks, RingStat.ticks) === t) {
    await c.check();
    await turn();
  }
}

/**
 * Main thread produces 0..n-1 into a ring drained by a worker: blocks of per-item pushes,
 * of staged items published at once, and of staged items published at random points; it
 * publishes and retries when full, and pauses now and then until the consumer is asleep.
 * `ticks`: also until the consumer's event loop has ticked while it slept (async consumers).
 */
async function produceInto(entry: string, n: number, pauseEvery: number, ticks = false): Promise<Consumed> {
  const capacity = 256;
  const ring = new Ring(capacity);
  const counts = new Int32Array(new SharedArrayBuffer(n * 4));
  const stats = new Int32Array(new SharedArrayBuffer(RING_STAT_WORDS * 4));
  const data: RingConsumerData = {
    ring: ring.sab,
    capacity,
    counts: counts.buffer as SharedArrayBuffer,
    stats: stats.buffer as SharedArrayBuffer,
    timeoutMs: NO_TIMEOUT,
    spins: 64,
  };
  const consumer = startConsumer(entry, data);
  try {
    return await produce(ring, n, pauseEvery, consumer, counts, stats, ticks);
  } finally {
    await consumer.worker.terminate();
  }
}

async function produce(
  ring: Ring,
  n: number,
  pauseEvery: number,
  consumer: Consumer,
  counts: Int32Array,
  stats: Int32Array,
  ticks: boolean,
): Promise<Consumed> {
  const next = rng(12345);
  let fullRetries = 0;
  let i = 0;
  let nextPause = pauseEvery;
  while (i < n) {
    const mode = next() % 3;
    const end = Math.min(n, i + 1 + (next() % 64));
    while (i < end) {
      const ok = mode === 0 ? ring.push(i) : ring.tryPush(i);
      if (!ok) {
        ring.publish(); // what we staged must become visible or the ring stays full
        // Now and then a turn of the event loop: a consumer that stopped would otherwise keep
        // this loop (and the test's timeout) waiting for ever.
        if ((++fullRetries & 1023) === 0) {
          await consumer.check();
          await turn();
        }
        continue;
      }
      i++;
      if (mode === 2 && next() % 8 === 0) ring.publish();
    }
    ring.publish();
    if (i >= nextPause) {
      nextPause += pauseEvery;
      // The consumer empties the ring and falls asleep: the next publish must wake it.
      await untilAsleep(consumer, ring, ticks ? stats : undefined);
    }
  }
  // Asleep with nothing left: close() alone must wake it (it has no timeout to end its sleep).
  await untilAsleep(consumer, ring);
  ring.close();
  await consumer.done;
  expect(ring.pushed).toBe(n);
  expect(ring.popped).toBe(n);
  expect(ring.size()).toBe(0);
  return { ring, counts, stats, fullRetries };
}

function firstNotOnce(counts: Int32Array): number {
  for (let i = 0; i < counts.length; i++) if (Atomics.load(counts, i) !== 1) return i;
  return -1;
}

describe('Ring, main thread → worker', () => {
  it('every pushed index is popped exactly once, in order, and the sleeping consumer is always woken', async () => {
    const n = 200_000;
    const { ring, counts, stats, fullRetries } = await produceInto('ring-consumer.js', n, 25_000);
    expect(firstNotOnce(counts)).toBe(-1);
    expect(Atomics.load(stats, RingStat.popped)).toBe(n);
    expect(Atomics.load(stats, RingStat.orderErrors)).toBe(0);
    expect(fullRetries).toBeGreaterThan(0); // the full path was taken (the worker starts late)
    // The consumer slept at every pause and was woken each time by publish() or close():
    // without a timeout, nothing else could have ended those sleeps.
    expect(ring.sleeps).toBeGreaterThan(n / 25_000);
    expect(ring.wakeups).toBeGreaterThan(n / 25_000);
    expect(Atomics.load(stats, RingStat.timedOut)).toBe(0);
  });

  it('a consumer falling asleep just as an item arrives is still woken (no lost wake-up)', async () => {
    // Ping-pong: push one index, wait until it is popped, vary the gap, repeat. The consumer
    // does not spin, so each push lands somewhere in its way to sleep; a lost wake-up
    // leaves an index unpopped for ever (the consumer has no timeout): the test times out.
    const n = 4000;
    const capacity = 8;
    const ring = new Ring(capacity);
    const counts = new Int32Array(new SharedArrayBuffer(n * 4));
    const stats = new Int32Array(new SharedArrayBuffer(RING_STAT_WORDS * 4));
    const data: RingConsumerData = {
      ring: ring.sab,
      capacity,
      counts: counts.buffer as SharedArrayBuffer,
      stats: stats.buffer as SharedArrayBuffer,
      timeoutMs: NO_TIMEOUT,
      spins: 0,
    };
    const consumer = startConsumer('ring-consumer.js', data);
    try {
      const next = rng(99);
      for (let i = 0; i < n; i++) {
        expect(ring.push(i)).toBe(true);
        // Spin for the pop (the next push must race the consumer's way to sleep), with a turn
        // of the event loop now and then so that a lost wake-up ends in the test's timeout.
        for (let spins = 1; ring.popped !== i + 1; spins++) {
          if ((spins & 0xffff) === 0) {
            await consumer.check();
            await turn();
          }
        }
        cpuRelax(next() % 100_000);
      }
      ring.close();
      await consumer.done;
      expect(firstNotOnce(counts)).toBe(-1);
      expect(Atomics.load(stats, RingStat.timedOut)).toBe(0);
      expect(ring.sleeps).toBeGreaterThan(n / 10);
    } finally {
      await consumer.worker.terminate();
    }
  });

  it('an async consumer sees every index exactly once while its event loop keeps running', async () => {
    const n = 50_000;
    const { ring, counts, stats } = await produceInto('ring-consumer-async.js', n, 10_000, true);
    expect(firstNotOnce(counts)).toBe(-1);
    expect(Atomics.load(stats, RingStat.popped)).toBe(n);
    expect(Atomics.load(stats, RingStat.orderErrors)).toBe(0);
    expect(Atomics.load(stats, RingStat.timedOut)).toBe(0);
    expect(ring.sleeps).toBeGreaterThan(0);
    expect(Atomics.load(stats, RingStat.ticksWhileWaiting)).toBeGreaterThan(0);
  });

  it('a thread whose only pending work is waitForDataAsync stays alive until the item comes', async () => {
    const ring = new Ring(8);
    const data: RingConsumerData = {
      ring: ring.sab,
      capacity: 8,
      counts: new SharedArrayBuffer(4),
      stats: new SharedArrayBuffer(RING_STAT_WORDS * 4),
      timeoutMs: NO_TIMEOUT,
      spins: 0,
    };
    const waiter = startConsumer('ring-async-alone.js', data);
    try {
      // Asleep in waitForDataAsync with nothing else to keep its loop alive. A thread that
      // would exit now does so at once; 100 ms gives it the chance (a busy host can only hide
      // such an exit, not fail a thread that stays).
      await untilAsleep(waiter, ring);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await waiter.check();
      expect(ring.push(42)).toBe(true);
      expect(await waiter.done).toEqual({ r: 'ok', v: 42 });
    } finally {
      await waiter.worker.terminate();
    }
  });
});
