/**
 * The slot table: per page, where its stored object lives (zram's table[index]).
 *
 *   handle[page]  Int32  pool handle of the compressed object (SWAPPED), or the low
 *                         32 bits of the fill word (SAME_FILLED), as zram keeps the fill
 *                         value in the handle field
 *   length[page]  Int32  compressed length in bytes (SWAPPED; pageSize for a huge page),
 *                         or the high 32 bits of the fill word (SAME_FILLED)
 *
 * Written only by the thread that holds the page ISOLATED (store) or LOCKED (fault, unmap);
 * the page-table CAS that ends the hold publishes these plain writes to the next holder.
 */
export class SlotTable {
  readonly sab: SharedArrayBuffer;
  readonly handle: Int32Array;
  readonly length: Int32Array;

  constructor(readonly pages: number, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(pages * 8);
    this.handle = new Int32Array(this.sab, 0, pages);
    this.length = new Int32Array(this.sab, pages * 4, pages);
  }

  set(page: number, handle: number, length: number): void {
    this.handle[page] = handle;
    this.length[page] = length;
  }

  clear(page: number): void {
    this.handle[page] = 0;
    this.length[page] = 0;
  }
}
