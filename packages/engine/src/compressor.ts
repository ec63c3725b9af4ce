/**
 * A compression worker: kcompressd, one of padata's workers, or an IAA-style engine that
 * takes a batch per request. It pops page indices from its ring (filled by kswapd), stores
 * each page and publishes its new state, one request per batch: the compressor-context
 * mutex is taken once per request (zswap's per-CPU acomp_ctx mutex), each page has its own
 * outcome (a page that fails is returned to RESIDENT alone; the rest of the batch is stored).
 *
 * A synchronous codec compresses the batch's pages one after the other; an asynchronous one
 * (zstd on libuv's pool) keeps all of the batch's requests in flight at once, as a hardware
 * accelerator's engines work in parallel. Every page's progress is recorded in the worker's
 * Inflight record so the main thread can recover the batch if this thread dies.
 *
 * Counting: two or three threads counting every page on the same shared lines (vmstat
 * counters, latency histograms) made each count a cache-line transfer between cores. A
 * worker counts into its own diff block (CounterSet, the per-cpu vm_stat_diff) and its own
 * histogram deltas, and folds them into the shared ones every VMSTAT_FOLD_MS and before it
 * sleeps or returns; the diff block is in shared memory, so recovery folds a dead worker's.
 * Latency records not yet folded when a worker dies (at most VMSTAT_FOLD_MS of them) are lost.
 * The mm_stat gauges are the exception: the store adds a page to them at once, before the
 * page is published, because the application may free it the moment it is (CounterSet).
 */
