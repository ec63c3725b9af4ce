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
  /** Unmap a page: its memory or its compressed slot is freed. */
  unmap(i: number): void;
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

export interface WorkloadContext {
  appId: number;
  apps: number;
  seed: number;
  durationMs: number;
  params: Record<string, unknown>;
}

/** A workload module's default export. */
export type Workload = (api: PageApi, ctx: WorkloadContext) => Promise<void> | void;
