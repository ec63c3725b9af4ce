/**
 * Test-only: the stats words a ring consumer worker fills in (one Int32Array, consumer-
 * written, read by the test after the worker says done; `ticks` also while it runs).
 */
export const RingStat = {
  popped: 0,
  orderErrors: 1,
  timedOut: 2,
  ticksWhileWaiting: 3,
  waits: 4,
  /** Timer ticks so far, kept current while the consumer waits (async consumers). */
  ticks: 5,
} as const;
export const RING_STAT_WORDS = 8;

export interface RingConsumerData {
  ring: SharedArrayBuffer;
  capacity: number;
  /** Int32 per index: how many times the consumer popped it. */
  counts: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  timeoutMs: number;
  spins: number;
}
