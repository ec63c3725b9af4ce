/**
 * Shared 64-bit event counters, one slot per name.
 *
 * Layout: a BigInt64Array over one SharedArrayBuffer; slot i holds counter names[i].
 * Writers: any thread, with Atomics.add (about 10 ns here, cheap enough per page).
 * Readers: Atomics.load; a reader may be late by the adds in flight on other threads,
 * never torn. The names are declared once by the owner (the engine's vmstat list) and
 * every report reads them from there.
 */
export class CounterSet<N extends string> {
  readonly sab: SharedArrayBuffer;
  private readonly slots: BigInt64Array;
  private readonly index: Map<N, number>;

  constructor(readonly names: readonly N[], sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(names.length * 8);
    if (this.sab.byteLength < names.length * 8) {
      throw new RangeError(`CounterSet: buffer holds ${this.sab.byteLength / 8} slots, ${names.length} names given`);
    }
    this.slots = new BigInt64Array(this.sab, 0, names.length);
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  /** Slot id of a name, resolved once so the hot path indexes by number. */
  id(name: N): number {
    const i = this.index.get(name);
    if (i === undefined) throw new RangeError(`unknown counter ${name}`);
    return i;
  }

  inc(id: number): void {
    Atomics.add(this.slots, id, 1n);
  }

  add(id: number, n: number): void {
    if (n !== 0) Atomics.add(this.slots, id, BigInt(n));
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
