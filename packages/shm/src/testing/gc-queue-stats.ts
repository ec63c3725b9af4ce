/**
 * Test-only: what the GcQueue test and its worker share (the worker's data, its stats words
 * and the bytes pushed with each handle).
 */
import type { GcQueueBuffers } from '../gc-queue.js';

export interface GcQueueWorkerData {
  role: 'producer' | 'consumer' | 'sleeper' | 'sleeper-async';
  sabs: GcQueueBuffers;
  capacity: number;
  capBytes: number;
  /** producer: handles [from, from + count). */
  from?: number;
  count?: number;
  /** consumer: Int32 per handle, times it was popped. */
  counts?: SharedArrayBuffer;
  /** Int32 stats, GcStat below. */
  stats: SharedArrayBuffer;
}

export const GcStat = {
  /** Pushes refused (full or over the cap) and retried. */
  refused: 0,
  /** Entries popped whose bytes were not the handle's. */
  badBytes: 1,
  /** Most pendingBytes() seen by this thread. */
  maxPending: 2,
  popped: 3,
  /** Times pendingBytes() was seen above the cap. */
  overCap: 4,
} as const;
export const GC_STAT_WORDS = 8;

/** The bytes a test pushes with handle h (1..200). */
export function bytesOf(h: number): number {
  return 1 + ((h * 7919) % 200);
}
