/**
 * The compression workers of a kcompressd / padata / batch pipeline, supervised: one ring,
 * one in-flight record and one counter diff block each, one long piscina task each. A
 * worker that dies has its unfolded counts and its in-flight batch recovered
 * (recoverInflight) and its task resubmitted on the same ring; piscina replaces the
 * thread. The engine owns the thread pool (kept warm across runs).
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { CounterSet, Inflight, Ring } from '@zreclaim/shm';
import { recoverInflight, type CompressorControl, type CompressorStats, type CompressorTask } from './compressor.js';
import type { Config } from './config.js';
import { releaseControl, wrapControl, type Remote } from './control.js';
import { EngineError, message } from './errors.js';
import type { Mm, SharedMm } from './mm.js';
import type { PipelineReport } from './result.js';
import { raceTimeout } from './timeout.js';
import { VMSTAT } from './vmstat.js';

/** Restarts of one crashed compression worker a run tolerates before it fails. */
const MAX_RESTARTS = 8;
/** How long workers get to stop after a failure before their threads are terminated. */
export const STOP_GRACE_MS = 5000;

/** The engine's compression thread pool, as the supervisor uses it. */
export interface CompressorPools {
  /** A pool of `threads` threads (the warm one if it has that many). */
  get(threads: number): Piscina;
  /** Whether `pool` is still the engine's (not terminated). */
  isCurrent(pool: Piscina): boolean;
  /** Terminate `pool` and forget it. */
  discard(pool: Piscina): Promise<void>;
}

export type Pipeline = ReturnType<typeof startPipeline>;

export function startPipeline(c: Config, shared: SharedMm, mm: Mm, pools: CompressorPools) {
  const n = c.pipe.workers;
  const rings = Array.from({ length: n }, () => new Ring(c.ringCapacity));
  const inflight = Array.from({ length: n }, () => new Inflight(c.pipe.batch));
  // Each worker's unpublished counter deltas, folded by recovery if it dies.
  const vmDiffs = Array.from({ length: n }, () => new SharedArrayBuffer(CounterSet.diffBytes(VMSTAT.length)));
  const stampsSab = new SharedArrayBuffer(c.pages * 8);
  const stamps = new Float64Array(stampsSab);
  const pool = pools.get(n);
  const stats: (CompressorStats | undefined)[] = new Array(n).fill(undefined);
  const remotes: Remote<CompressorControl>[] = [];
  const alive: boolean[] = [];
  const done: Promise<void>[] = [];
  let crashes = 0;
  let returned = 0;
  let kept = 0;
  let stopping = false;
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const launch = (i: number, generation: number): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    // Fault injection applies to a worker's first life only, or it would crash for ever.
    const config = generation === 0 ? c : { ...c, inject: { ...c.inject, compressorExitAfter: 0 } };
    const task: CompressorTask & { port: typeof port2 } = { workerId: i, config, shared, ring: rings[i].sab, inflight: inflight[i].sab, vmDiffs: vmDiffs[i], stamps: stampsSab, port: port2 };
    if (remotes[i]) releaseControl(remotes[i]);
    remotes[i] = wrapControl(port1);
    alive[i] = true;
    return (pool.run(task, { transferList: [port2] }) as Promise<CompressorStats>).then(
      (s) => {
        stats[i] = s;
        alive[i] = false;
      },
      (e: unknown) => {
        alive[i] = false;
        const r = recoverInflight(mm, inflight[i], vmDiffs[i]);
        crashes++;
        returned += r.returned;
        kept += r.kept;
        if (stopping && !pools.isCurrent(pool)) return; // terminated with its pool
        if (generation + 1 > MAX_RESTARTS) {
          fail(new EngineError(`compression worker ${i} died ${generation + 1} times; last: ${message(e)}`));
          return;
        }
        return launch(i, generation + 1);
      },
    );
  };
  for (let i = 0; i < n; i++) done.push(launch(i, 0));
  return {
    rings,
    inflight,
    stamps,
    failed,
    /** Close the rings, let the workers drain them, and wait (terminating them on failure). */
    finish: async (failing: boolean): Promise<unknown> => {
      if (stopping) return undefined;
      stopping = true;
      // kswapd has stopped: closing a ring means "empty it, then return".
      for (const r of rings) r.close();
      const all = Promise.all(done).then(() => true);
      const ok = await raceTimeout(Promise.race([all, failed.catch(() => false)]), failing ? STOP_GRACE_MS : 60_000, false);
      remotes.forEach((r) => releaseControl(r));
      if (!ok) {
        // Workers that did not drain are terminated with their pool.
        await pools.discard(pool);
        // A worker that did not drain leaves pages isolated: put them back.
        inflight.forEach((inf, i) => recoverInflight(mm, inf, vmDiffs[i]));
        return new EngineError('compression workers did not drain their rings');
      }
      return undefined;
    },
    /** Every worker attached (answers its control port). */
    ready: (): Promise<unknown> => Promise.race([Promise.all(remotes.map((r) => r.ready())), failed]),
    /** Live statistics of the running workers (through the control plane). */
    liveStats: (): Promise<CompressorStats[]> =>
      Promise.all(
        remotes.map((r, i) =>
          alive[i] ? raceTimeout(r.stats(), 1000, undefined) : Promise.resolve(stats[i]),
        ),
      ).then((all) => all.filter((x): x is CompressorStats => x !== undefined)),
    report: (): PipelineReport => ({
      name: c.pipe.name,
      workers: c.pipe.workers,
      batch: c.pipe.batch,
      shard: 'round-robin',
      ringCapacity: c.ringCapacity,
      codec: c.codec,
      crashes,
      pages_returned: returned,
      pages_kept: kept,
      compressors: stats.filter((s): s is CompressorStats => s !== undefined),
    }),
  };
}

export function inlineReport(c: Config): PipelineReport {
  return { name: 'inline', workers: 0, batch: 1, shard: 'none', ringCapacity: 0, codec: c.codec, crashes: 0, pages_returned: 0, pages_kept: 0, compressors: [] };
}
