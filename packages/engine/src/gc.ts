/**
 * The zram GC worker (gc: async): application threads that unmap or fault pages queue the
 * pool handles they no longer need (ZramStore.freeSlot → mm.gc, a GcQueue capped in bytes);
 * this worker pops them in batches and frees each batch in bulk (releaseObjects: ZsPool's
 * freeBulk sorts the batch by size class and takes each class lock once), so the thread that
 * unmaps returns its resident memory at once and the pool's memory follows on another thread.
 *
 * Worker side: GcWorker.run() is one long piscina task (workers/gc-worker.ts). It looks at
 * the queue every millisecond (a timer) and frees in batches when the producers have gone
 * quiet or memory or the cap demands it (see run()); an empty queue makes it sleep with
 * Atomics.waitAsync, so its event loop keeps answering control calls and it burns no CPU;
 * when the queue is closed it empties it and returns its statistics. Engine side: startGc() submits that task to the engine's GC thread pool and
 * finish() closes the queue and waits for the worker (bounded: a worker that dies or does not
 * drain fails the run, it never hangs it).
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { releaseControl, wrapControl, type Remote } from './control.js';
import { EngineError, message } from './errors.js';
import { Mm, type SharedMm } from './mm.js';
import type { GcReport } from './result.js';
import { releaseObjects } from './store.js';
import { STOP_GRACE_MS } from './supervisor.js';
import { raceTimeout } from './timeout.js';

/** Most handles one bulk free takes. */
export const GC_BATCH = 256;
/** The longest the worker sleeps on an empty queue before it looks again (close() wakes it at once). */
const IDLE_WAIT_MS = 1000;
/**
 * The worker looks at the queue every NAP_MS (a timer, with the queue's `sleeping` flag clear,
 * so producers push without waking it); a queue empty for NAPS looks in a row makes it sleep
 * on the queue, where the next push wakes it.
 */
const NAP_MS = 1;
const NAPS = 5;
/** A busy worker yields its event loop this often (ms), so control calls are answered. */
const YIELD_MS = 5;

export interface GcTask {
  shared: SharedMm;
  /** Fault injection, for tests: the worker exits (process.exit) after this many bulk frees; 0 = never. */
  exitAfterBulkFrees?: number;
}

export interface GcStats {
  /** Bulk frees done (one releaseObjects call each). */
  bulkFrees: number;
  /** Pool objects freed, and their compressed bytes. */
  slotsFreed: number;
  bytesFreed: number;
  /** Largest batch freed at once. */
  maxBatch: number;
  /** Times the worker looked at the queue and let it be (a timer; producers do not wake it), and slept on the empty queue. */
  naps: number;
  sleeps: number;
  /** Time spent freeing (ms). */
  busyMs: number;
  /**
   * Most gc_bytes_pending seen just before a pop, with no batch in hand: the bytes queued
   * (the byte cap bounds them). The queue is fullest right before the consumer takes from it.
   */
  peakQueuedBytes: number;
  /**
   * Most gc_bytes_pending seen right after a pop, before that batch is freed: bytes whose free
   * is deferred, the batch in hand included, so at most the cap plus one batch (≤ 2 × cap).
   */
  peakPendingBytes: number;
}

/** The GC worker's control plane (comlink): ready and live stats. Stopping is the queue's: close() it. */
export interface GcControl {
  ready(): boolean;
  stats(): GcStats;
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
const nap = () => new Promise<void>((r) => setTimeout(r, NAP_MS));

export class GcWorker {
  readonly stats: GcStats = { bulkFrees: 0, slotsFreed: 0, bytesFreed: 0, maxBatch: 0, naps: 0, sleeps: 0, busyMs: 0, peakQueuedBytes: 0, peakPendingBytes: 0 };
  private readonly mm: Mm;
  private readonly handles = new Int32Array(GC_BATCH);
  private readonly bytes = new Int32Array(GC_BATCH);

  constructor(private readonly task: GcTask) {
    this.mm = new Mm(task.shared);
    if (!this.mm.gc) throw new Error('GC worker started for a run without gc: async (no queue)');
  }

