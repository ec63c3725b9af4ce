import { setInterval, clearInterval } from 'node:timers';

/**
 * A bounded single-producer single-consumer ring of page indices (Int32, ≥ 0), after the
 * kernel's kfifo: power-of-two capacity, free-running `in`/`out` counters masked only on
 * access, so `in - out` is the fill level and full and empty need no spare slot.
 * kswapd pushes isolated pages, kcompressd (a worker) pops and compresses them. A full ring
 * never blocks the producer: tryPush says no and kswapd compresses inline
 * (kcompressd_fifo_full).
 *
 * Layout, one SharedArrayBuffer of `Ring.bytesFor(capacity)` bytes, Int32 words:
 *
 *   byte   0  in         free-running count of published items (uint32 in an Int32 word);
 *                        the producer writes it once per publish(), Atomics.store
 *   byte   4  in_seq     2 × the laps of `in` around 2^32; odd while a lap is being turned
 *                        (a seqlock, written only at a wrap, so `pushed` reads exactly)
 *   byte   8  closed     0, then 1 once: the producer will publish nothing more
 *   byte  12  wakeups    times the producer found the consumer's sleeping flag set, cleared it
 *                        and notified (producer-written)
 *   byte 128  out        free-running count of released items; the consumer writes it once
 *                        per tryPop()/popBatch()
 *   byte 132  out_seq    as in_seq, for `out`
 *   byte 256  sleeping   futex word: the consumer stores 1 before its last look at `in` and
 *                        sleeps on it; a producer that sees 1 after storing `in` sets 0 and
 *                        notifies (Dekker: with seq-cst Atomics one of them sees the other)
 *   byte 260  sleeps     times the consumer went to sleep (consumer-written)
 *   byte 320  producer_sleeping  futex word, the other way round: a producer that found the
 *                        ring full stores 1, looks again, and waits on it
 *                        (waitForSpaceAsync); a consumer that sees 1 after releasing items
 *                        with the ring at most half full sets 0 and notifies
 *   byte 384  data[capacity]   slot i holds the item whose counter value masks to i
 *
 * The producer's words, the consumer's words and the sleep word are 128 bytes apart, so they
 * never share a 64-byte line whatever the buffer's alignment, and the adjacent-line
 * prefetcher does not pair them either. Each side keeps a private copy of the other side's
 * counter (`limit`, `inCache`) and reloads it only when its copy says full or empty, so
 * in the steady state a line crosses cores once per batch, not once per item.
 *
 * Staleness: the producer's view of `out` is late by the pops in flight (the ring may look
 * fuller than it is); the consumer's view of `in` is late by the publishes in flight (it may
 * look emptier). Neither error loses or duplicates an item: the slots from `out` to `in`
 * belong to the consumer, the rest to the producer. Staged items (tryPush without
 * publish) are invisible to everyone but the producer.
 *
 * Each side uses its own Ring object over the shared buffer; the private fields below are
 * that side's state. Nothing on the per-item path allocates.
 *
 * Producer (kswapd): tryPush() each isolated page, publish() every batch (or push() each);
 * on false, publish() and compress the page inline. Consumer (kcompressd):
 *
 *   while (ring.waitForData(ms) === 'ok') { const n = ring.popBatch(buf, buf.length); … }
 *
 * Waiting first matters when the consumer is faster than the producer: waitForData spaces
 * its looks at `in` (see spin()), where popBatch in a tight loop would take one item per
 * look and pull the producer's line away on every publish.
 */
const IN = 0;
const IN_SEQ = 1;
const CLOSED = 2;
const WAKEUPS = 3;
const OUT = 32;
const OUT_SEQ = 33;
const SLEEPING = 64;
const SLEEPS = 65;
const PRODUCER_SLEEPING = 80;
const DATA_BYTES = 384;

/** kcompressd's KCOMPRESS_FIFO_SIZE. */
export const RING_DEFAULT_CAPACITY = 256;
export const RING_MAX_CAPACITY = 1 << 28;
/**
 * Looks at `in` a consumer takes, `cpuRelax()` apart, before it goes to sleep: at most about
 * 32 × 4 µs, a few futex wake-ups' worth. Fewer made a loaded 2-core machine worse (the
 * consumer sleeps, wakes and sleeps again for every few items); pass 0 to sleep at once.
 */
export const RING_DEFAULT_SPINS = 32;
/** Bounds of the consumer's gap between looks, in cpuRelax() steps (about 1 ns each here). */
const GAP_MIN = 32;
const GAP_MAX = 4096;