import { availableParallelism } from 'node:os';
import { CounterSet, HistogramDeltas, Inflight, InflightMark, INFLIGHT_CTX_LOCK, mutexLock, mutexUnlock, PageState, Ring, RING_DEFAULT_SPINS, STATE_MASK } from '@zreclaim/shm';
import { createCodec, type Codec } from './codec.js';
import { spinFor, type Config } from './config.js';
import { createSharedMm, Mm, type SharedMm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { createStore, StoreResult } from './store.js';
import { VMSTAT } from './vmstat.js';
import { keepWarm, shapeKey, templateConfig } from './warm.js';

export interface CompressorTask {
  workerId: number;
  config: Config;
  shared: SharedMm;
  ring: SharedArrayBuffer;
  inflight: SharedArrayBuffer;
  /** The worker's counter diff block (CounterSet.diffBytes of VMSTAT). */
  vmDiffs: SharedArrayBuffer;
  stamps: SharedArrayBuffer;
}

export interface CompressorStats {
  workerId: number;
  pages: number;
  batches: number;
  rejected: number;
  /** Times the worker found its ring empty and slept. */
  idleWaits: number;
}

/**
 * The control plane of a compression worker (comlink): ready and live stats. Draining and
 * stopping are the ring's: kswapd closes it, and the worker returns once it is empty.
 */
export interface CompressorControl {
  ready(): boolean;
  stats(): CompressorStats;
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * A busy worker folds its counter diffs and latency deltas into the shared ones this often
 * (refresh_cpu_vm_stats); readers of the counters during a run are late by at most this.
 */
export const VMSTAT_FOLD_MS = 2;

/** A compressor of `c`'s shape over a template run (see warm.ts): built once per thread, never run. */
function compressorTemplate(c: Config): Compressor {
  const t = templateConfig(c);
  return new Compressor(
    { workerId: -1, config: t, shared: createSharedMm(t), ring: new Ring(t.ringCapacity).sab, inflight: new Inflight(t.pipe.batch).sab, vmDiffs: new SharedArrayBuffer(CounterSet.diffBytes(VMSTAT.length)), stamps: new SharedArrayBuffer(t.pages * 8) },
    false,
  );
}

export class Compressor {
  readonly stats: CompressorStats;
  private readonly mm: Mm;
  private readonly ring: Ring;
  private readonly inflight: Inflight;
  private readonly stamps: Float64Array;
  private readonly codec: Codec;
  private readonly reclaimer: Reclaimer;
  private readonly store: ReturnType<typeof createStore>;
  private readonly batch: Int32Array;
  /** processAsync: the fill words (low, high) of the batch's same-filled pages, and one page's. */
  private readonly fills: Int32Array;
  private readonly fill = new Int32Array(2);
  private readonly c: Config;
  /** This worker's latency records, folded into the shared histograms with its counters. */
  private readonly lat: { ringWait: HistogramDeltas; compress: HistogramDeltas; batch: HistogramDeltas };
  /** performance.timeOrigin, read once (the getter checks its receiver on every call). */
  private readonly timeOrigin = performance.timeOrigin;
  /**
   * Looks at an empty ring before sleeping. Spinning pays on a core of its own; when kswapd
   * and the workers outnumber the cores it only takes CPU from the threads that would fill
   * the ring, so then a worker sleeps at once.
   */
  private readonly spins: number;

  constructor(task: CompressorTask, warm = true) {
    const c = (this.c = task.config);
    this.mm = new Mm(task.shared, { vmDiffs: task.vmDiffs });
    const h = this.mm.h;
    this.lat = { ringWait: new HistogramDeltas(h.ring_wait), compress: new HistogramDeltas(h.compress), batch: new HistogramDeltas(h.compress_batch) };
    this.ring = new Ring(c.ringCapacity, task.ring);
    this.inflight = new Inflight(c.pipe.batch, task.inflight);
    this.stamps = new Float64Array(task.stamps);
    this.store = createStore(this.mm, c);
    // A synchronous codec is the store's own (one set of page views per thread, not two); an
    // asynchronous one (zstd) is this worker's alone, the store holding the sync fallback.
    if (this.store.codec.name === c.codec) this.codec = this.store.codec;
    else {
      this.codec = createCodec(c.codec, c.pageSize);
      this.codec.prepare?.(this.mm.arenaBuf, this.mm.pages);
    }
    this.reclaimer = new Reclaimer(this.mm, this.store);
    if (warm) keepWarm(shapeKey('compressor', c), () => compressorTemplate(c));
    this.batch = new Int32Array(c.pipe.batch);
    this.fills = new Int32Array(2 * c.pipe.batch);
    this.spins = c.pipe.workers + 1 > availableParallelism() ? 0 : RING_DEFAULT_SPINS;
    this.stats = { workerId: task.workerId, pages: 0, batches: 0, rejected: 0, idleWaits: 0 };
  }

  control(): CompressorControl {
    return {
      ready: () => true,
      stats: () => ({ ...this.stats }),
    };
  }

  /** Consume the ring until kswapd closes it and it is empty. */
  async run(): Promise<CompressorStats> {
    try {
      return await this.consume();
    } finally {
      this.fold();
      this.store.close();
    }
  }

  /** Publish this worker's counter diffs and latency records (see the header). */
  private fold(): void {
    this.mm.vm.fold();
    this.lat.ringWait.publish();
    this.lat.compress.publish();
    this.lat.batch.publish();
  }

  private async consume(): Promise<CompressorStats> {
    const ring = this.ring;
    let lastYield = performance.now();
    let lastFold = lastYield;
    for (;;) {
      const n = ring.popBatch(this.batch, this.batch.length);
      if (n > 0) {
        if (this.codec.sync) this.processSync(n);
        else await this.processAsync(n);
        const now = performance.now();
        if (now - lastFold >= VMSTAT_FOLD_MS) {
          lastFold = now;
          this.fold();
        }
        // A synchronous worker never waits on its event loop while busy: let control calls in.
        if (now - lastYield > 5) {
          lastYield = now;
          await yieldLoop();
        }
        continue;
      }
      // Idle or done: what it counted is published before it sleeps or returns.
      this.fold();
      if (ring.closed && ring.size() === 0) return this.stats;
      this.stats.idleWaits++;
      // A sync codec may block its thread in Atomics.wait; an async one must keep its loop.
      if (this.codec.sync) {
        ring.waitForData(50, this.spins);
        await yieldLoop();
      } else {
        await ring.waitForDataAsync(50);
      }
      lastYield = performance.now();
    }
  }

  /** Start a request; returns its start on this thread's performance.now() clock. */
  private begin(n: number): number {
    this.inflight.begin(this.batch, n);
    mutexLock(this.inflight.words, INFLIGHT_CTX_LOCK);
    // One clock read serves the ring wait (on the shared clock) and the request's start.
    const t0 = performance.now();
    const now = this.timeOrigin + t0;
    const h = this.lat.ringWait;
    for (let i = 0; i < n; i++) h.record((now - this.stamps[this.batch[i]]) * 1e6);
    return t0;
  }

  private processSync(n: number): void {
    const t0 = this.begin(n);
    const mm = this.mm;
    for (let i = 0; i < n; i++) {
      const page = this.batch[i];
      if (this.store.trySameFilled(page)) {
        this.publish(i, page, StoreResult.SAME_FILLED);
        continue;
      }
      const off = mm.arena.offset(page);
      // The first page's codec call starts at the request's start (only the same-filled
      // check lies between): one clock read fewer a request.
      const p0 = i === 0 ? t0 : performance.now();
      let out: Uint8Array | undefined;
      let len: number;
      try {
        if (page === this.c.inject.compressFailPage) throw new Error('injected compression failure');
        if (this.codec.compressOwned) {
          out = this.codec.compressOwned(mm.arenaBuf, off, mm.pageSize);
          len = out.length;
        } else {
          len = this.codec.compress!(mm.arenaBuf, off, mm.pageSize, this.store.scratch);
          out = this.store.scratchBytes;
        }
      } catch {
        this.reject(i, page, true);
        continue;
      }
      if (this.store.spinNs > 0) spinFor(this.store.spinNs);
      this.lat.compress.record((performance.now() - p0) * 1e6);
      this.publish(i, page, this.store.storeCompressed(page, out, len, this.codec.id, false));
    }
    this.end(t0);
  }

  private async processAsync(n: number): Promise<void> {
    const t0 = this.begin(n);
    const mm = this.mm;
    const codec = this.codec;
    // Every request of the batch goes out before any is awaited.
    const results: Array<Promise<Uint8Array | Error> | null> = [];
    const done: number[] = [];
    for (let i = 0; i < n; i++) {
      const page = this.batch[i];
      // Found now, stored (slot and gauges) only when published below: a worker that dies
      // while the batch is out leaves these pages ISOLATED and unstored, for recovery to return.
      if (mm.arena.sameFilled(page, this.fill)) {
        this.fills[2 * i] = this.fill[0];
        this.fills[2 * i + 1] = this.fill[1];
        results.push(null);
        done.push(0);
        continue;
      }
      const p0 = performance.now();
      // Injected slowdown: the worker's own work per request, before it goes out.
      if (this.store.spinNs > 0) spinFor(this.store.spinNs);
      const req =
        page === this.c.inject.compressFailPage
          ? Promise.reject(new Error('injected compression failure'))
          : codec.compressAsync!(mm.arenaBuf, mm.arena.offset(page), mm.pageSize);
      results.push(
        req.then(
          (out) => {
            done[i] = performance.now() - p0;
            return out;
          },
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        ),
      );
      done.push(0);
    }
    const outs = await Promise.all(results);
    for (let i = 0; i < n; i++) {
      const page = this.batch[i];
      const out = outs[i];
      if (out === null) {
        this.store.storeSameFilled(page, this.fills[2 * i], this.fills[2 * i + 1]);
        this.publish(i, page, StoreResult.SAME_FILLED);
      } else if (out instanceof Error) {
        this.reject(i, page, true);
      } else {
        this.lat.compress.record(done[i] * 1e6);
        this.publish(i, page, this.store.storeCompressed(page, out, out.length, codec.id, false));
      }
    }
    this.end(t0);
  }

  /** Publish one page's outcome; the batch's counters are flushed in end(). */
  private publish(i: number, page: number, r: StoreResult): void {
    if (r === StoreResult.REJECTED || r === StoreResult.NO_SPACE) {
      this.reject(i, page, false);
      return;
    }
    const same = r === StoreResult.SAME_FILLED;
    this.inflight.mark(i, same ? InflightMark.STORED_SAME : InflightMark.STORED);
    // Poison only once the mark says the pool holds the page: a worker that dies before the
    // mark leaves an intact page for recovery to return to RESIDENT.
    if (!same) this.store.poisonPage(page);
    this.maybeExit();
    this.mm.pt.release(page, same ? PageState.SAME_FILLED : PageState.SWAPPED);
    this.inflight.mark(i, same ? InflightMark.PUBLISHED_SAME : InflightMark.PUBLISHED);
    this.reclaimer.countFreed(true);
    this.stats.pages++;
  }

  private reject(i: number, page: number, codecFailed: boolean): void {
    if (codecFailed) this.mm.vm.inc(this.mm.ev.reject_compress_fail);
    this.mm.pt.release(page, PageState.RESIDENT, true);
    this.inflight.mark(i, InflightMark.RETURNED);
    this.stats.rejected++;
  }

  private end(t0: number): void {
    mutexUnlock(this.inflight.words, INFLIGHT_CTX_LOCK);
    // Flush the batch's counters and clear the in-flight record back to back: recovery
    // counts the pages of a record that is still set.
    this.reclaimer.flush();
    this.inflight.end();
    const mm = this.mm;
    mm.vm.inc(mm.ev.batch_count);
    this.lat.batch.record((performance.now() - t0) * 1e6);
    this.stats.batches++;
  }

  /** Fault injection: die mid-batch, with a page stored but not yet published. */
  private maybeExit(): void {
    const after = this.c.inject.compressorExitAfter;
    if (after > 0 && this.stats.pages + 1 >= after) process.exit(70);
  }
}

/**
 * After a compression worker died: fold the counts it had not published (its diff block,
 * which its replacement then takes over empty), then put every page of its last batch
 * where it belongs. Pages it had not stored go back
 * to RESIDENT (their bytes are intact); pages it had stored are published and counted
 * (their bytes may already be poisoned). Returns how many pages went back to RESIDENT and
 * how many were kept stored.
 *
 * Counted here are the events the dead worker's store and reclaimer held until the end of
 * the batch (pswpout, pgsteal, nr_resident). Not the mm_stat gauges: the store added each
 * page to them before marking it STORED. Nor could recovery count them from the slot: a page
 * already published may have been faulted in or unmapped since (its slot cleared, or reused
 * by another store), and its free already subtracted what its store had added.
 */
export function recoverInflight(mm: Mm, inflight: Inflight, vmDiffs: SharedArrayBuffer): { returned: number; kept: number } {
  mm.vm.foldFrom(vmDiffs);
  let returned = 0;
  let kept = 0;
  const { vm, ev } = mm;
  for (let i = 0; i < inflight.count; i++) {
    const page = inflight.page(i);
    const m = inflight.markOf(i);
    // Only a page still ISOLATED is the dead worker's to settle (a terminated thread may have
    // moved a page on before updating its mark).
    const held = (mm.pt.load(page) & STATE_MASK) === PageState.ISOLATED;
    if (m === InflightMark.ISOLATED) {
      if (held) mm.pt.release(page, PageState.RESIDENT, true);
      returned++;
      continue;
    }
    if (m === InflightMark.RETURNED) continue;
    const same = m === InflightMark.STORED_SAME || m === InflightMark.PUBLISHED_SAME;
    if ((m === InflightMark.STORED || m === InflightMark.STORED_SAME) && held) mm.pt.release(page, same ? PageState.SAME_FILLED : PageState.SWAPPED);
    // The dead worker's unflushed events for this page.
    vm.inc(ev.pswpout);
    vm.inc(ev.pgsteal_kswapd);
    vm.inc(ev.pgsteal_anon);
    mm.zone.addResident(-1);
    kept++;
  }
  inflight.words[INFLIGHT_CTX_LOCK] = 0;
  inflight.end();
  return { returned, kept };
}
