/**
 * Test-only worker: nothing but one waitForDataAsync keeps this thread's event loop busy
 * (no timers, no port listener), then it reports what it popped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring } from '../ring.js';
import type { RingConsumerData } from './ring-stats.js';

const d = workerData as RingConsumerData;
const ring = new Ring(d.capacity, d.ring);
void ring.waitForDataAsync(d.timeoutMs).then((r) => parentPort?.postMessage({ r, v: ring.tryPop() }));
