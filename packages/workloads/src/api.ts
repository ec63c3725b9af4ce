/**
 * What an application can do to its memory. The engine implements it inside each
 * application worker thread; the built-in usemem workload and users' own workload modules
 * are written against it alone.
 *
 * Pages are addressed 0 .. pages−1 within the application's own share of the arena. Every
 * call is synchronous and may stall: `map` and a fault may reclaim directly when free memory
 * is under the min watermark (allocstall), a touch of a page that reclaim holds waits for it
 * (writeback_wait), a touch of a swapped page faults it back in (pswpin). The engine records
 * those latencies; the workload does not time anything itself.
 */
export interface PageApi {
  readonly appId: number;
  /** Pages this application owns. */
  readonly pages: number;
  readonly pageSize: number;
  /** Map a page (zero-filled, like a fresh anonymous page). Throws if already mapped. */
  map(i: number): void;
  /** Give the page new content: `data` (pageSize bytes) or the run's content source. */
  write(i: number, data?: Uint8Array): void;
  /** Touch the page for reading; with verification on, its checksum is checked. */
  read(i: number): void;
  /** Unmap a page: its memory or its compressed slot is freed. Throws if it is not mapped. */
  unmap(i: number): void;
  /**
   * Unmap every mapped page of [start, start + count) (munmap of a range; pages not mapped
   * are skipped) and return how many were unmapped. Resident pages are freed at once,
   * swapped pages free their compressed slots (queued to the GC worker with gc: async);
   * pages reclaim holds are waited for. The engine records one `unmap` latency for the call.
   */
  unmapRange(start: number, count: number): number;
  /**
   * The application is killed (the low-memory killer): every page it has mapped is unmapped
   * at once, as unmapRange over all its pages. One `unmap` latency for the call.
   */
  kill(): number;
  /**
   * madvise(MADV_PAGEOUT) on [start, start + count): reclaim the range's resident pages
   * now, in this thread (counted as direct reclaim: pgscan_direct, pgsteal_direct), so a
   * workload can fill swap with pages it chooses. Pages held by someone else are skipped.
   * Returns the pages that left RAM (stops early if the compressed pool is full).
   */
  pageout(start: number, count: number): number;
  /** What the application can read from /proc/meminfo and zram's mm_stat, now. */
  meminfo(): MemInfo;
  isMapped(i: number): boolean;
  /** This application's seeded PRNG, uniform in [0, 1). */
  random(): number;
  /** Milliseconds since the access phase began. */
  readonly elapsedMs: number;
  /** True when the run's duration is over or the run was stopped. */
  shouldStop(): boolean;
  /**
   * Call often in loops: yields to the thread's event loop every few milliseconds so control
   * calls (live stats, stop) are answered. Resolves false when the workload should stop.
   */
  checkpoint(): Promise<boolean>;
}

/** A reading of the shared memory model (pages of the engine's page size). */
export interface MemInfo {
  /** Free pages of the RAM budget: budget − resident pages − the compressed pool's footprint. */
  freePages: number;
  /** Pages resident in RAM, every application's. */
  residentPages: number;
  /** The compressed pool's footprint (mem_used_total / page size). */
  poolPages: number;
  /** Compressed bytes whose free the GC worker has not done yet (gc_bytes_pending). */
  gcPendingBytes: number;
}

/** What a workload learns about its run, besides its PageApi. */
export interface WorkloadContext<P extends object = Record<string, unknown>> {
  /** This application's id, 1 .. apps. */
  appId: number;
  /** Applications in the run (each runs the workload on its own share of the arena). */
  apps: number;
  /** The run's seed (api.random() is already seeded per application from it). */
  seed: number;
  /** The access phase's length (config.duration), in milliseconds. */
  durationMs: number;
  /**
   * The config's `workload.params`, as given (structured-cloned to each application, not
   * validated): a workload checks what it reads from them.
   */
  params: P;
}

/**
 * A workload: the default export of a workload module (config `workload: { kind: 'module',
 * module, params }`). It runs once in each application worker thread; the run's `duration`
 * is over when `api.shouldStop()` is true or `await api.checkpoint()` resolves false.
 */
export type Workload<P extends object = Record<string, unknown>> = (api: PageApi, ctx: WorkloadContext<P>) => Promise<void> | void;

/**
 * Types a workload module's default export and returns it unchanged:
 *
 * ```js
 * // my-workload.mjs
 * import { defineWorkload } from '@zreclaim/engine';
 * export default defineWorkload(async (api, ctx) => {
 *   for (let i = 0; i < api.pages; i++) { api.map(i); api.write(i); }
 *   while (await api.checkpoint()) api.read(Math.floor(api.random() * api.pages));
 * });
 * ```
 *
 * `api` and `ctx` get their types from it, in a `.ts` module or in an editor on a `.mjs`.
 * `P` types `ctx.params` (they are not checked at run time): `defineWorkload<{ rounds?: number }>(…)`.
 */
export function defineWorkload<P extends object = Record<string, unknown>>(workload: Workload<P>): Workload<P> {
  return workload;
}
