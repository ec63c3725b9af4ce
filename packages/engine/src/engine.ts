/**
 * The public API: createEngine(config) → engine.run(workload?, { onProgress, signal }) →
 * RunResult; engine.close() releases the worker threads.
 *
 * A run: the main thread allocates the shared memory, starts kswapd (an async loop on this
 * thread), starts one application worker per app through piscina and controls them through
 * comlink (ready, start, live stats, stop); it samples the counters for the time series until
 * every application has finished, then stops kswapd and checks that the counters add up.
 */
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { PageState } from '@zreclaim/shm';
import type { AppControl, AppTask } from './app.js';
import { createCodec } from './codec.js';
import { configHash, resolveConfig, type Config, type ConfigInput } from './config.js';
import { releaseControl, wrapControl, type Remote } from './control.js';
import { environment } from './env.js';
import { Kswapd } from './kswapd.js';
import { createSharedMm, Mm } from './mm.js';
import type { AppStats } from './page-api.js';
import { Reclaimer } from './reclaim.js';
import { RESULT_SCHEMA, type RunResult } from './result.js';
import { ZramStore } from './store.js';

export interface Progress {
  elapsedMs: number;
  durationMs: number;
  free: number;
  resident: number;
  poolPages: number;
  pgsteal_anon: number;
  pswpin: number;
  allocstall: number;
  /** Live statistics from each application (through the control plane). */
  apps: AppStats[];
}

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** How often onProgress is called (ms). */
  progressIntervalMs?: number;
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
}

/** Compiled application worker; the same relative path from src/ (vitest) and dist/. */
const APP_WORKER = fileURLToPath(new URL('../../../workers/dist/app-worker.js', import.meta.url));

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
}

export function createEngine(input: ConfigInput = {}): Engine {
  return new Engine(input);
}

export class Engine {
  readonly config: Config;
  private pool: Piscina | undefined;
  private closed = false;
  private running = false;

  constructor(private readonly input: ConfigInput) {
    this.config = resolveConfig(input);
  }

