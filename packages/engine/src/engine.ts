/**
 * The public API: `createEngine(config)` → `engine.run({ workload, signal, onProgress })` →
 * RunResult; `engine.drain({ signal })` → DrainResult; `engine.close()` (or `await using`)
 * releases the worker threads.
 *
 * A run: the main thread allocates the shared memory, starts kswapd (an async loop on this
 * thread), starts one application worker per app through piscina and controls them through
 * comlink (ready, start, live stats, stop); it samples the counters for the time series until
 * every application has finished, then stops kswapd, lets the compression workers and the GC
 * worker (gc: async) empty their queues, and checks that the counters add up.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Inflight, PageState, Ring, STATE_MASK } from '@zreclaim/shm';
import { createContentSource } from '@zreclaim/workloads';
import { loadWorkload, type AppControl, type AppTask } from './app.js';
import type { CompressorStats } from './compressor.js';
import { ConfigError, configHash, resolveConfig, withEnvInjection, type Config, type ConfigInput } from './config.js';
import { releaseControl, wrapControl, type Remote } from './control.js';
import { environment } from './env.js';
import { Compactor } from './compact.js';
import { Kswapd } from './kswapd.js';
import { createSharedMm, disposeSharedMm, Mm, type SharedMm } from './mm.js';
import { EngineError, message } from './errors.js';
import { inlineReport, startPipeline, STOP_GRACE_MS, type CompressorPools } from './supervisor.js';
import type { AppStats } from './page-api.js';
import { OffloadReclaimer } from './offload.js';
import { Reclaimer } from './reclaim.js';
import { RESULT_SCHEMA, type LatencySummary, type PipelineReport, type RunResult } from './result.js';
import type { LatencyName, VmstatName } from './vmstat.js';
import { createStore, onDisk, slotBytes } from './store.js';
import { keepWarm, shapeKey, templateConfig } from './warm.js';
import { gcReport, startGc, type GcPools, type GcStats } from './gc.js';
import { raceTimeout } from './timeout.js';
import { threadScript } from './thread-scripts.js';

/** A live reading of a run, passed to `onProgress`. Memory is in pages of config.pageSize. */
export interface Progress {
  /** Milliseconds since the applications started their access phase. */
  elapsedMs: number;
  /** The run's duration (config.duration), in milliseconds. */
  durationMs: number;
  /** Free pages of the RAM budget (negative: overcommitted). */
  free: number;
  /** Pages resident in RAM. */
  resident: number;
  /** The compressed pool's footprint, in pages. */
  poolPages: number;
  /** Pages reclaimed so far. */
  pgsteal_anon: number;
  /** Pages faulted back in so far. */
  pswpin: number;
  /** Allocations that had to reclaim directly so far. */
  allocstall: number;
  /** Live statistics from each application (through the control plane). */
  apps: AppStats[];
  /** Live statistics from each compression worker (empty for inline). */
  compressors: CompressorStats[];
}

