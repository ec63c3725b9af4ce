/**
 * Shared 64-bit event counters, one slot per name.
 *
 * Layout: a BigInt64Array over one SharedArrayBuffer; slot i holds counter names[i].
 * Writers: any thread, with Atomics.add (about 10 ns here uncontended; when several threads
 * add to the same lines per page they bounce between cores, see `diffs`). Readers:
 * Atomics.load; a reader may be late by the adds in flight on other threads, never torn.
 * The names are declared once by the owner (the engine's vmstat list) and every report
 * reads them from there.
 *
 * Per-thread diffs (the kernel's per-cpu vm_stat_diff): a thread that counts on every page
 * alongside others may attach a diff block, a Float64Array of one slot per name over a
 * SharedArrayBuffer of its own (`CounterSet.diffBytes`). Its inc/add then write there with
 * plain stores, and fold() adds the block into the shared slots and zeroes it, which the
 * thread does every few milliseconds and before it sleeps or exits (refresh_cpu_vm_stats).
 * Readers are then late by one fold interval of that thread. The block is in shared memory
 * so that when its thread dies, the thread that recovers it folds what it had not published
 * (foldFrom, as the kernel folds a dead CPU's diffs): nothing counted is lost. The one
 * writer is the owner while it lives, and the recovering thread after. A thread stopped
 * between adding a slot into the shared counters and zeroing it would have that slot
 * folded twice; the owner folds one slot at a time so that window is one slot wide.
 *
 * Gauges (values that go down as well as up: zram's mm_stat, the kernel's atomic64
 * zram->stats) never go through a diff block: `gauges` names them, and their inc/add are
 * Atomics.add on the shared slot at once, whatever thread counts. A gauge's decrement is
 * often made by another thread than its increment (a page stored by a compression worker,
 * freed by the application that faults it in): were the increment left in the storing
 * thread's block until its next fold, a reader would see the decrement first and the gauge
 * below zero. Only event counters, which only go up, may lag (the kernel's per-cpu vmstat).
 */
export class CounterSet<N extends string> {
  readonly sab: SharedArrayBuffer;
  private readonly slots: BigInt64Array;
  private readonly index: Map<N, number>;

  /** This thread's diff block, when it counts through one (see the header). */
  private readonly diff: Float64Array | undefined;
  /** 1 for a gauge's slot: published at once, never through the diff block. */
  private readonly eager: Uint8Array;

  /** Bytes of a diff block for `n` names. */
  static diffBytes(n: number): number {
    return n * 8;
  }

  /**
   * @param diffs this thread's diff block (see the header); without one every add is published at once
   * @param gauges names whose adds are always published at once, diff block or not
   */
  constructor(readonly names: readonly N[], sab?: SharedArrayBuffer, diffs?: SharedArrayBuffer, gauges: readonly N[] = []) {
    this.sab = sab ?? new SharedArrayBuffer(names.length * 8);
    if (this.sab.byteLength < names.length * 8) {
      throw new RangeError(`CounterSet: buffer holds ${this.sab.byteLength / 8} slots, ${names.length} names given`);
    }
    this.slots = new BigInt64Array(this.sab, 0, names.length);
    this.index = new Map(names.map((n, i) => [n, i]));
    this.eager = new Uint8Array(names.length);
    for (const g of gauges) this.eager[this.id(g)] = 1;
    if (diffs !== undefined) {
      if (diffs.byteLength < CounterSet.diffBytes(names.length)) {
        throw new RangeError(`CounterSet: diff block holds ${diffs.byteLength / 8} slots, ${names.length} names given`);
      }
      this.diff = new Float64Array(diffs, 0, names.length);
    }
  }

  /** Slot id of a name, resolved once so the hot path indexes by number. */
  id(name: N): number {
    const i = this.index.get(name);
    if (i === undefined) throw new RangeError(`unknown counter ${name}`);
    return i;
  }

  inc(id: number): void {
    if (this.diff !== undefined && this.eager[id] === 0) this.diff[id]++;
    else Atomics.add(this.slots, id, 1n);
  }

  add(id: number, n: number): void {
    if (this.diff !== undefined && this.eager[id] === 0) this.diff[id] += n;
    else if (n !== 0) Atomics.add(this.slots, id, BigInt(n));
  }

  /** Publish this thread's diff block into the shared slots (no-op without one). */
  fold(): void {
    if (this.diff !== undefined) this.foldBlock(this.diff);
  }

  /** Fold a dead thread's diff block (its SharedArrayBuffer) into the shared slots. */
  foldFrom(diffs: SharedArrayBuffer): void {
    this.foldBlock(new Float64Array(diffs, 0, this.names.length));
  }

  private foldBlock(d: Float64Array): void {
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v === 0) continue;
      Atomics.add(this.slots, i, BigInt(v));
      d[i] = 0;
    }
  }

  get(id: number): number {
    return Number(Atomics.load(this.slots, id));
  }

  read(name: N): number {
    return this.get(this.id(name));
  }

  /** A plain object, name → value, in declaration order. */
  snapshot(): Record<N, number> {
    const out = {} as Record<N, number>;
    this.names.forEach((n, i) => {
      out[n] = Number(Atomics.load(this.slots, i));
    });
    return out;
  }
}