  /** Run a workload (default: the config's) to the end and return its result. */
  async run(workload?: ConfigInput['workload'], opts: RunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new EngineError('engine is closed');
    if (this.running) throw new EngineError('a run is already in progress on this engine');
    const c = workload === undefined ? this.config : resolveConfig({ ...this.input, workload });
    this.running = true;
    try {
      return await this.runOnce(c, opts);
    } finally {
      this.running = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
  }

  private workers(threads: number): Piscina {
    if (this.pool && this.pool.options.maxThreads === threads) return this.pool;
    void this.pool?.destroy();
    this.pool = new Piscina({
      filename: APP_WORKER,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });
    return this.pool;
  }

  private async runOnce(c: Config, opts: RunOptions): Promise<RunResult> {
    const env = environment(configHash(c));
    const shared = createSharedMm(c);
    const mm = new Mm(shared);
    const store = new ZramStore(mm, createCodec(c.codec, c.pageSize), { hugeThreshold: c.store.hugeThreshold, poison: c.poison });
    const kswapd = new Kswapd(mm, new Reclaimer(mm, store), c.kswapd.slice);
    const pool = this.workers(c.apps);

    // One task and one control port per application; shares split the arena evenly.
    const remotes: Remote<AppControl & { ready(): boolean; start(): void }>[] = [];
    const tasks: Promise<AppStats>[] = [];
    for (let i = 0; i < c.apps; i++) {
      const base = Math.floor((c.pages * i) / c.apps);
      const next = Math.floor((c.pages * (i + 1)) / c.apps);
      const { port1, port2 } = new MessageChannel();
      const task: AppTask & { port: typeof port2 } = { appId: i + 1, apps: c.apps, base, count: next - base, config: c, shared, port: port2 };
      tasks.push(pool.run(task, { transferList: [port2] }) as Promise<AppStats>);
      remotes.push(wrapControl(port1));
    }
    const failed = Promise.all(tasks).then(
      () => undefined,
      (e: unknown) => e,
    );

    const samples: Sample[] = [];
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
      });
    };

    const onAbort = () => mm.zone.stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // A run never hangs: past its duration plus a generous grace it is stopped and fails.
    let timedOut = false;
    const graceMs = c.duration * 1000 + 120_000;
    const watchdog = setTimeout(() => {
      timedOut = true;
      mm.zone.stop();
    }, graceMs);

    let t0 = performance.now();
    let sampler: NodeJS.Timeout | undefined;
    let progress: NodeJS.Timeout | undefined;
    try {
      // Every application attached and loaded its workload: start them together.
      const ready = Promise.all(remotes.map((r) => r.ready()));
      const err = await Promise.race([ready.then(() => undefined), failed]);
      if (err !== undefined) throw err;
      if (c.kswapd.enabled) kswapd.start();
      t0 = performance.now();
      sample();
      sampler = setInterval(sample, SAMPLE_MS);
      await Promise.all(remotes.map((r) => r.start()));
      if (opts.onProgress) {
        const onProgress = opts.onProgress;
        let inFlight = false;
        progress = setInterval(() => {
          if (inFlight) return;
          inFlight = true;
          Promise.all(remotes.map((r) => r.stats()))
            .then((apps) => {
              const last = samples[samples.length - 1];
              onProgress({
                elapsedMs: performance.now() - t0,
                durationMs: c.duration * 1000,
                free: last.free,
                resident: last.resident,
                poolPages: last.poolPages,
                pgsteal_anon: last.pgsteal,
                pswpin: last.pswpin,
                allocstall: mm.vm.get(mm.ev.allocstall),
                apps,
              });
            })
            .catch(() => undefined)
            .finally(() => {
              inFlight = false;
            });
        }, opts.progressIntervalMs ?? 250);
      }
      const appErr = await failed;
      if (appErr !== undefined) throw appErr;
    } catch (e) {
      mm.zone.stop();
      await Promise.allSettled(tasks);
      throw new EngineError(`application worker failed: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      clearTimeout(watchdog);
      clearInterval(sampler);
      clearInterval(progress);
      opts.signal?.removeEventListener('abort', onAbort);
      mm.zone.stop();
      await kswapd.stopped();
      remotes.forEach((r) => releaseControl(r));
    }
    if (timedOut) throw new EngineError(`run did not finish within ${Math.round(graceMs / 1000)} s; stopped`);
    const apps = await Promise.all(tasks);
    const elapsedMs = performance.now() - t0;
    sample();
    return buildResult(c, env, mm, kswapd, samples, apps, elapsedMs);
  }
}

function buildResult(
  c: Config,
  env: ReturnType<typeof environment>,
  mm: Mm,
  kswapd: Kswapd,
  samples: Sample[],
  apps: AppStats[],
  elapsedMs: number,
): RunResult {
  const counters = mm.vm.snapshot();
  const ps = c.pageSize;
  const peak = samples.reduce((a, b) => (b.orig > a.orig ? b : a), samples[0]);
  const census = mm.pt.census();
  const stored = census[PageState.SWAPPED] + census[PageState.SAME_FILLED];
  const storedByCounters = counters.pswpout - counters.pswpin - counters.notify_free;
  const problems: string[] = [];
  if (stored !== storedByCounters) problems.push(`pswpout − pswpin − notify_free = ${storedByCounters}, but ${stored} pages are stored`);
  if (counters.orig_data_size !== stored * ps) problems.push(`orig_data_size = ${counters.orig_data_size}, but ${stored} pages × ${ps} = ${stored * ps}`);
  if (mm.pool.pagesUsed * ps < counters.compr_data_size) problems.push(`mem_used_total ${mm.pool.pagesUsed * ps} < compr_data_size ${counters.compr_data_size}`);
  const held = census[PageState.RESIDENT] + census[PageState.LOCKED] + census[PageState.ISOLATED];
  if (held !== mm.zone.nrResident) problems.push(`nr_resident = ${mm.zone.nrResident}, but ${held} pages are in RAM`);
  if (census[PageState.LOCKED] + census[PageState.ISOLATED] !== 0) problems.push(`${census[PageState.LOCKED] + census[PageState.ISOLATED]} pages still held at the end`);
  const verified = apps.reduce((s, a) => s + a.verified, 0);
  const mismatches = apps.reduce((s, a) => s + a.mismatches, 0);
  if (mismatches > 0) problems.push(`${mismatches} reads did not match what was written`);
  const secs = elapsedMs / 1000;
  const compressedOrig = peak.orig - peak.same * ps;
  return {
    schema: RESULT_SCHEMA,
    kind: 'run',
    environment: env,
    config: c,
    elapsedMs,
    counters,
    mm_stat: {
      orig_data_size: peak.orig,
      compr_data_size: peak.compr,
      mem_used_total: peak.poolPages * ps,
      mem_limit: c.store.memLimit * ps,
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
      wmark: { min: c.wmark.min, low: c.wmark.low, high: c.wmark.high, managed: c.ramPages },
    },
    apps,
    checks: {
      verified,
      mismatches,
      stored_pages: stored,
      stored_by_counters: storedByCounters,
      counters_add_up: problems.length === 0,
      problems,
    },
  };
}
