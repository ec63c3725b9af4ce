/**
 * Test-only thread entry point: counts `n` events into shared counters through its own diff
 * block (CounterSet diffs), folding every `foldEvery` events, then either folds and exits
 * normally or dies (process.exit) with its last unfolded counts still in the block.
 * workerData: { sab, diffs, names, n, foldEvery, die }.
 */
import { workerData } from 'node:worker_threads';
import { CounterSet } from '../counters.js';

interface CounterDiffsWorkerData {
  sab: SharedArrayBuffer;
  diffs: SharedArrayBuffer;
  names: string[];
  n: number;
  foldEvery: number;
  die: boolean;
}

const d = workerData as CounterDiffsWorkerData;
const c = new CounterSet(d.names, d.sab, d.diffs);
const [events, bytes] = [c.id(d.names[0]), c.id(d.names[1])];
for (let i = 1; i <= d.n; i++) {
  c.inc(events);
  c.add(bytes, i);
  if (i % d.foldEvery === 0) c.fold();
}
if (d.die) process.exit(70);
c.fold();
