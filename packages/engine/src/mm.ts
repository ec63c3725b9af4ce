/**
 * The memory model's shared state and one thread's attachment to it.
 *
 * `createSharedMm` allocates every SharedArrayBuffer of a run (the main thread does it once
 * per run); `Mm` is what each thread builds from them: views on the same memory, made once.
 * Each layout has one owner module in @zreclaim/shm; this file only wires them together.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  /**
   * store.mode zswap — the LRU of pool entries and the backing file written-back pages go
   * to: `fd`, a descriptor of the process (worker threads share it), of a file that has no
   * name any more; `file` says where it was made, for messages.
   */
  zswap?: { lru: SharedArrayBuffer; fd: number; file: string };
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

/**
 * The zswap tier's LRU and its backing file. The file has no name while the run uses it,
 * so nothing is left behind however the process ends (SIGKILL included); its descriptor
 * is closed by disposeSharedMm.
 *
 * Default: an unnamed file in the OS temp directory (O_TMPFILE), or, where the kernel or
 * file system lacks it, a file with an unpredictable name, created exclusively and unlinked
 * at once (never a name made from the process id, which a killed run's file could hold).
 *
 * store.writebackFile names the path, which chooses the file system the swap goes to: the
 * file is created there exclusively (zreclaim never overwrites a file it did not make, and
 * a path that exists is refused) and unlinked at once as well. It is scratch, meaningless
 * after the run, so keeping it would only leave a file behind, which a user naming a path
 * did not ask for either.
 */
function createBacking(c: Config): NonNullable<SharedMm['zswap']> {
  const named = c.store.writebackFile;
  const dir = named !== undefined ? dirname(named) : tmpdir();
  try {
    return { lru: new Lru(c.pages).sab, ...openBackingFile(named, dir) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' && named !== undefined
        ? 'the file exists; zreclaim creates its backing file (and removes its name at once), and will not overwrite one: remove it or name a new path'
        : `cannot create the backing file in ${dir} (${code ?? (e as Error).message}): ${named !== undefined ? 'name a path in a writable directory' : 'set TMPDIR to a writable directory or name a file with --writeback-file'}`;
    throw new ConfigError(named !== undefined ? 'store.writebackFile' : 'store.mode', named ?? c.store.mode, why);
  }
}

/**
 * The backing file's descriptor, its name already gone (see createBacking): at `named`, or
 * in `dir` unnamed (O_TMPFILE unless `opts.tmpfile` is false) or under a random name.
 */
export function openBackingFile(named: string | undefined, dir: string, opts: { tmpfile?: boolean } = {}): { fd: number; file: string } {
  if (named !== undefined) return { fd: createExclusive(named), file: named };
  const fd = opts.tmpfile === false ? undefined : openUnnamed(dir);
  return fd !== undefined ? { fd, file: `an unnamed file in ${dir}` } : createUnique(dir);
}

/** Linux's O_TMPFILE (generic value; Node does not export it), for the architectures Node ships on. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/**
 * An unnamed read-write file in `dir` (O_TMPFILE | O_EXCL: it can never get a name), or
 * undefined where that is not available (not Linux, or a file system without it).
 */
function openUnnamed(dir: string): number | undefined {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return undefined;
  try {
    return openSync(dir, O_TMPFILE | constants.O_RDWR | constants.O_EXCL, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No O_TMPFILE in this kernel (it then opens the directory: EISDIR) or file system.
    if (code === 'EISDIR' || code === 'EOPNOTSUPP' || code === 'EINVAL') return undefined;
    throw e;
  }
}

/** Create `path` exclusively (read-write, owner only) and remove its name at once. */
function createExclusive(path: string): number {
  const fd = openSync(path, 'wx+', 0o600);
  try {
    unlinkSync(path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** A file of an unpredictable name in `dir`, created exclusively and unlinked at once. */
function createUnique(dir: string): { fd: number; file: string } {
  for (let attempt = 0; ; attempt++) {
    const file = join(dir, `zreclaim-zswap-${randomBytes(8).toString('hex')}.swap`);
    try {
      return { fd: createExclusive(file), file };
    } catch (e) {
      // 2^64 names: a second clash means something else is wrong; say EEXIST then.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 1) throw e;
    }
  }
}

/**
 * Release what a run's shared state holds outside memory: the zswap backing file's
 * descriptor (its file has no name, so closing it frees its space). Once only, and only
 * after every thread that used it has stopped: a descriptor number is reused by the next
 * open.
 */
export function disposeSharedMm(shared: SharedMm): void {
  const z = shared.zswap;
  if (z && z.fd >= 0) {
    closeSync(z.fd);
    z.fd = -1;
  }
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
