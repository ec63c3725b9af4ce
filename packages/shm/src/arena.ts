/**
 * The page arena: `pages × pageSize` bytes in one SharedArrayBuffer, the virtual memory of
 * every application. Page i starts at byte i × pageSize. Views are made once here so the
 * per-page path never allocates: callers index `bytes` by `offset(i)` and `words` by
 * `wordOffset(i)`.
 *
 * An arena may be as large as one typed array (4 GiB on Node 20), so byte offsets pass
 * 2^31: they are computed as products (doubles past 2^31), never with `<<` or `|0`, which
 * would wrap them negative. Word indices stay below 2^30.
 *
 * Writers: the page's owner while it holds the page locked (see page-table.ts), or the
 * thread that isolated or faults it. No other thread touches a page's bytes, so no reader
 * sees a page while it changes.
 */
export class PageArena {
  readonly sab: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  /** Same memory as 32-bit words (same-filled detection, fill, tags). */
  readonly words: Int32Array;
  /** Words (4 bytes) per page. */
  readonly pageWords: number;

  constructor(readonly pages: number, readonly pageSize: number, sab?: SharedArrayBuffer) {
    if (!Number.isInteger(pageSize) || pageSize < 64 || (pageSize & (pageSize - 1)) !== 0) {
      throw new RangeError(`pageSize must be a power of two ≥ 64, got ${pageSize}`);
    }
    if (!Number.isInteger(pages) || pages < 1) throw new RangeError(`pages must be ≥ 1, got ${pages}`);
    this.sab = sab ?? new SharedArrayBuffer(pages * pageSize);
    this.bytes = new Uint8Array(this.sab, 0, pages * pageSize);
    this.pageWords = pageSize / 4;
    this.words = new Int32Array(this.sab, 0, pages * this.pageWords);
  }

  /** Byte offset of the page in `bytes` (up to 4 GiB: not an Int32). */
  offset(page: number): number {
    return page * this.pageSize;
  }

  /** Index of the page's first word in `words`. */
  wordOffset(page: number): number {
    return page * this.pageWords;
  }

  /**
   * If every 8-byte word of the page is equal, returns true and leaves the fill in
   * `fill[0]` (low word) and `fill[1]` (high word). zram's page_same_filled().
   */
  sameFilled(page: number, fill: Int32Array): boolean {
    const w = this.words;
    let i = page * this.pageWords;
    const end = i + this.pageWords;
    const lo = w[i];
    const hi = w[i + 1];
    for (i += 2; i < end; i += 2) {
      if (w[i] !== lo || w[i + 1] !== hi) return false;
    }
    fill[0] = lo;
    fill[1] = hi;
    return true;
  }

  /** Fill a page with a repeated 8-byte word (swap-in of a same-filled page). */
  fillPage(page: number, lo: number, hi: number): void {
    const w = this.words;
    let i = page * this.pageWords;
    const end = i + this.pageWords;
    if (lo === hi) {
      w.fill(lo, i, end);
      return;
    }
    for (; i < end; i += 2) {
      w[i] = lo;
      w[i + 1] = hi;
    }
  }
}
