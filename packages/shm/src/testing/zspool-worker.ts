/**
 * Test-only thread entry: one thread of the concurrent ZsPool test. It allocates, writes,
 * reads back and frees objects on the pool shared with the test's main thread, with its
 * own size range and byte pattern, then hands the objects it still holds back to the main
 * thread (which checks and frees them, so objects cross threads too).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ZsPool, type ZsPoolBuffers, type ZsPoolOptions } from '../zspool.js';
import { checkPattern, fillPattern, prng } from './zspool-pattern.js';

export interface ZsPoolWorkerData {
  opts: ZsPoolOptions;
  sabs: ZsPoolBuffers;
  /** Start barrier: each thread adds 1 and waits for `threads`. */
  go: SharedArrayBuffer;
  threads: number;
  id: number;
  ops: number;
  seed: number;
  minSize: number;
  maxSize: number;
  /** Most objects this thread holds at once. */
  cap: number;
  /** Alloc/write/check/free rounds on one shared size before the random phase. */
  hammer: number;
  hammerSize: number;
}

export interface ZsPoolWorkerResult {
  allocs: number;
  frees: number;
  reads: number;
  allocFailures: number;
  errors: string[];
  /** Objects still live, handed to the main thread: handle, length, sequence number. */
  handles: Int32Array;
  lens: Int32Array;
  seqs: Int32Array;
}

const d = workerData as ZsPoolWorkerData;
const pool = new ZsPool(d.opts, d.sabs);
const rnd = prng(d.seed);
const handles = new Int32Array(d.cap);
const lens = new Int32Array(d.cap);
const seqs = new Int32Array(d.cap);
const bulk = new Int32Array(16);
const buf = new Uint8Array(d.opts.pageSize);
const errors: string[] = [];
let live = 0;
let nextSeq = 0;
const res = { allocs: 0, frees: 0, reads: 0, allocFailures: 0 };

function verify(i: number): void {
  res.reads++;
  pool.read(handles[i], buf, 0, lens[i]);
  const bad = checkPattern(buf, lens[i], d.id, seqs[i]);
  if (bad >= 0 && errors.length < 10) {
    errors.push(`thread ${d.id}: object ${seqs[i]} (handle ${handles[i]}, ${lens[i]} B) differs at byte ${bad}`);
  }
}

/** Drop slot i from the live set (the caller freed it). */
function forget(i: number): void {
  live--;
  handles[i] = handles[live];
  lens[i] = lens[live];
  seqs[i] = seqs[live];
}

const go = new Int32Array(d.go);
Atomics.add(go, 0, 1);
Atomics.notify(go, 0);
for (let v = Atomics.load(go, 0); v < d.threads; v = Atomics.load(go, 0)) Atomics.wait(go, 0, v, 100);

// Hammer one class that the other thread hammers too: each round frees the object it
// wrote eight rounds ago, so slots are reused through the free lists.
const ring = new Int32Array(8).fill(-1);
const ringSeq = new Int32Array(8);
const hs = d.hammerSize;
for (let k = 0; k < d.hammer + ring.length; k++) {
  const slot = k & (ring.length - 1);
  if (ring[slot] >= 0) {
    pool.read(ring[slot], buf, 0, hs);
    const bad = checkPattern(buf, hs, d.id, ringSeq[slot]);
    if (bad >= 0 && errors.length < 10) errors.push(`thread ${d.id}: hammered object ${ringSeq[slot]} differs at byte ${bad}`);
    pool.free(ring[slot]);
    ring[slot] = -1;
  }
  if (k >= d.hammer) continue;
  const h = pool.alloc(hs);
  if (h < 0) {
    res.allocFailures++;
    continue;
  }
  fillPattern(buf, hs, d.id, nextSeq);
  pool.write(h, buf, 0, hs);
  ring[slot] = h;
  ringSeq[slot] = nextSeq++;
}

for (let op = 0; op < d.ops; op++) {
  const r = rnd();
  if (live === 0 || (live < d.cap && r < 0.45)) {
    const len = d.minSize + Math.floor(rnd() * (d.maxSize - d.minSize + 1));
    const h = pool.alloc(len);
    if (h < 0) {
      res.allocFailures++;
      continue;
    }
    res.allocs++;
    fillPattern(buf, len, d.id, nextSeq);
    pool.write(h, buf, 0, len);
    handles[live] = h;
    lens[live] = len;
    seqs[live] = nextSeq++;
    live++;
  } else if (r < 0.7) {
    verify(Math.floor(rnd() * live));
  } else if (r < 0.9) {
    const i = Math.floor(rnd() * live);
    verify(i);
    pool.free(handles[i]);
    res.frees++;
    forget(i);
  } else {
    const n = Math.min(live, 1 + Math.floor(rnd() * bulk.length));
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rnd() * live);
      verify(i);
      bulk[k] = handles[i];
      forget(i);
    }
    pool.freeBulk(bulk, n);
    res.frees += n;
  }
}

// Free all but a quarter of the cap here; hand the rest to the main thread.
for (let i = 0; i < live; i++) verify(i);
while (live > d.cap / 4) {
  pool.free(handles[live - 1]);
  res.frees++;
  live--;
}
const out: ZsPoolWorkerResult = {
  ...res,
  errors,
  handles: handles.slice(0, live),
  lens: lens.slice(0, live),
  seqs: seqs.slice(0, live),
};
parentPort!.postMessage(out);
