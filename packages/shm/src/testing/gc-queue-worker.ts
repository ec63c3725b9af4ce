/**
 * Test-only worker for GcQueue: a producer (pushes its range of handles, retrying a refused
 * push), a consumer (pops batches until the queue is closed and empty, counting every handle)
 * or a sleeper (waits once on an empty queue and says what woke it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GcQueue } from '../gc-queue.js';
import { bytesOf, GcStat, type GcQueueWorkerData } from './gc-queue-stats.js';

const d = workerData as GcQueueWorkerData;
const q = new GcQueue(d.capacity, d.capBytes, d.sabs);
const stats = new Int32Array(d.stats);
const pause = new Int32Array(new SharedArrayBuffer(4));

function seePending(): void {
  const p = q.pendingBytes();
  if (p > Atomics.load(stats, GcStat.maxPending)) Atomics.store(stats, GcStat.maxPending, p);
  if (d.capBytes > 0 && p > d.capBytes) Atomics.add(stats, GcStat.overCap, 1);
}

if (d.role === 'producer') {
  const end = d.from! + d.count!;
  for (let h = d.from!; h < end; h++) {
    while (!q.push(h, bytesOf(h))) {
      Atomics.add(stats, GcStat.refused, 1);
      Atomics.wait(pause, 0, 0, 0.02);
    }
    if ((h & 15) === 0) seePending();
  }
  parentPort!.postMessage('done');
} else if (d.role === 'consumer') {
  const counts = new Int32Array(d.counts!);
  const handles = new Int32Array(64);
  const bytes = new Int32Array(64);
  for (;;) {
    seePending();
    const n = q.popBatch(handles, bytes, 64);
    if (n > 0) {
      for (let i = 0; i < n; i++) {
        Atomics.add(counts, handles[i], 1);
        if (bytes[i] !== bytesOf(handles[i])) Atomics.add(stats, GcStat.badBytes, 1);
      }
      Atomics.add(stats, GcStat.popped, n);
      continue;
    }
    if (q.closed) {
      // A push racing close() lands under the lock: take it once, then look again.
      q.pendingBytes();
      if (q.count === 0) break;
      continue;
    }
    q.wait(1000);
  }
  parentPort!.postMessage('done');
} else if (d.role === 'sleeper') {
  q.wait(120_000);
  parentPort!.postMessage({ closed: q.closed, count: q.count });
} else {
  // A pending Atomics.waitAsync does not keep a thread's event loop alive: a timer does.
  const alive = setInterval(() => undefined, 1000);
  void q.waitAsync(120_000).then(() => {
    clearInterval(alive);
    parentPort!.postMessage({ closed: q.closed, count: q.count });
  });
}