let relaxSink = 0;
/**
 * cpu_relax() for a spinning thread (Node 20 has no Atomics.pause): `steps` dependent ALU
 * operations that touch no shared memory, so the other side keeps its cache line meanwhile.
 */
export function cpuRelax(steps: number): void {
  let x = relaxSink;
  for (let i = 0; i < steps; i++) x = ((x ^ i) + (x >>> 1)) | 0;
  relaxSink = x;
}

export type RingWait = 'ok' | 'timed-out' | 'closed';

export const RingErrors = {
  capacity: (c: unknown) =>
    new RangeError(`Ring: capacity must be a power of two in 1..${RING_MAX_CAPACITY}, got ${String(c)}`),
  buffer: (have: number, need: number, c: number) =>
    new RangeError(`Ring: buffer of ${have} bytes is too small for capacity ${c} (needs ${need})`),
  value: (v: unknown) => new RangeError(`Ring: items are Int32 page indices ≥ 0, got ${String(v)}`),
  closed: () => new Error('Ring: publish after close()'),
} as const;

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > RING_MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw RingErrors.capacity(capacity);
  }
}

/** A 53-bit count from a free-running 32-bit word and its lap seqlock. */
function readCount(w: Int32Array, lo: number, seq: number): number {
  for (;;) {
    const s1 = Atomics.load(w, seq);
    const l = Atomics.load(w, lo);
    if ((s1 & 1) === 0 && Atomics.load(w, seq) === s1) return (s1 >>> 1) * 0x1_0000_0000 + (l >>> 0);
  }
}

/** Store a counter's next value; when it crosses 2^32, turn the lap under the seqlock. */
function storeCount(w: Int32Array, lo: number, seq: number, prev: number, next: number): void {
  if (next >>> 0 < prev >>> 0) {
    Atomics.add(w, seq, 1);
    Atomics.store(w, lo, next);
    Atomics.add(w, seq, 1);
  } else {
    Atomics.store(w, lo, next);
  }
}

export class Ring {
  static bytesFor(capacity: number): number {
    checkCapacity(capacity);
    return DATA_BYTES + capacity * 4;
  }

  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  private readonly mask: number;
  private readonly ctl: Int32Array;
  private readonly data: Int32Array;

  // Producer side: next counter value to stage, last value published, and `limit`, the
  // value of `tail` at which the ring is full by the last `out` it read (out + capacity).
  private tail: number;
  private published: number;
  private limit: number;
  private producerClosed = false;
  // Consumer side: its own `out`, cached `in`.
  private head: number;
  private inCache: number;
  /** cpuRelax() steps between looks while spinning; adapts so a look finds a batch, not one item. */
  private gap = GAP_MIN;
  // Async waits only: one ref'd timer keeps the event loop alive while waitAsync is pending.
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(capacity = RING_DEFAULT_CAPACITY, sab?: SharedArrayBuffer) {
    const need = Ring.bytesFor(capacity);
    if (sab && sab.byteLength < need) throw RingErrors.buffer(sab.byteLength, need, capacity);
    this.sab = sab ?? new SharedArrayBuffer(need);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.ctl = new Int32Array(this.sab, 0, DATA_BYTES / 4);
    this.data = new Int32Array(this.sab, DATA_BYTES, capacity);
    this.tail = this.published = this.inCache = Atomics.load(this.ctl, IN);
    this.head = Atomics.load(this.ctl, OUT);
    this.limit = (this.head + capacity) | 0;
  }

  // ---- producer ----

  /**
   * Stage `v` without publishing it. False when the ring, counting staged items, is full:
   * the caller publishes what it staged and compresses `v` itself; this never waits.
   */
  tryPush(v: number): boolean {
    if ((v & 0x7fffffff) !== v) throw RingErrors.value(v); // one test: an integer in 0..2^31-1
    const t = this.tail;
    if (t === this.limit) {
      this.limit = (Atomics.load(this.ctl, OUT) + this.capacity) | 0;
      if (t === this.limit) return false;
    }
    this.data[t & this.mask] = v;
    this.tail = (t + 1) | 0;
    return true;
  }

  /**
   * Make the staged items visible with one store of `in`, then wake the consumer if (and
   * only if) it declared itself asleep. The store is seq-cst, so the plain slot writes
   * before it are visible to a consumer that loads the new `in`.
   */
  publish(): void {
    const t = this.tail;
    if (t === this.published) return;
    if (this.producerClosed) throw RingErrors.closed();
    storeCount(this.ctl, IN, IN_SEQ, this.published, t);
    this.published = t;
    if (Atomics.load(this.ctl, SLEEPING) !== 0) this.wakeConsumer();
  }

