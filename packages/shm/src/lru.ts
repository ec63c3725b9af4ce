/**
 * zswap's LRU of compressed entries (its list_lru), in shared memory: a doubly linked list
 * of arena page indices, oldest at the head, behind one mutex. Every thread that stores a
 * page into the zswap pool adds it at the tail; a fault or an unmap that frees the entry
 * removes it; the writeback path takes the oldest from the head.
 *
 * Links are stored as index + 1 so that zeroed memory means "not on the list"; the
 * sentinel (the list head) is entry `pages`. Membership is the `prev` link: 0 = not linked.
 *
 * ── SAB (Int32) ──────────────────────────────────────────────────────────────────────────
 *   [0]   lock (mutex, lock.ts)
 *   [1]   entries on the list (written under the lock)
 *   [4 .. 4 + pages]            prev[p] + 1, the sentinel last
 *   [5 + pages .. 6 + 2 pages]  next[p] + 1, the sentinel last
 * 8 bytes per page; only a zswap-mode run allocates it.
 */
import { mutexLock, mutexUnlock } from './lock.js';

const LOCK = 0;
const COUNT = 1;
const HDR = 4;

export class Lru {
  readonly sab: SharedArrayBuffer;
  private readonly w: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** The sentinel's index. */
  private readonly head: number;

  constructor(
    readonly pages: number,
    sab?: SharedArrayBuffer,
  ) {
    this.sab = sab ?? new SharedArrayBuffer((HDR + 2 * (pages + 1)) * 4);
    this.w = new Int32Array(this.sab);
    this.prev = new Int32Array(this.sab, HDR * 4, pages + 1);
    this.next = new Int32Array(this.sab, (HDR + pages + 1) * 4, pages + 1);
    this.head = pages;
    if (sab === undefined) {
      // An empty list: the sentinel links to itself.
      this.prev[this.head] = this.head + 1;
      this.next[this.head] = this.head + 1;
    }
  }

  /** Entries on the list now (may be late by the operations in flight). */
  get size(): number {
    return Atomics.load(this.w, COUNT);
  }

  /** Add `page` as the newest entry; false if it is already on the list. */
  addTail(page: number): boolean {
    mutexLock(this.w, LOCK);
    const ok = this.prev[page] === 0;
    if (ok) {
      const h = this.head;
      const last = this.prev[h] - 1;
      this.prev[page] = last + 1;
      this.next[page] = h + 1;
      this.next[last] = page + 1;
      this.prev[h] = page + 1;
      Atomics.store(this.w, COUNT, this.w[COUNT] + 1);
    }
    mutexUnlock(this.w, LOCK);
    return ok;
  }

  /** Take `page` off the list; false if it was not on it. */
  remove(page: number): boolean {
    mutexLock(this.w, LOCK);
    const ok = this.prev[page] !== 0;
    if (ok) this.unlink(page);
    mutexUnlock(this.w, LOCK);
    return ok;
  }

  /** Take the oldest entry off the list; −1 if it is empty. */
  popHead(): number {
    mutexLock(this.w, LOCK);
    const first = this.next[this.head] - 1;
    const page = first === this.head ? -1 : first;
    if (page >= 0) this.unlink(page);
    mutexUnlock(this.w, LOCK);
    return page;
  }

  /** Pages on the list, oldest first (for tests and reports; takes the lock). */
  toArray(): number[] {
    mutexLock(this.w, LOCK);
    const out: number[] = [];
    for (let p = this.next[this.head] - 1; p !== this.head; p = this.next[p] - 1) out.push(p);
    mutexUnlock(this.w, LOCK);
    return out;
  }

  private unlink(page: number): void {
    const p = this.prev[page] - 1;
    const n = this.next[page] - 1;
    this.next[p] = n + 1;
    this.prev[n] = p + 1;
    this.prev[page] = 0;
    this.next[page] = 0;
    Atomics.store(this.w, COUNT, this.w[COUNT] - 1);
  }
}
