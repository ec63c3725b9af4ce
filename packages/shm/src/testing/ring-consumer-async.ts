/**
 * Test-only worker: as ring-consumer, but in the other loop shape (popBatch until empty,
 * then wait), sleeping with waitForDataAsync; a 1 ms interval timer counts the ticks that
 * fire while it waits (its event loop must keep running).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setInterval, clearInterval } from 'node:timers';
import { Ring } from '../ring.js';
import { RingStat, type RingConsumerData } from './ring-stats.js';

const d = workerData as RingConsumerData;
const ring = new Ring(d.capacity, d.ring);
const counts = new Int32Array(d.counts);
const stats = new Int32Array(d.stats);
const batch = new Int32Array(64);
let ticks = 0;
const timer = setInterval(() => Atomics.store(stats, RingStat.ticks, ++ticks), 1);

async function drain(): Promise<void> {
  let expected = 0;
  for (;;) {
    const n = ring.popBatch(batch, batch.length);
    if (n > 0) {
      for (let i = 0; i < n; i++) {
        const v = batch[i];
        Atomics.add(counts, v, 1);
        if (v !== expected) Atomics.add(stats, RingStat.orderErrors, 1);
        expected = v + 1;
      }
      Atomics.add(stats, RingStat.popped, n);
      continue;
    }
    Atomics.add(stats, RingStat.waits, 1);
    const before = ticks;
    const r = await ring.waitForDataAsync(d.timeoutMs);
    Atomics.add(stats, RingStat.ticksWhileWaiting, ticks - before);
    if (r === 'closed') break;
    if (r === 'timed-out') Atomics.add(stats, RingStat.timedOut, 1);
  }
}

drain().then(
  () => {
    clearInterval(timer);
    parentPort?.postMessage('done');
  },
  (e: unknown) => {
    clearInterval(timer);
    throw e;
  },
);