  control(): GcControl {
    return { ready: () => true, stats: () => ({ ...this.stats }) };
  }

  /**
   * Free queued handles until the queue is closed and empty; returns the statistics.
   *
   * When: the worker frees everything queued as soon as the producers have gone quiet (the
   * queue did not grow over one nap; a queue at its byte cap refuses pushes, so it counts as
   * quiet too), or at once when memory is short (free memory at the high watermark: the
   * pool pages the queued objects pin are needed), when half the queue's entries are used,
   * or when the queue is closed. Otherwise it lets frees pile up, within the cap, while
   * threads are unmapping or faulting: measured here (bench:gc), a GC worker freeing while a
   * thread unmaps slows that thread 2–3× (the queue's lock: its holder sometimes stalls past
   * the waiter's spin, and a futex wake costs up to milliseconds on this VM), and a trigger
   * at half the cap made a 256 MiB swap-in 13 % slower; sparing the unmapping thread is
   * what the asynchronous free is for.
   */
  async run(): Promise<GcStats> {
    const q = this.mm.gc!;
    const st = this.stats;
    let lastYield = performance.now();
    /** Naps in a row on an empty queue. */
    let idle = 0;
    /** Entries seen at the last look, to tell a quiet queue from a growing one. */
    let seen = -1;
    /** Freeing until the queue is empty. */
    let draining = false;
    for (;;) {
      const count = q.count;
      if (count > 0 && (draining || count === seen || q.closed || this.mustFree(count))) {
        draining = true;
        idle = 0;
        const t1 = this.freeBatch();
        if (t1 - lastYield >= YIELD_MS) {
          await yieldLoop();
          lastYield = performance.now();
        }
        continue;
      }
      draining = false;
      seen = count;
      if (q.closed) {
        // A push that read `closed` = 0 just before close() may still be finishing under the
        // queue's lock: take the lock once (pendingBytes) so it has landed, then look again.
        q.pendingBytes();
        if (q.count === 0) break;
        continue;
      }
      if (count > 0 || idle < NAPS) {
        if (count === 0) idle++;
        st.naps++;
        await nap();
      } else {
        idle = 0;
        seen = -1;
        st.sleeps++;
        await q.waitAsync(IDLE_WAIT_MS);
      }
      lastYield = performance.now();
    }
    return { ...st };
  }

  /** Memory is short, or half the queue's entries are used: free now, whatever the producers do. */
  private mustFree(count: number): boolean {
    const mm = this.mm;
    return mm.freePages() <= mm.zone.wmarkHigh || count >= mm.gc!.capacity / 2;
  }

