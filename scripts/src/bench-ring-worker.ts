/**
 * Consumer thread for bench-ring: one worker per variant, one message per round. It drains
 * either our Ring (waitForData, then popBatch, until closed) or a ringbuf.js
 * RingBuffer (pop, spinning, until it has `items`), sums what it pops so the producer can
 * check nothing was lost, and reports the process-wide monotonic time of its last pop.
 */
import { parentPort } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { cpuRelax, Ring } from '@zreclaim/shm';

export interface RingBenchRound {
  /** 'ringbuf-relax': ringbuf.js with our consumer's spacing of looks (see Ring.spin). */
  kind: 'ring' | 'ringbuf' | 'ringbuf-relax';
  sab: SharedArrayBuffer;
  capacity: number;
  items: number;
  spins: number;
}

export interface RingBenchReply {
  count: number;
  sum: number;
  /** process.hrtime.bigint() at the last pop, in ns (same clock on every thread). */
  endNs: number;
}

const port = parentPort;
if (!port) throw new Error('bench-ring-worker must run in a worker thread');
const batch = new Int32Array(256);

function drainRing(r: RingBenchRound): RingBenchReply {
  const ring = new Ring(r.capacity, r.sab);
  let count = 0;
  let sum = 0;
  // The consumer loop kcompressd runs: wait (spin, then sleep), take a batch, process it.
  while (ring.waitForData(10_000, r.spins) === 'ok') {
    const n = ring.popBatch(batch, batch.length);
    for (let i = 0; i < n; i++) sum += batch[i];
    count += n;
  }
  return { count, sum, endNs: Number(process.hrtime.bigint()) };
}

function drainRingbuf(r: RingBenchRound): RingBenchReply {
  const rb = new RingBuffer(r.sab, Int32Array);
  let count = 0;
  let sum = 0;
  while (count < r.items) {
    const n = rb.pop(batch, batch.length);
    for (let i = 0; i < n; i++) sum += batch[i];
    count += n;
  }
  return { count, sum, endNs: Number(process.hrtime.bigint()) };
}

/** The same gap rule as Ring's spin, so the comparison isolates the rings themselves. */
function drainRingbufRelaxed(r: RingBenchRound): RingBenchReply {
  const rb = new RingBuffer(r.sab, Int32Array);
  let count = 0;
  let sum = 0;
  let gap = 32;
  while (count < r.items) {
    cpuRelax(gap);
    const n = rb.pop(batch, batch.length);
    if (n < r.capacity >> 3) gap = Math.min(gap << 1, 4096);
    else if (n > r.capacity >> 1) gap = Math.max(gap >> 1, 32);
    for (let i = 0; i < n; i++) sum += batch[i];
    count += n;
  }
  return { count, sum, endNs: Number(process.hrtime.bigint()) };
}

port.on('message', (r: RingBenchRound) => {
  port.postMessage('started');
  port.postMessage(r.kind === 'ring' ? drainRing(r) : r.kind === 'ringbuf' ? drainRingbuf(r) : drainRingbufRelaxed(r));
});
