/**
 * Test-only worker: drains a Ring with waitForData, then popBatch, until it is closed, counting
 * every index it pops in `counts` and checking FIFO order (indices arrive 0, 1, 2, …).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring } from '../ring.js';
import { RingStat, type RingConsumerData } from './ring-stats.js';

const d = workerData as RingConsumerData;
const ring = new Ring(d.capacity, d.ring);
const counts = new Int32Array(d.counts);
const stats = new Int32Array(d.stats);
const batch = new Int32Array(64);
let expected = 0;
// kcompressd's loop: wait (spin, then sleep), take a batch, process it.
for (;;) {
  Atomics.add(stats, RingStat.waits, 1);
  const r = ring.waitForData(d.timeoutMs, d.spins);
  if (r === 'closed') break;
  if (r === 'timed-out') {
    Atomics.add(stats, RingStat.timedOut, 1);
    continue;
  }
  const n = ring.popBatch(batch, batch.length);
  for (let i = 0; i < n; i++) {
    const v = batch[i];
    Atomics.add(counts, v, 1);
    if (v !== expected) Atomics.add(stats, RingStat.orderErrors, 1);
    expected = v + 1;
  }
  Atomics.add(stats, RingStat.popped, n);
}
parentPort?.postMessage('done');
