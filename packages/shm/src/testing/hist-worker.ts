/**
 * Test-only thread entry point: records `n` values into a shared histogram and exits.
 * workerData: { sab, byteOffset, n, seed }. Values are a deterministic spread over
 * 0..2^40 ns (xorshift32, shifted and scaled) so every part of the bucket range sees concurrent adds.
 */
import { workerData, parentPort } from 'node:worker_threads';
import { Histogram } from '../histogram.js';

interface HistWorkerData {
  sab: SharedArrayBuffer;
  byteOffset: number;
  n: number;
  seed: number;
  /** If set, every record goes to this one value (maximal contention on one bucket). */
  fixed?: number;
}

const d = workerData as HistWorkerData;
const h = new Histogram(d.sab, d.byteOffset);
let x = d.seed >>> 0 || 1;
for (let i = 0; i < d.n; i++) {
  if (d.fixed !== undefined) {
    h.record(d.fixed);
  } else {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    h.record(((x >>> 0) >>> (i % 32)) * 2 ** (i % 9));
  }
}
parentPort?.postMessage('done');