  /** tryPush + publish. */
  push(v: number): boolean {
    if (!this.tryPush(v)) return false;
    this.publish();
    return true;
  }

  /** Items staged by this producer and not yet published. */
  get staged(): number {
    return (this.tail - this.published) | 0;
  }

  /** No more items: publishes what is staged, then wakes the consumer to drain and stop. */
  close(): void {
    this.publish();
    this.producerClosed = true;
    Atomics.store(this.ctl, CLOSED, 1);
    if (Atomics.load(this.ctl, SLEEPING) !== 0) this.wakeConsumer();
  }

  private wakeConsumer(): void {
    // Only the producer that turns 1 into 0 notifies, so one sleep costs one notify.
    if (Atomics.compareExchange(this.ctl, SLEEPING, 1, 0) === 1) {
      Atomics.add(this.ctl, WAKEUPS, 1);
      Atomics.notify(this.ctl, SLEEPING, 1);
    }
  }

  /**
   * Producer: wait, without blocking the event loop, until the consumer has made room (the
   * ring at most half full), or `timeoutMs`. Staged items are published first.
   */
  async waitForSpaceAsync(timeoutMs: number): Promise<void> {
    this.publish();
    Atomics.store(this.ctl, PRODUCER_SLEEPING, 1);
    // Look again after declaring sleep (the Dekker half of the producer).
    const fill = (this.tail - Atomics.load(this.ctl, OUT)) | 0;
    if (fill <= this.capacity >> 1) {
      Atomics.store(this.ctl, PRODUCER_SLEEPING, 0);
      return;
    }
    const r = Atomics.waitAsync(this.ctl, PRODUCER_SLEEPING, 1, timeoutMs);
    if (r.async) {
      // A pending waitAsync does not keep the event loop alive by itself.
      const keep = setInterval(() => undefined, 1000);
      try {
        await r.value;
      } finally {
        clearInterval(keep);
      }
    }
    Atomics.store(this.ctl, PRODUCER_SLEEPING, 0);
  }

  // ---- consumer ----

  /** Items this consumer can take now; reloads `in` only when its cached copy runs out. */
  private available(): number {
    let n = (this.inCache - this.head) | 0;
    if (n === 0) {
      this.inCache = Atomics.load(this.ctl, IN);
      n = (this.inCache - this.head) | 0;
    }
    return n;
  }

  /** The oldest item, or -1 when the ring is (as far as this consumer can see) empty. */
  tryPop(): number {
    if (this.available() === 0) return -1;
    const h = this.head;
    const v = this.data[h & this.mask];
    this.head = (h + 1) | 0;
    storeCount(this.ctl, OUT, OUT_SEQ, h, this.head);
    if (Atomics.load(this.ctl, PRODUCER_SLEEPING) !== 0) this.wakeProducer();
    return v;
  }

  /** A producer waits for room: wake it once the ring is at most half full. */
  private wakeProducer(): void {
    // The fill as it is now, not as this consumer last cached `in`: a stale, low `in` would
    // wake the producer into a ring it finds full again at once.
    if (((Atomics.load(this.ctl, IN) - this.head) | 0) > this.capacity >> 1) return;
    if (Atomics.compareExchange(this.ctl, PRODUCER_SLEEPING, 1, 0) === 1) Atomics.notify(this.ctl, PRODUCER_SLEEPING, 1);
  }

  /**
   * Copy up to `max` items (and at most `out.length`) into `out`, oldest first, and release
   * them all with one store of `out`. Returns how many.
   */
  popBatch(out: Int32Array, max: number): number {
    let n = this.available();
    if (n > max) n = max;
    if (n > out.length) n = out.length;
    if (n <= 0) return 0;
    const h = this.head;
    const data = this.data;
    const start = h & this.mask;
    const first = Math.min(n, this.capacity - start);
    for (let i = 0; i < first; i++) out[i] = data[start + i];
    for (let i = first; i < n; i++) out[i] = data[i - first];
    this.head = (h + n) | 0;
    storeCount(this.ctl, OUT, OUT_SEQ, h, this.head);
    if (Atomics.load(this.ctl, PRODUCER_SLEEPING) !== 0) this.wakeProducer();
    return n;
  }

  /** 'ok' with items to pop, 'closed' when closed and drained, undefined when neither. */
  private poll(): RingWait | undefined {
    if (this.available() !== 0) return 'ok';
    // closed is stored after the last publish: having seen it, a fresh `in` is final.
    if (Atomics.load(this.ctl, CLOSED) !== 0) return this.available() !== 0 ? 'ok' : 'closed';
    return undefined;
  }

