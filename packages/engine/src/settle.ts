/**
 * Benchmark hygiene: collect the garbage one timed phase left behind before the next phase
 * starts, so neither pays for the other.
 *
 * lz4-napi returns a new Buffer per page, freed by a Node-API finalizer. Node 20 does not
 * run those finalizers inside the GC: the GC queues them and they run in a setImmediate
 * afterwards. A bare synchronous loop never reaches its event loop, so the finalizers of
 * every Buffer it made wait for whoever yields next; gc() alone only queues them. Hence a
 * GC and then two turns of the event loop. Measured here: the ~15 000 finalizers a bare
 * loop left cost the next drain ~0.26 µs a page when they ran in its kswapd's yields.
 */
import { setImmediate as turn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

/**
 * V8's gc(): the global one under --expose-gc, else one made by turning the flag on (once,
 * on first use: importing the engine changes no V8 flag); null where V8 refuses.
 */
function collector(): (() => void) | null {
  if (gc !== undefined) return gc;
  gc = (globalThis as { gc?: () => void }).gc ?? null;
  if (gc) return gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  } catch {
    gc = null;
  }
  return gc;
}

/** Whether settleHeap() can force a collection (else it only lets queued finalizers run). */
export function canCollect(): boolean {
  return collector() !== null;
}

/** Collect garbage, then let the finalizers it queued run. */
export async function settleHeap(): Promise<void> {
  collector()?.();
  await turn();
  await turn();
}

/**
 * For a warm worker thread starting a task: collect now, so that what its previous task
 * left (that run's arena and pool, reachable from nothing but not yet collected: an idle
 * isolate hardly ever collects on its own) is released before this one allocates. Done at
 * the start rather than the end of a task, so the collection and the unmapping of the old
 * shared memory happen while the engine sets up (before its workers answer ready), not
 * during another engine's timed drain on the other core.
 */
export function collectBeforeTask(): void {
  collector()?.();
}
