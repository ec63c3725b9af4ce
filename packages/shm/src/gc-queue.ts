/**
 * The slot-free queue of the zram GC worker: threads that unmap or fault pages push the
 * pool handles they no longer need, the GC worker pops them in batches and frees them in
 * bulk. An O(1) shared queue, as the GC thread's review asked (not a bitmap scanned with
 * find_next_bit), capped in bytes of compressed data pending (not in slots: a slot's size
 * depends on its page).
 *
 * Many producers (every application thread), one consumer (the GC worker): a ring of
 * (handle, bytes) pairs behind one mutex. A push is a few stores under the lock; the
 * consumer takes a whole batch per acquisition.
 *
 * ── meta SAB (Int32) ─────────────────────────────────────────────────────────────────────
 *   [0]  lock (mutex, lock.ts)
 *   [1]  head      next entry the consumer pops (under the lock, wraps by mask)
 *   [2]  tail      next entry a producer writes (under the lock)
 *   [3]  count     entries queued (written under the lock, Atomics.load'ed by the consumer's
 *                  sleep check)
 *   [4]  sleeping  1 while the consumer is about to sleep or sleeps (the ring's flag:
 *                  producers notify only then, never per push)
 *   [5]  seq       the consumer's futex word: a producer that saw `sleeping` bumps it and
 *                  notifies
 *   [6]  closed    1: no more pushes; the consumer empties the queue and stops
 *   [8..9]  pendingBytes, a Float64 under the lock (may exceed 2^31 with no cap)
 * ── data: Int32 pairs, capacity × (handle, bytes) ─────────────────────────────────────────
 */
import { mutexLock, mutexUnlock } from './lock.js';

const LOCK = 0;
const HEAD = 1;
const TAIL = 2;
const COUNT = 3;
const SLEEPING = 4;
const SEQ = 5;
const CLOSED = 6;
const META_INTS = 16;

export interface GcQueueBuffers {
  meta: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export class GcQueue {
  readonly sabs: GcQueueBuffers;
  readonly capacity: number;
  private readonly meta: Int32Array;
  private readonly pending: Float64Array;
  private readonly data: Int32Array;
  private readonly mask: number;

  /**
   * @param capacity entries, rounded up to a power of two
   * @param capBytes most bytes pending at once; 0 = no cap
   */
  constructor(
    capacity: number,
    readonly capBytes: number,
    sabs?: GcQueueBuffers,
  ) {
    let cap = 2;
    while (cap < capacity) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.sabs = sabs ?? { meta: new SharedArrayBuffer(META_INTS * 4), data: new SharedArrayBuffer(cap * 8) };
    if (this.sabs.data.byteLength !== cap * 8) throw new RangeError(`GcQueue: data buffer holds ${this.sabs.data.byteLength / 8} entries, expected ${cap}`);
    this.meta = new Int32Array(this.sabs.meta);
    this.pending = new Float64Array(this.sabs.meta, 32, 1);
    this.data = new Int32Array(this.sabs.data);
  }

  /** Entries queued now (may be late by the pushes and pops in flight). */
  get count(): number {
    return Atomics.load(this.meta, COUNT);
  }

  get closed(): boolean {
    return Atomics.load(this.meta, CLOSED) === 1;
  }

  /**
   * Queue one handle of `bytes` compressed bytes. False (nothing queued) when the queue is
   * full, closed, or the byte cap would be passed: the caller frees the slot itself.
   */
  push(handle: number, bytes: number): boolean {
    const m = this.meta;
    mutexLock(m, LOCK);
    const count = m[COUNT];
    const pend = this.pending[0];
    if (m[CLOSED] === 1 || count === this.capacity || (this.capBytes > 0 && pend + bytes > this.capBytes)) {
      mutexUnlock(m, LOCK);
      return false;
    }
    const t = m[TAIL];
    this.data[2 * t] = handle;
    this.data[2 * t + 1] = bytes;
    m[TAIL] = (t + 1) & this.mask;
    this.pending[0] = pend + bytes;
    Atomics.store(m, COUNT, count + 1);
    mutexUnlock(m, LOCK);
    // Only the producer that turns 1 into 0 notifies, so one sleep costs one notify (as the ring).
    if (Atomics.load(m, SLEEPING) === 1 && Atomics.compareExchange(m, SLEEPING, 1, 0) === 1) {
      Atomics.add(m, SEQ, 1);
      Atomics.notify(m, SEQ, 1);
    }
    return true;
  }

  /** Pop up to `max` entries into handles/bytes; returns how many. Consumer only. */
  popBatch(handles: Int32Array, bytes: Int32Array, max = handles.length): number {
    const m = this.meta;
    if (Atomics.load(m, COUNT) === 0) return 0;
    mutexLock(m, LOCK);
    const n = Math.min(max, m[COUNT], handles.length, bytes.length);
    let h = m[HEAD];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      handles[i] = this.data[2 * h];
      const b = this.data[2 * h + 1];
      bytes[i] = b;
      sum += b;
      h = (h + 1) & this.mask;
    }
    m[HEAD] = h;
    this.pending[0] -= sum;
    Atomics.store(m, COUNT, m[COUNT] - n);
    mutexUnlock(m, LOCK);
    return n;
  }

  /** Bytes queued now (read under the lock). */
  pendingBytes(): number {
    mutexLock(this.meta, LOCK);
    const p = this.pending[0];
    mutexUnlock(this.meta, LOCK);
    return p;
  }

  /**
   * Consumer: sleep until something is queued, the queue is closed, or `timeoutMs` passes.
   * Blocks the thread (Atomics.wait); see waitAsync for a thread with an event loop to keep.
   */
  wait(timeoutMs: number): void {
    const m = this.meta;
    const seq = Atomics.load(m, SEQ);
    Atomics.store(m, SLEEPING, 1);
    if (Atomics.load(m, COUNT) === 0 && Atomics.load(m, CLOSED) === 0) Atomics.wait(m, SEQ, seq, timeoutMs);
    Atomics.store(m, SLEEPING, 0);
  }

  /** Consumer: wait as `wait` does without blocking the thread's event loop. */
  async waitAsync(timeoutMs: number): Promise<void> {
    const m = this.meta;
    const seq = Atomics.load(m, SEQ);
    Atomics.store(m, SLEEPING, 1);
    if (Atomics.load(m, COUNT) === 0 && Atomics.load(m, CLOSED) === 0) {
      const r = Atomics.waitAsync(m, SEQ, seq, timeoutMs);
      if (r.async) await r.value;
    }
    Atomics.store(m, SLEEPING, 0);
  }

  /** No more pushes (they return false); wakes the consumer so it can empty the queue and stop. */
  close(): void {
    Atomics.store(this.meta, CLOSED, 1);
    Atomics.add(this.meta, SEQ, 1);
    Atomics.notify(this.meta, SEQ);
  }
}
