/**
 * Per-page Buffer views, made on first use and kept. The native bindings take whole
 * Buffers (node-lz4's encodeBlock reads all of its input, decodeBlock fills all of its
 * output; lz4-napi and @mongodb-js/zstd take one Buffer), so a page is handed over as a
 * view of exactly that page; making one per call would allocate per page. A view costs
 * ~108 B; past MAX_VIEWS pages of one buffer (1 GiB of 4 KiB pages) `get` declines and the
 * caller falls back (copy through scratch memory, or a fresh view).
 *
 * Views of the two most recently used buffers are kept: a thread's codec sees the arena
 * (compress input, decompress output) and, in tests and benchmarks, one more.
 */
export const MAX_VIEWS = 1 << 18;

export class PageViews {
  private a: Buffer | undefined;
  private va: Buffer[] = [];
  private b: Buffer | undefined;
  private vb: Buffer[] = [];

  constructor(readonly pageSize: number) {}

  /** The view of `buf[off, off + len)` if that is a whole, aligned page below the cap; else undefined. */
  get(buf: Buffer, off: number, len: number): Buffer | undefined {
    if (len !== this.pageSize) return undefined;
    const i = off / len;
    if (!Number.isInteger(i) || i >= MAX_VIEWS) return undefined;
    return (this.of(buf)[i] ??= buf.subarray(off, off + len));
  }

  /**
   * Make the views of `buf`'s first `pages` pages now (up to the cap) instead of on first
   * use: a thread attaching to an arena does it once, so no reclaim or fault pays for it.
   */
  prepare(buf: Buffer, pages: number): void {
    const v = this.of(buf);
    const ps = this.pageSize;
    const n = Math.min(pages, MAX_VIEWS, Math.floor(buf.length / ps));
    for (let i = 0; i < n; i++) v[i] ??= buf.subarray(i * ps, (i + 1) * ps);
  }

  /** Whether `get` would decline only because of the cap (a whole, aligned page past MAX_VIEWS). */
  pastCap(off: number, len: number): boolean {
    return len === this.pageSize && off % len === 0 && off / len >= MAX_VIEWS;
  }

  private of(buf: Buffer): Buffer[] {
    if (buf === this.a) return this.va;
    if (buf === this.b) {
      this.b = this.a;
      this.a = buf;
      const v = this.vb;
      this.vb = this.va;
      this.va = v;
      return v;
    }
    this.b = this.a;
    this.vb = this.va;
    this.a = buf;
    this.va = [];
    return this.va;
  }
}
