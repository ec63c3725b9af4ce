/**
 * The memory model's shared state and one thread's attachment to it.
 *
 * `createSharedMm` allocates every SharedArrayBuffer of a run (the main thread does it once
 * per run); `Mm` is what each thread builds from them: views on the same memory, made once.
 * Each layout has one owner module in @zreclaim/shm; this file only wires them together.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterSet, GcQueue, type GcQueueBuffers, type Histogram, HistogramSet, Lru, PageArena, PageTable, SlotTable, Zone, ZsPool } from '@zreclaim/shm';
import { ConfigError, type Config } from './config.js';
import { LATENCIES, VMSTAT, VMSTAT_GAUGES, type LatencyName, type VmstatName } from './vmstat.js';

export interface SharedMm {
  pages: number;
  pageSize: number;
  poolMaxPages: number;
  arena: SharedArrayBuffer;
  pageTable: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  zone: SharedArrayBuffer;
  pool: { meta: SharedArrayBuffer; data: SharedArrayBuffer };
  vmstat: SharedArrayBuffer;
  latency: SharedArrayBuffer;
  /** gc: async — the slot-free queue the GC worker empties. */
  gc?: { sabs: GcQueueBuffers; capacity: number; capBytes: number };
  /** store.mode zswap — the LRU of pool entries and the backing file written-back pages go to. */
  zswap?: { lru: SharedArrayBuffer; file: string };
}

export function createSharedMm(c: Config): SharedMm {
  const arena = new PageArena(c.pages, c.pageSize);
  const pageTable = new PageTable(c.pages);
  const slots = new SlotTable(c.pages);
  const zone = new Zone({ managed: c.ramPages, ...c.wmark });
  // The pool can never need more than the RAM budget; mem_limit caps it further, and
  // zswap caps it at max_pool_percent of RAM.
  let poolMaxPages = c.store.memLimit > 0 ? Math.min(c.store.memLimit, c.ramPages) : c.ramPages;
  if (c.store.mode === 'zswap') poolMaxPages = Math.min(poolMaxPages, Math.max(1, Math.floor((c.ramPages * c.store.maxPoolPercent) / 100)));
  const pool = new ZsPool({ pageSize: c.pageSize, maxPages: poolMaxPages });
  // The pool's pages are RAM the model already owns, as zsmalloc takes them from the page
  // allocator. A fresh SharedArrayBuffer is committed on first touch, and those page faults
  // (0.7–1.9 µs per stored object measured here) would be charged to the first stores:
  // touch every pool page once, now. It costs at most the RAM budget, which the arena's
  // resident pages touch anyway.
  pool.data.fill(0);
  const vmstat = new CounterSet(VMSTAT);
  const latency = new HistogramSet(LATENCIES);
  // Pending frees are at most the pool's objects; a full queue makes unmap free synchronously.
  const gc = c.gc.mode === 'async' ? new GcQueue(2 * c.pages, c.gc.capBytes) : undefined;
  return {
    gc: gc && { sabs: gc.sabs, capacity: gc.capacity, capBytes: gc.capBytes },
    zswap: c.store.mode === 'zswap' ? createBacking(c) : undefined,
    pages: c.pages,
    pageSize: c.pageSize,
    poolMaxPages,
    arena: arena.sab,
    pageTable: pageTable.sab,
    slots: slots.sab,
    zone: zone.sab,
    pool: pool.sabs,
    vmstat: vmstat.sab,
    latency: latency.sab,
  };
}

let backingSeq = 0;

/**
 * The zswap tier's LRU and its backing file, created for this run and removed after it
 * (disposeSharedMm). A path the user names must not exist yet: zreclaim never overwrites
 * a file it did not make.
 */
function createBacking(c: Config): NonNullable<SharedMm['zswap']> {
  const named = c.store.writebackFile;
  const file = named ?? join(tmpdir(), `zreclaim-zswap-${process.pid}-${++backingSeq}.swap`);
  try {
    closeSync(openSync(file, 'wx'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST'
        ? 'the file exists; zreclaim creates its backing file and removes it after the run, and will not overwrite one: remove it or name a new path'
        : `cannot create the backing file (${code ?? (e as Error).message}): name a path in a writable directory`;
    throw new ConfigError(named !== undefined ? 'store.writebackFile' : 'store.mode', named ?? c.store.mode, why);
  }
  return { lru: new Lru(c.pages).sab, file };
}

/** Remove what a run's shared state left outside memory (the zswap backing file). */
export function disposeSharedMm(shared: SharedMm): void {
  if (shared.zswap) rmSync(shared.zswap.file, { force: true });
}

/** Counter ids resolved once, so the per-page path indexes by number. */
function ids(vm: CounterSet<VmstatName>): Record<VmstatName, number> {
  const out = {} as Record<VmstatName, number>;
  for (const n of VMSTAT) out[n] = vm.id(n);
  return out;
}

export class Mm {
  readonly arena: PageArena;
  /** The arena as a Buffer (codecs take Buffers); same memory, made once. */
  readonly arenaBuf: Buffer;
  readonly pt: PageTable;
  readonly slots: SlotTable;
  readonly zone: Zone;
  readonly pool: ZsPool;
  readonly vm: CounterSet<VmstatName>;
  readonly ev: Record<VmstatName, number>;
  readonly lat: HistogramSet<LatencyName>;
  /** The same histograms resolved once by name, for the per-page path. */
  readonly h: Record<LatencyName, Histogram>;
  /** gc: async — the slot-free queue. */
  readonly gc: GcQueue | undefined;
  /** store.mode zswap — the LRU of pool entries, oldest first. */
  readonly lru: Lru | undefined;

  /**
   * @param opts.vmDiffs a diff block (CounterSet.diffBytes of VMSTAT) this thread counts
   *   through instead of adding to the shared counters on every event (gauges excepted: see
   *   CounterSet and VMSTAT_GAUGES).
   *   Whoever passes one folds it (mm.vm.fold()) every few milliseconds and before it
   *   sleeps or exits.
   */
  constructor(readonly shared: SharedMm, opts: { vmDiffs?: SharedArrayBuffer } = {}) {
    this.arena = new PageArena(shared.pages, shared.pageSize, shared.arena);
    this.arenaBuf = Buffer.from(shared.arena);
    this.pt = new PageTable(shared.pages, shared.pageTable);
    this.slots = new SlotTable(shared.pages, shared.slots);
    this.zone = new Zone(undefined, shared.zone);
    this.pool = new ZsPool({ pageSize: shared.pageSize, maxPages: shared.poolMaxPages }, shared.pool);
    this.vm = new CounterSet(VMSTAT, shared.vmstat, opts.vmDiffs, VMSTAT_GAUGES);
    this.ev = ids(this.vm);
    this.lat = new HistogramSet(LATENCIES, shared.latency);
    this.h = {} as Record<LatencyName, Histogram>;
    for (const n of LATENCIES) this.h[n] = this.lat.get(n);
    this.gc = shared.gc && new GcQueue(shared.gc.capacity, shared.gc.capBytes, shared.gc.sabs);
    this.lru = shared.zswap && new Lru(shared.pages, shared.zswap.lru);
  }

  get pages(): number {
    return this.shared.pages;
  }
  get pageSize(): number {
    return this.shared.pageSize;
  }

  /** Free pages of the RAM budget: managed − resident − compressed pool footprint. */
  freePages(): number {
    return this.zone.managed - this.zone.nrResident - this.pool.pagesUsed;
  }
}
