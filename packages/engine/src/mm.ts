/**
 * The memory model's shared state and one thread's attachment to it.
 *
 * `createSharedMm` allocates every SharedArrayBuffer of a run (the main thread does it once
 * per run); `Mm` is what each thread builds from them: views on the same memory, made once.
 * Each layout has one owner module in @zreclaim/shm; this file only wires them together.
 */
import { CounterSet, type Histogram, HistogramSet, PageArena, PageTable, SlotTable, Zone, ZsPool } from '@zreclaim/shm';
import type { Config } from './config.js';
import { LATENCIES, VMSTAT, type LatencyName, type VmstatName } from './vmstat.js';

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
}

export function createSharedMm(c: Config): SharedMm {
  const arena = new PageArena(c.pages, c.pageSize);
  const pageTable = new PageTable(c.pages);
  const slots = new SlotTable(c.pages);
  const zone = new Zone({ managed: c.ramPages, ...c.wmark });
  // The pool can never need more than the RAM budget; mem_limit caps it further.
  const poolMaxPages = c.store.memLimit > 0 ? Math.min(c.store.memLimit, c.ramPages) : c.ramPages;
  const pool = new ZsPool({ pageSize: c.pageSize, maxPages: poolMaxPages });
  // The pool's pages are RAM the model already owns, as zsmalloc takes them from the page
  // allocator. A fresh SharedArrayBuffer is committed on first touch, and those page faults
  // (0.7–1.9 µs per stored object measured here) would be charged to the first stores:
  // touch every pool page once, now. It costs at most the RAM budget, which the arena's
  // resident pages touch anyway.
  pool.data.fill(0);
  const vmstat = new CounterSet(VMSTAT);
  const latency = new HistogramSet(LATENCIES);
  return {
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

  constructor(readonly shared: SharedMm) {
    this.arena = new PageArena(shared.pages, shared.pageSize, shared.arena);
    this.arenaBuf = Buffer.from(shared.arena);
    this.pt = new PageTable(shared.pages, shared.pageTable);
    this.slots = new SlotTable(shared.pages, shared.slots);
    this.zone = new Zone(undefined, shared.zone);
    this.pool = new ZsPool({ pageSize: shared.pageSize, maxPages: shared.poolMaxPages }, shared.pool);
    this.vm = new CounterSet(VMSTAT, shared.vmstat);
    this.ev = ids(this.vm);
    this.lat = new HistogramSet(LATENCIES, shared.latency);
    this.h = {} as Record<LatencyName, Histogram>;
    for (const n of LATENCIES) this.h[n] = this.lat.get(n);
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