  /** Pop up to GC_BATCH handles and free them in bulk; returns when it finished (performance.now()). */
  private freeBatch(): number {
    const mm = this.mm;
    const st = this.stats;
    // Before the pop no batch is in hand: gc_bytes_pending is the queue's bytes (less the
    // pushes whose counter update has not landed yet), which the cap bounds.
    const queued = mm.vm.get(mm.ev.gc_bytes_pending);
    if (queued > st.peakQueuedBytes) st.peakQueuedBytes = queued;
    const n = mm.gc!.popBatch(this.handles, this.bytes, GC_BATCH);
    const t0 = performance.now();
    if (n === 0) return t0;
    const pending = mm.vm.get(mm.ev.gc_bytes_pending);
    if (pending > st.peakPendingBytes) st.peakPendingBytes = pending;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.bytes[i];
    // freeBulk reorders the handles by size class itself (one class lock per class).
    releaseObjects(mm, this.handles, this.bytes, n);
    const t1 = performance.now();
    mm.h.gc_free.record((t1 - t0) * 1e6);
    st.busyMs += t1 - t0;
    st.bulkFrees++;
    st.slotsFreed += n;
    st.bytesFreed += sum;
    if (n > st.maxBatch) st.maxBatch = n;
    const exitAfter = this.task.exitAfterBulkFrees ?? 0;
    if (exitAfter > 0 && st.bulkFrees >= exitAfter) process.exit(70);
    return t1;
  }
}

/** The engine's GC thread pool, as startGc uses it (one thread, kept warm across runs). */
export interface GcPools {
  get(): Piscina;
  /** Terminate `pool` and forget it (a worker that would not stop). */
  discard(pool: Piscina): Promise<void>;
}

/** What a run does with its GC worker. */
export type GcRun = ReturnType<typeof startGc>;

/**
 * Start the GC worker for a run whose shared memory has a GC queue. `failed` rejects with an
 * EngineError if the worker dies (or returns) before finish(); finish() closes the queue,
 * waits for the worker to empty it and returns an error instead of throwing.
 */
export function startGc(shared: SharedMm, mm: Mm, pools: GcPools, opts: { graceMs: number; exitAfterBulkFrees?: number }) {
  const q = mm.gc;
  if (!q) throw new EngineError('startGc: this run has no GC queue (gc: sync)');
  const pool = pools.get();
  const { port1, port2 } = new MessageChannel();
  const remote: Remote<GcControl> = wrapControl<GcControl>(port1);
  const task: GcTask & { port: typeof port2 } = { shared, port: port2, exitAfterBulkFrees: opts.exitAfterBulkFrees };
  let finishing = false;
  let stats: GcStats | undefined;
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  // Counters only: a dead thread may hold the queue's lock, and the main thread must not wait on it.
  const leftOver = () => `${q.count} slots (${mm.vm.get(mm.ev.gc_bytes_pending)} bytes) not freed`;
  const done = (pool.run(task, { transferList: [port2] }) as Promise<GcStats>).then(
    (s) => {
      stats = s;
      if (!finishing) fail(new EngineError('GC worker returned before the run closed its queue'));
    },
    (e: unknown) => {
      const err = new EngineError(`GC worker died: ${message(e)}; ${leftOver()}`);
      fail(err);
      throw err;
    },
  );
  done.catch(() => undefined);
  let crashed: unknown;
  failed.catch((e: unknown) => (crashed = e));
  return {
    failed,
    /** The worker attached and answers its control port. */
    ready: (): Promise<unknown> => Promise.race([remote.ready(), failed]),
    /** Live statistics (undefined if the worker does not answer within a second). */
    liveStats: (): Promise<GcStats | undefined> =>
      stats !== undefined ? Promise.resolve(stats) : raceTimeout(remote.stats(), 1000, undefined),
    /**
     * No more frees will be queued (the applications have stopped): close the queue, let the
     * worker empty it, and wait for it — at most graceMs (failing: a few seconds), after which
     * its thread is terminated. Returns the error that ends the run, if any.
     */
    finish: async (failing: boolean): Promise<unknown> => {
      if (finishing) return undefined;
      finishing = true;
      q.close();
      const limit = failing ? Math.min(opts.graceMs, STOP_GRACE_MS) : opts.graceMs;
      const ok = await raceTimeout(
        done.then(
          () => true,
          () => false,
        ),
        limit,
        false,
      );
      releaseControl(remote);
      if (ok) return undefined;
      if (crashed !== undefined) return crashed;
      await pools.discard(pool);
      return new EngineError(`GC worker did not empty its queue within ${Math.round(limit / 1000)} s; ${leftOver()}; its thread was terminated`);
    },
    report: (): GcStats | undefined => stats,
  };
}

/** The result's gc block. */
export function gcReport(mode: 'sync' | 'async', capBytes: number, counters: { gc_slots_queued: number; gc_slots_freed: number }, s: GcStats | undefined, peakSampled: number): GcReport {
  return {
    mode,
    cap_bytes: capBytes,
    slots_queued: counters.gc_slots_queued,
    slots_freed: counters.gc_slots_freed,
    bulk_frees: s?.bulkFrees ?? 0,
    bytes_freed: s?.bytesFreed ?? 0,
    max_batch: s?.maxBatch ?? 0,
    naps: s?.naps ?? 0,
    sleeps: s?.sleeps ?? 0,
    busy_ms: s?.busyMs ?? 0,
    peak_queued_bytes: s?.peakQueuedBytes ?? 0,
    peak_pending_bytes: Math.max(s?.peakPendingBytes ?? 0, peakSampled),
  };
}