/** Options of `engine.run()`; every field is optional. */
export interface RunOptions {
  /** The workload to run instead of the config's `workload` (same shape: usemem or `{ kind: 'module', module, params }`). */
  workload?: ConfigInput['workload'];
  /**
   * Stops the run early: the applications stop at their next checkpoint, the run winds down
   * as at its end, and run() resolves with a full result whose `ended` is 'aborted' (its
   * checks still apply). A signal aborted before the call stops the run at once.
   */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` while the applications run. */
  onProgress?: (p: Progress) => void;
  /** How often onProgress is called, in milliseconds (default 250). */
  progressIntervalMs?: number;
}

/** Options of `engine.drain()`. */
export interface DrainOptions {
  /**
   * Stops the drain: kswapd stops, the compression workers empty their rings, and drain()
   * rejects with the signal's reason (a DOMException named 'AbortError' unless the caller
   * gave another reason), as fetch() does; there is no partial result (a drain's figure is
   * its rate over the whole drain). The engine stays usable.
   */
  signal?: AbortSignal;
}

/** RunOptions with fault injection, for tests only (not part of the public type). */
export interface InternalRunOptions extends RunOptions {
  /** The GC worker (gc: async) exits after this many bulk frees. */
  inject?: { gcExitAfterBulkFrees?: number };
}

/** How long the end of a run waits for the GC worker to empty its queue before it terminates it. */
const GC_FINISH_MS = 60_000;

const SAMPLE_MS = 100;

interface Sample {
  t: number;
  free: number;
  resident: number;
  poolPages: number;
  pgsteal: number;
  pswpin: number;
  orig: number;
  compr: number;
  same: number;
  huge: number;
  gcPending: number;
  /** Pages published to the compression workers' rings and not yet popped (0 inline). */
  ringDepth: number;
}

/** A new engine; ZRECLAIM_INJECT_COMPRESS_NS, when set, injects a compression slowdown (config inject.compressSpinNs). */
export function createEngine(input: ConfigInput = {}): Engine {
  return new Engine(withEnvInjection(input));
}

/** kswapd's attachment of `c`'s shape over a template run (see warm.ts): built once, never run. */
function kswapdTemplate(c: Config, offload: boolean): unknown {
  const t = templateConfig(c);
  const mm = new Mm(createSharedMm(t));
  const store = createStore(mm, t);
  const reclaimer = offload
    ? new OffloadReclaimer(mm, store, [new Ring(t.ringCapacity)], [new Inflight(t.pipe.batch)], new Float64Array(t.pages), t.kswapd.onFull === 'wait', t.unmapCostNs)
    : new Reclaimer(mm, store, t.unmapCostNs);
  const compactor = t.store.compact ? new Compactor(mm) : undefined;
  return { mm, store, reclaimer, kswapd: new Kswapd(mm, reclaimer, t.kswapd.slice, compactor) };
}

/**
 * An engine: one config, threads kept warm across runs. One run or drain at a time; close()
 * (or leaving an `await using` scope, which calls it) stops a run in progress, waits for it
 * and releases the threads; a closed engine refuses to run.
 */
export class Engine implements AsyncDisposable {
  readonly config: Config;
  private pool: Piscina | undefined;
  private closed = false;
  private current: Promise<unknown> | undefined;
  private compressors: Piscina | undefined;
  private gcThreads: Piscina | undefined;
  private stopCurrent: (() => void) | undefined;

  constructor(private readonly input: ConfigInput) {
    this.config = resolveConfig(input);
  }

  /** Run a workload (default: the config's) to the end and return its result. */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    this.checkIdle();
    const { workload } = opts;
    const c = workload === undefined ? this.config : resolveConfig({ ...this.input, workload });
    return this.exclusive(this.runOnce(c, opts));
  }

  /**
   * A pure drain: the arena full of cold pages (the config's content), no application
   * running, and kswapd reclaiming through the config's pipeline until free memory reaches
   * the high watermark and every queued page is stored. The RAM budget is the arena itself
   * and the high watermark half of it, so kswapd reclaims most of the arena. This is the
   * benchmark that compares pipelines and codecs on the same pages.
   *
   * An abort through `signal` rejects with the signal's reason (see DrainOptions).
   */
  async drain(opts: DrainOptions = {}): Promise<DrainResult> {
    this.checkIdle();
    opts.signal?.throwIfAborted();
    return this.exclusive(this.drainOnce(this.config, opts.signal));
  }

  private checkIdle(): void {
    if (this.closed) throw new EngineError('engine is closed');
    if (this.current) throw new EngineError('a run is already in progress on this engine');
  }

  /** One run or drain at a time; close() waits for it. */
  private async exclusive<T>(work: Promise<T>): Promise<T> {
    this.current = work;
    try {
      return await work;
    } finally {
      this.current = undefined;
    }
  }

  /**
   * kswapd and where its pages go: compressed by kswapd itself (inline) or handed to the
   * pipeline's supervised compression workers.
   */
  private reclaimPath(c: Config, shared: SharedMm, mm: Mm) {
    const store = createStore(mm, c);
    const pipeline = c.pipe.workers > 0 ? startPipeline(c, shared, mm, this.compressorPools) : undefined;
    const reclaimer = pipeline ? new OffloadReclaimer(mm, store, pipeline.rings, pipeline.inflight, pipeline.stamps, c.kswapd.onFull === 'wait', c.unmapCostNs) : new Reclaimer(mm, store, c.unmapCostNs);
    const compactor = c.store.compact ? new Compactor(mm) : undefined;
    const kswapd = new Kswapd(mm, reclaimer, c.kswapd.slice, compactor);
    keepWarm(shapeKey(pipeline ? 'kswapd-offload' : 'kswapd-inline', c), () => kswapdTemplate(c, pipeline !== undefined));
    return { pipeline, reclaimer, store, kswapd };
  }

  private async drainOnce(base: Config, signal: AbortSignal | undefined): Promise<DrainResult> {
    const pages = base.pages;
    const c: Config = { ...base, ramPages: pages, wmark: { min: 1, low: Math.floor(pages * 0.45), high: Math.floor(pages * 0.49) } };
    const shared = createSharedMm(c);
    try {
      return await this.drainOn(c, shared, signal);
    } finally {
      disposeSharedMm(shared);
    }
  }

  private async drainOn(c: Config, shared: SharedMm, signal: AbortSignal | undefined): Promise<DrainResult> {
    const pages = c.pages;
    const mm = new Mm(shared);
    const content = createContentSource(c.content, c.pageSize, c.seed);
    for (let p = 0; p < pages; p++) {
      content.fill(mm.arena.bytes, mm.arena.offset(p), c.pageSize, p, 1);
      mm.pt.map(p, 1);
      mm.pt.release(p, PageState.RESIDENT, false);
    }
    mm.zone.addResident(pages);
    const { pipeline, reclaimer, kswapd, store } = this.reclaimPath(c, shared, mm);
    let failedNow: unknown;
    // Before the first await: a close() while the workers start stops the drain too.
    this.stopCurrent = () => (failedNow ??= new EngineError('drain stopped: the engine was closed'));
    if (pipeline) {
      pipeline.failed.catch((e: unknown) => (failedNow = e));
      await pipeline.ready();
    }
    const t0 = performance.now();
    kswapd.start();
    mm.zone.wakeKswapd();
    const deadline = t0 + 120_000;
    let err: unknown;
    // An abort is seen at the next turn of this loop (at most a millisecond's timer away).
    while (failedNow === undefined && !signal?.aborted && (mm.freePages() < mm.zone.wmarkHigh || reclaimer.pending() > 0)) {
      // kswapd going to sleep ends an inline drain at once; pages still with the workers are
      // polled for on a timer, not setImmediate (a busy main thread takes a core from them).
      await Promise.race([kswapd.nextSleep(), delay(1)]);
      if (performance.now() > deadline) {
        err = new EngineError(
          `drain did not reach the high watermark within 120 s: free ${mm.freePages()} pages (low ${mm.zone.wmarkLow}, high ${mm.zone.wmarkHigh}), ` +
            `${reclaimer.pending()} still queued to compression workers, ${mm.vm.snapshot().pgsteal_anon} reclaimed`,
        );
        break;
      }
      if (kswapd.error || failedNow) break;
    }
    if (signal?.aborted) failedNow ??= signal.reason;
    const secs = (performance.now() - t0) / 1000;
    this.stopCurrent = undefined;
    if (failedNow !== undefined) err ??= failedNow;
    mm.zone.stop();
    await kswapd.stopped();
    const perr = pipeline ? await pipeline.finish(err !== undefined) : undefined;
    store.close();
    if (kswapd.error) throw new EngineError(`kswapd failed: ${kswapd.error.message}`);
    if (err !== undefined || perr !== undefined) throw err ?? perr;
    const counters = mm.vm.snapshot();
    return {
      schema: 'zreclaim.drain/v1',
      environment: environment(configHash(c)),
      pipeline: pipeline?.report() ?? inlineReport(c),
      pages: counters.pgsteal_anon,
      seconds: secs,
      pagesPerSec: counters.pgsteal_anon / secs,
      kswapdBusyMs: kswapd.busyMs,
      counters,
      latency: mm.lat.snapshot(),
    };
  }

  /** `await using engine = createEngine(config)`: leaving the scope closes the engine. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stop a run or drain in progress, wait for it, and release the worker threads. Safe to call again. */
  async close(): Promise<void> {
    this.closed = true;
    // Closing during a run stops it and waits for it: terminating workers mid-operation
    // could leave a pool lock held.
    this.stopCurrent?.();
    await this.current?.catch(() => undefined);
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
    await this.compressors?.destroy().catch(() => undefined);
    await this.gcThreads?.destroy().catch(() => undefined);
  }

  /** The GC worker's thread (gc: async), kept warm across runs like the other pools. */
  private readonly gcPools: GcPools = {
    get: () => (this.gcThreads ??= new Piscina({ filename: threadScript('gc-worker'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, idleTimeout: 60_000, atomics: 'disabled' })),
    discard: async (pool) => {
      if (this.gcThreads === pool) this.gcThreads = undefined;
      await pool.destroy().catch(() => undefined);
    },
  };

  /** The compression thread pool, kept warm across runs like the application pool. */
  private readonly compressorPools: CompressorPools = {
    get: (n) => {
      if (this.compressors && this.compressors.options.maxThreads !== n) {
        void this.compressors.destroy();
        this.compressors = undefined;
      }
      return (this.compressors ??= new Piscina({ filename: threadScript('compress-worker'), minThreads: n, maxThreads: n, concurrentTasksPerWorker: 1, idleTimeout: 60_000, atomics: 'disabled' }));
    },
    isCurrent: (pool) => this.compressors === pool,
    discard: async (pool) => {
      if (this.compressors === pool) this.compressors = undefined;
      await pool.destroy().catch(() => undefined);
    },
  };

  private workers(threads: number): Piscina {
    if (this.pool && this.pool.options.maxThreads === threads) return this.pool;
    void this.pool?.destroy();
    this.pool = new Piscina({
      filename: threadScript('app-worker'),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });
    return this.pool;
  }

  private async runOnce(c: Config, opts: InternalRunOptions): Promise<RunResult> {
    await preflight(c);
    const shared = createSharedMm(c);
    try {
      return await this.runOn(c, shared, opts);
    } finally {
      disposeSharedMm(shared);
    }
  }

  private async runOn(c: Config, shared: SharedMm, opts: InternalRunOptions): Promise<RunResult> {
    const env = environment(configHash(c));
    const mm = new Mm(shared);
    const { pipeline, kswapd, store } = this.reclaimPath(c, shared, mm);
    // gc: async — the GC worker frees the slots applications queue, until the run closes the queue.
    const gc = mm.gc ? startGc(shared, mm, this.gcPools, { graceMs: GC_FINISH_MS, exitAfterBulkFrees: opts.inject?.gcExitAfterBulkFrees }) : undefined;
    const pool = this.workers(c.apps);

    // One task and one control port per application; shares split the arena evenly.
    const remotes: Remote<AppControl & { ready(): boolean; start(): void }>[] = [];
    const tasks: Promise<AppStats>[] = [];
    const settled: boolean[] = [];
    for (let i = 0; i < c.apps; i++) {
      const base = Math.floor((c.pages * i) / c.apps);
      const next = Math.floor((c.pages * (i + 1)) / c.apps);
      const { port1, port2 } = new MessageChannel();
      const task: AppTask & { port: typeof port2 } = { appId: i + 1, apps: c.apps, base, count: next - base, config: c, shared, port: port2 };
      const t = pool.run(task, { transferList: [port2] }) as Promise<AppStats>;
      settled.push(false);
      void t.then(
        () => (settled[i] = true),
        () => (settled[i] = true),
      );
      tasks.push(t);
      remotes.push(wrapControl(port1));
    }
    // The first application failure, or the watchdog: either ends the run with an error.
    let fail!: (e: unknown) => void;
    const failure = new Promise<never>((_, reject) => (fail = reject));
    failure.catch(() => undefined);
    tasks.forEach((t) => t.catch((e: unknown) => fail(new EngineError(`application worker failed: ${message(e)}`))));
    pipeline?.failed.catch((e: unknown) => fail(e));
    gc?.failed.catch((e: unknown) => fail(e));
    const orFail = <T>(p: Promise<T>) => Promise.race([p, failure]);

    const samples: Sample[] = [];
    const rings = pipeline?.rings ?? [];
    let t0 = performance.now();
    const sample = () => {
      const vm = mm.vm;
      const ev = mm.ev;
      samples.push({
        t: performance.now() - t0,
        free: mm.freePages(),
        resident: mm.zone.nrResident,
        poolPages: mm.pool.pagesUsed,
        pgsteal: vm.get(ev.pgsteal_anon),
        pswpin: vm.get(ev.pswpin),
        orig: vm.get(ev.orig_data_size),
        compr: vm.get(ev.compr_data_size),
        same: vm.get(ev.same_pages),
        huge: vm.get(ev.huge_pages),
        gcPending: vm.get(ev.gc_bytes_pending),
        ringDepth: ringDepth(rings),
      });
    };

    let aborted = false;
    const onAbort = () => {
      aborted = true;
      mm.zone.stop();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    // A run never hangs: past its duration plus a generous grace it fails, and workers that
    // do not stop are terminated.
    const graceMs = c.duration * 1000 + 120_000;
    const watchdog = setTimeout(() => fail(new EngineError(`run did not finish within ${Math.round(graceMs / 1000)} s; stopped`)), graceMs);
    this.stopCurrent = () => mm.zone.stop();

    let sampler: NodeJS.Timeout | undefined;
    let progress: NodeJS.Timeout | undefined;
    let error: unknown;
    let endedAt = 0;
    try {
      // Every application attached and loaded its workload: start them together.
      await orFail(Promise.all([...remotes.map((r) => r.ready()), gc?.ready()]));
      if (c.kswapd.enabled) kswapd.start();
      t0 = performance.now();
      sample();
      sampler = setInterval(sample, SAMPLE_MS);
      await orFail(Promise.all(remotes.map((r) => r.start())));
      if (opts.onProgress) progress = this.reportProgress(opts.onProgress, opts.progressIntervalMs ?? 250, remotes, settled, samples, mm, c, () => t0, pipeline?.liveStats);
      await orFail(Promise.all(tasks));
      // Rates are over the applications' run, not the rings' drain after it.
      endedAt = performance.now();
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(watchdog);
      clearInterval(sampler);
      clearInterval(progress);
      opts.signal?.removeEventListener('abort', onAbort);
      this.stopCurrent = undefined;
      mm.zone.stop();
      // kswapd checks the stop flag between slices, so it is out of the pool's locks here.
      await kswapd.stopped();
      if (error !== undefined) await this.reap(tasks, remotes);
      remotes.forEach((r) => releaseControl(r));
      // No more pushes: the workers drain their rings and return.
      if (pipeline) {
        const err = await pipeline.finish(error !== undefined);
        if (error === undefined && err !== undefined) error = err;
      }
      // Nothing queues frees any more: the GC worker empties its queue and returns.
      if (gc) {
        const err = await gc.finish(error !== undefined);
        if (error === undefined && err !== undefined) error = err;
      }
      store.close();
    }
    if (error !== undefined) throw error instanceof EngineError ? error : new EngineError(message(error));
    if (kswapd.error) throw new EngineError(`kswapd failed: ${kswapd.error.message}`);
    const apps = await Promise.all(tasks);
    const elapsedMs = endedAt - t0;
    sample();
    return buildResult(c, env, mm, kswapd, samples, apps, elapsedMs, aborted, pipeline?.report(), gc?.report());
  }

  /**
   * After a failure: let the other applications see the stop (parked ones are started so
   * they can), give them a grace period, then terminate whatever is still running.
   */
  private async reap(tasks: Promise<AppStats>[], remotes: Remote<{ start(): void }>[]): Promise<void> {
    remotes.forEach((r) => void r.start().catch(() => undefined));
    const all = Promise.allSettled(tasks).then(() => true);
    const done = await raceTimeout(all, STOP_GRACE_MS, false);
    if (!done) {
      const pool = this.pool;
      this.pool = undefined;
      await pool?.destroy().catch(() => undefined);
    }
  }

  /** Live progress: counters from the samples, application statistics over comlink. */
  private reportProgress(
    onProgress: (p: Progress) => void,
    intervalMs: number,
    remotes: Remote<AppControl>[],
    settled: boolean[],
    samples: Sample[],
    mm: Mm,
    c: Config,
    t0: () => number,
    compressorStats?: () => Promise<CompressorStats[]>,
  ): NodeJS.Timeout {
    const last: (AppStats | undefined)[] = remotes.map(() => undefined);
    let inFlight = false;
    return setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      // A finished application no longer answers: keep its last statistics.
      const asks = remotes.map((r, i) =>
        settled[i]
          ? Promise.resolve(last[i])
          : raceTimeout(r.stats(), 1000, undefined).then((s) => (s ? (last[i] = s) : last[i])),
      );
      Promise.all([Promise.all(asks), compressorStats ? compressorStats() : Promise.resolve([])])
        .then(([apps, compressors]) => {
          const s = samples[samples.length - 1];
          onProgress({
            elapsedMs: performance.now() - t0(),
            durationMs: c.duration * 1000,
            free: s.free,
            resident: s.resident,
            poolPages: s.poolPages,
            pgsteal_anon: s.pgsteal,
            pswpin: s.pswpin,
            allocstall: mm.vm.get(mm.ev.allocstall),
            apps: apps.filter((a): a is AppStats => a !== undefined),
            compressors,
          });
        })
        .catch(() => undefined)
        .finally(() => {
          inFlight = false;
        });
    }, intervalMs);
  }
}


/** What `engine.drain()` returns. Units are in the names; `latency` is in nanoseconds. */
export interface DrainResult {
  schema: 'zreclaim.drain/v1';
  environment: ReturnType<typeof environment>;
  pipeline: PipelineReport;
  /** Pages reclaimed (pgsteal_anon). */
  pages: number;
  /** The drain's wall-clock time, in seconds. */
  seconds: number;
  pagesPerSec: number;
  /** Milliseconds kswapd spent reclaiming (not asleep or yielding). */
  kswapdBusyMs: number;
  counters: Record<VmstatName, number>;
  /** Latency histograms by name, every value in nanoseconds (see LatencySummary). */
  latency: Record<LatencyName, LatencySummary>;
}


/** SWAPPED pages whose slot is in the zswap backing file (a scan, for the end-of-run checks). */
function pagesOnDisk(mm: Mm): number {
  let n = 0;
  for (let p = 0; p < mm.pages; p++) {
    if ((mm.pt.load(p) & STATE_MASK) === PageState.SWAPPED && onDisk(mm.slots.length[p])) n++;
  }
  return n;
}

/**
 * The end-of-run pool check (every thread has stopped): audit the pool's lists, and check
 * that its live objects are exactly the pages stored in it and compr_data_size their bytes.
 * A slot queued and never freed, or freed twice, shows here.
 */
function auditPool(mm: Mm, problems: string[]): { pages_used: number; objects: number; audit: string } {
  let objects = 0;
  let bytes = 0;
  for (let p = 0; p < mm.pages; p++) {
    if ((mm.pt.load(p) & STATE_MASK) !== PageState.SWAPPED) continue;
    const word = mm.slots.length[p];
    if (onDisk(word)) continue;
    objects++;
    bytes += slotBytes(word);
  }
  const compr = mm.vm.get(mm.ev.compr_data_size);
  if (compr !== bytes) problems.push(`compr_data_size = ${compr}, but the pages stored in the pool hold ${bytes} bytes`);
  let audit = 'ok';
  let live = mm.pool.objectsLive;
  try {
    live = mm.pool.audit().objects;
  } catch (e) {
    audit = message(e);
    problems.push(audit);
  }
  if (live !== objects) problems.push(`the pool holds ${live} objects, but ${objects} pages are stored in it`);
  return { pages_used: mm.pool.pagesUsed, objects: live, audit };
}

/**
 * Load what the applications will load, once, on this thread first: a bad workload module
 * or content file is a config error (exit 2 in the CLI), not a worker crash.
 */
async function preflight(c: Config): Promise<void> {
  if (c.workload.kind === 'module') {
    try {
      await loadWorkload(c);
    } catch (e) {
      throw new ConfigError('workload.module', c.workload.module, message(e).replace(/^workload\.module: /, ''));
    }
  }
  if (c.content.kind === 'file') {
    try {
      createContentSource(c.content, c.pageSize, c.seed);
    } catch (e) {
      throw new ConfigError('content.path', c.content.path, message(e));
    }
  }
}

/** The sum of the rings' sizes: pages kswapd published that no worker has popped yet. */
function ringDepth(rings: readonly Ring[]): number {
  let n = 0;
  for (const r of rings) n += r.size();
  return n;
}

function buildResult(
  c: Config,
  env: ReturnType<typeof environment>,
  mm: Mm,
  kswapd: Kswapd,
  samples: Sample[],
  apps: AppStats[],
  elapsedMs: number,
  aborted: boolean,
  pipeline: PipelineReport | undefined,
  gcStats: GcStats | undefined,
): RunResult {
  const counters = mm.vm.snapshot();
  const ps = c.pageSize;
  const peak = samples.reduce((a, b) => (b.orig > a.orig ? b : a), samples[0]);
  const census = mm.pt.census();
  const stored = census[PageState.SWAPPED] + census[PageState.SAME_FILLED];
  // zswap: written-back pages are still swapped out, but in the backing file, not the pool.
  const inFile = c.store.mode === 'zswap' ? pagesOnDisk(mm) : 0;
  const storedByCounters = counters.pswpout - counters.notify_free;
  const problems: string[] = [];
  if (stored !== storedByCounters) problems.push(`pswpout − notify_free = ${storedByCounters}, but ${stored} pages are stored`);
  const inPool = stored - inFile;
  if (counters.orig_data_size !== inPool * ps) problems.push(`orig_data_size = ${counters.orig_data_size}, but ${inPool} pages in the pool × ${ps} = ${inPool * ps}`);
  // A gauge is published before its page (CounterSet's gauges): no sample may see one below 0.
  for (const [k, name] of [['orig', 'orig_data_size'], ['compr', 'compr_data_size'], ['same', 'same_pages'], ['huge', 'huge_pages']] as const) {
    const low = samples.find((s) => s[k] < 0);
    if (low) problems.push(`${name} was ${low[k]} at ${Math.round(low.t)} ms: a free was counted before its store`);
  }
  if (counters.gc_bytes_pending !== 0) problems.push(`gc_bytes_pending = ${counters.gc_bytes_pending} after the GC worker drained its queue`);
  if (mm.pool.pagesUsed * ps < counters.compr_data_size) problems.push(`mem_used_total ${mm.pool.pagesUsed * ps} < compr_data_size ${counters.compr_data_size}`);
  const held = census[PageState.RESIDENT] + census[PageState.LOCKED] + census[PageState.ISOLATED];
  if (held !== mm.zone.nrResident) problems.push(`nr_resident = ${mm.zone.nrResident}, but ${held} pages are in RAM`);
  if (census[PageState.LOCKED] + census[PageState.ISOLATED] !== 0) problems.push(`${census[PageState.LOCKED] + census[PageState.ISOLATED]} pages still held at the end`);
  const pool = auditPool(mm, problems);
  const verified = apps.reduce((s, a) => s + a.verified, 0);
  const mismatches = apps.reduce((s, a) => s + a.mismatches, 0);
  if (mismatches > 0) problems.push(`${mismatches} reads did not match what was written`);
  // Allocations never fail here; when reclaim cannot make room (the pool is full) free
  // memory goes negative. A little is the watermarks' raciness; more is a run a kernel would
  // have ended with the OOM killer, and its rates mean nothing.
  const minFree = samples.reduce((m, s) => Math.min(m, s.free), Infinity);
  const overcommit = Math.max(32, c.wmark.min);
  if (minFree < -overcommit) {
    problems.push(
      `RAM budget overcommitted: free memory fell to ${minFree} pages (reject_alloc_fail ${counters.reject_alloc_fail}); a kernel would OOM here — give more ram or more compressible content`,
    );
  }
  const secs = elapsedMs / 1000;
  const compressedOrig = peak.orig - peak.same * ps;
  return {
    schema: RESULT_SCHEMA,
    kind: 'run',
    ended: aborted ? 'aborted' : 'completed',
    pipeline: pipeline ?? inlineReport(c),
    environment: env,
    config: c,
    elapsedMs,
    counters,
    mm_stat: {
      orig_data_size: peak.orig,
      compr_data_size: peak.compr,
      mem_used_total: peak.poolPages * ps,
      mem_limit: c.store.memLimit > 0 ? mm.shared.poolMaxPages * ps : 0,
      mem_used_max: mm.pool.maxPagesUsed * ps,
      same_pages: peak.same,
      pages_compacted: counters.pages_compacted,
      huge_pages: peak.huge,
      at_ms: peak.t,
    },
    rates: {
      pgsteal_anon_per_s: counters.pgsteal_anon / secs,
      pgscan_per_s: (counters.pgscan_kswapd + counters.pgscan_direct) / secs,
      pswpout_per_s: counters.pswpout / secs,
      pswpin_per_s: counters.pswpin / secs,
      allocstall_per_s: counters.allocstall / secs,
    },
    compression_ratio: peak.compr > 0 ? compressedOrig / peak.compr : 0,
    kswapd: { busy_ms: kswapd.busyMs, pageoutrun: counters.pageoutrun },
    gc: gcReport(c.gc.mode, c.gc.mode === 'async' ? c.gc.capBytes : 0, counters, gcStats, samples.reduce((m, s) => Math.max(m, s.gcPending), 0)),
    latency: mm.lat.snapshot(),
    timeseries: {
      t_ms: samples.map((s) => Math.round(s.t)),
      free: samples.map((s) => s.free),
      resident: samples.map((s) => s.resident),
      pool_pages: samples.map((s) => s.poolPages),
      pgsteal_anon: samples.map((s) => s.pgsteal),
      pswpin: samples.map((s) => s.pswpin),
      orig_data_size: samples.map((s) => s.orig),
      compr_data_size: samples.map((s) => s.compr),
      gc_bytes_pending: samples.map((s) => s.gcPending),
      ring_depth: samples.map((s) => s.ringDepth),
      wmark: { min: c.wmark.min, low: c.wmark.low, high: c.wmark.high, managed: c.ramPages },
    },
    apps,
    checks: {
      verified,
      mismatches,
      stored_pages: stored,
      stored_by_counters: storedByCounters,
      min_free: minFree,
      pool,
      counters_add_up: problems.length === 0,
      problems,
    },
  };
}
