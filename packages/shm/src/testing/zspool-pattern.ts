/**
 * Test-only: the bytes a thread writes into pool object number `seq`, so any thread can
 * check them again. Distinct per thread id, per object and per byte position.
 */
export function fillPattern(buf: Uint8Array, len: number, thread: number, seq: number): void {
  let x = (Math.imul(seq + 1, 0x9e3779b1) ^ Math.imul(thread + 1, 0x85ebca6b)) >>> 0;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 255;
  }
}

/** Index of the first byte of buf[0, len) that differs from the pattern, or −1. */
export function checkPattern(buf: Uint8Array, len: number, thread: number, seq: number): number {
  let x = (Math.imul(seq + 1, 0x9e3779b1) ^ Math.imul(thread + 1, 0x85ebca6b)) >>> 0;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (buf[i] !== (x & 255)) return i;
  }
  return -1;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