  /** Declare sleep, then look once more (the Dekker half of the consumer). */
  private prepareSleep(): RingWait | undefined {
    Atomics.store(this.ctl, SLEEPING, 1);
    const r = this.poll();
    if (r !== undefined) Atomics.store(this.ctl, SLEEPING, 0);
    else Atomics.add(this.ctl, SLEEPS, 1);
    return r;
  }

  /**
   * Spin: up to `spins` looks at `in`, a gap of cpuRelax() apart. Every look pulls the line
   * that holds `in` away from the producer, whose next publish then misses; so the gap
   * doubles while looks find less than capacity/8 items and halves when they find more than
   * half the ring, aiming at batches rather than one item per look.
   */
  private spin(spins: number): RingWait | undefined {
    for (let i = 0; i < spins; i++) {
      cpuRelax(this.gap);
      const r = this.poll();
      if (r === undefined) continue;
      if (i === 0) {
        const n = (this.inCache - this.head) | 0;
        if (n < this.capacity >> 3) this.gap = Math.min(this.gap << 1, GAP_MAX);
        else if (n > this.capacity >> 1) this.gap = Math.max(this.gap >> 1, GAP_MIN);
      }
      return r;
    }
    return undefined;
  }

  /**
   * Block (Atomics.wait) until there is something to pop, the ring is closed and drained,
   * or `timeoutMs` passes; spins first (see spin()). For worker threads whose codec is
   * synchronous: it stops the caller's event loop while it sleeps.
   */
  waitForData(timeoutMs: number, spins = RING_DEFAULT_SPINS): RingWait {
    if (this.inCache !== this.head) return 'ok';
    let r = spins > 0 ? this.spin(spins) : this.poll();
    if (r !== undefined) return r;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      r = this.prepareSleep();
      if (r !== undefined) return r;
      const left = deadline - performance.now();
      const w = left > 0 ? Atomics.wait(this.ctl, SLEEPING, 1, left) : 'timed-out';
      Atomics.store(this.ctl, SLEEPING, 0);
      r = this.poll();
      if (r !== undefined) return r;
      if (w === 'timed-out') return 'timed-out';
    }
  }

  /**
   * As waitForData, without blocking the event loop (Atomics.waitAsync). A pending waitAsync
   * does not keep Node's event loop alive, so a ref'd timer does while this sleeps.
   */
  async waitForDataAsync(timeoutMs: number): Promise<RingWait> {
    let r = this.poll();
    if (r !== undefined) return r;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      r = this.prepareSleep();
      if (r !== undefined) return r;
      const left = deadline - performance.now();
      let w: 'ok' | 'not-equal' | 'timed-out' = 'timed-out';
      if (left > 0) {
        const pending = Atomics.waitAsync(this.ctl, SLEEPING, 1, left);
        if (pending.async) {
          this.keepAlive ??= setInterval(noop, 1 << 30);
          try {
            w = await pending.value;
          } finally {
            clearInterval(this.keepAlive);
            this.keepAlive = undefined;
          }
        } else {
          w = pending.value;
        }
      }
      Atomics.store(this.ctl, SLEEPING, 0);
      r = this.poll();
      if (r !== undefined) return r;
      if (w === 'timed-out') return 'timed-out';
    }
  }

  // ---- anyone ----

  /** The producer has closed the ring (items may remain to pop). */
  get closed(): boolean {
    return Atomics.load(this.ctl, CLOSED) !== 0;
  }

  /**
   * Published items not yet popped, clamped to 0..capacity. Reads `out` then `in`: the
   * producer's answer is high by the pops in flight, the consumer's low by the publishes in
   * flight, a third thread's either. Staged items are not counted (see `staged`).
   */
  size(): number {
    const o = Atomics.load(this.ctl, OUT);
    const n = (Atomics.load(this.ctl, IN) - o) | 0;
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }

  /** Items ever published (53-bit; exact when read by the producer, else late as `in`). */
  get pushed(): number {
    return readCount(this.ctl, IN, IN_SEQ);
  }

  /** Items ever popped (53-bit; exact when read by the consumer, else late as `out`). */
  get popped(): number {
    return readCount(this.ctl, OUT, OUT_SEQ);
  }

  /** Times the consumer went to sleep with nothing to pop. */
  get sleeps(): number {
    return Atomics.load(this.ctl, SLEEPS);
  }

  /** Times the producer cleared the consumer's sleeping flag and notified it. */
  get wakeups(): number {
    return Atomics.load(this.ctl, WAKEUPS);
  }
}

function noop(): void {}
