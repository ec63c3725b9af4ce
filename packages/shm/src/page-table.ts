/**
 * The page table: one Int32 state word per page of the arena.
 *
 *   bits  0..2   state (PageState)
 *   bit   3      REFERENCED  set on every access; the CLOCK hand clears it (second chance)
 *   bit   4      WAITERS     some thread sleeps on this word (PG_waiters): whoever moves the
 *                            page out of a transient state must Atomics.notify it
 *   bits  5..11  owner       application id, 0..127 (valid from map to unmap)
 *   bits 12..30  generation  bumped at every map, so a stale index from an earlier life of
 *                            the page is told apart (19 bits, wraps)
 *
 * Every state change is an Atomics.compareExchange of the whole word through `cas()`, which
 * refuses the transitions that LEGAL does not list. The referenced bit alone is set with
 * Atomics.or (like a hardware young bit, it is not a state change). Readers may see a word
 * that is already stale; anyone acting on it does so by CAS against the word they read.
 *
 *   UNMAPPED ─map→ LOCKED ─unlock→ RESIDENT ─isolate→ ISOLATED ─store→ SWAPPED | SAME_FILLED
 *                    ↑ ↓              ↑                   └─reject/crash→ RESIDENT
 *                 lock/unlock ────────┘          SWAPPED/SAME_FILLED ─fault→ LOCKED
 *   any of RESIDENT, LOCKED, SWAPPED, SAME_FILLED ─unmap→ UNMAPPED
 *
 * LOCKED is the folio lock: the owner holds it while it reads or writes the page's bytes,
 * and while it faults the page back in; reclaim never isolates a LOCKED page. ISOLATED is
 * reclaim's hold: an application touching it sleeps until the page is stored or returned
 * (a writeback wait).
 */
export const PageState = {
  UNMAPPED: 0,
  RESIDENT: 1,
  LOCKED: 2,
  ISOLATED: 3,
  SWAPPED: 4,
  SAME_FILLED: 5,
  /** zswap writeback to the backing file in progress (the store issue uses it). */
  WRITEBACK: 6,
} as const;
export type PageState = (typeof PageState)[keyof typeof PageState];

export const STATE_NAMES = ['UNMAPPED', 'RESIDENT', 'LOCKED', 'ISOLATED', 'SWAPPED', 'SAME_FILLED', 'WRITEBACK'] as const;

export const STATE_MASK = 0x7;
export const REFERENCED = 1 << 3;
export const WAITERS = 1 << 4;
const OWNER_SHIFT = 5;
const OWNER_MASK = 0x7f;
const GEN_SHIFT = 12;
const GEN_MASK = 0x7ffff;
export const MAX_OWNER = OWNER_MASK;

const S = PageState;
/** LEGAL[from] is a bit mask of the states `from` may move to. */
const LEGAL: number[] = [];
LEGAL[S.UNMAPPED] = 1 << S.LOCKED;
LEGAL[S.RESIDENT] = (1 << S.LOCKED) | (1 << S.ISOLATED) | (1 << S.UNMAPPED);
LEGAL[S.LOCKED] = (1 << S.RESIDENT) | (1 << S.UNMAPPED);
LEGAL[S.ISOLATED] = (1 << S.SWAPPED) | (1 << S.SAME_FILLED) | (1 << S.RESIDENT);
LEGAL[S.SWAPPED] = (1 << S.LOCKED) | (1 << S.UNMAPPED) | (1 << S.WRITEBACK);
LEGAL[S.SAME_FILLED] = (1 << S.LOCKED) | (1 << S.UNMAPPED);
LEGAL[S.WRITEBACK] = (1 << S.SWAPPED) | (1 << S.UNMAPPED);

export function stateOf(w: number): PageState {
  return (w & STATE_MASK) as PageState;
}
export function ownerOf(w: number): number {
  return (w >>> OWNER_SHIFT) & OWNER_MASK;
}
export function generationOf(w: number): number {
  return (w >>> GEN_SHIFT) & GEN_MASK;
}
export function isLegal(from: number, to: number): boolean {
  return (LEGAL[from] & (1 << to)) !== 0;
}
/** Word for a freshly mapped page: LOCKED by `owner`, next generation. */
export function mappedWord(old: number, owner: number): number {
  const gen = (generationOf(old) + 1) & GEN_MASK;
  return S.LOCKED | ((owner & OWNER_MASK) << OWNER_SHIFT) | (gen << GEN_SHIFT);
}

export class PageTable {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;

  constructor(readonly pages: number, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(pages * 4);
    this.words = new Int32Array(this.sab, 0, pages);
  }

  load(page: number): number {
    return Atomics.load(this.words, page);
  }

  /**
   * Move `page` from the word `expected` to state `to`, keeping owner and generation and
   * dropping WAITERS (the sleepers are woken here and look again). `setRef` sets the
   * referenced bit in the new word. Refuses an illegal transition or a word that changed
   * since the caller read it; returns whether the page moved.
   */
  cas(page: number, expected: number, to: PageState, setRef = false): boolean {
    if (!isLegal(expected & STATE_MASK, to)) return false;
    let next = (expected & ~(STATE_MASK | WAITERS)) | to;
    if (setRef) next |= REFERENCED;
    else if (to === S.ISOLATED || to === S.UNMAPPED) next &= ~REFERENCED;
    if (Atomics.compareExchange(this.words, page, expected, next) !== expected) return false;
    if (expected & WAITERS) Atomics.notify(this.words, page);
    return true;
  }

  /** UNMAPPED → LOCKED for `owner`; the caller writes the page, then unlocks it. */
  map(page: number, owner: number): number {
    const old = Atomics.load(this.words, page);
    if ((old & STATE_MASK) !== S.UNMAPPED) return -1;
    const next = mappedWord(old, owner);
    if (Atomics.compareExchange(this.words, page, old, next) !== old) return -1;
    if (old & WAITERS) Atomics.notify(this.words, page);
    return next;
  }

  /**
   * End a hold: the caller owns the page (LOCKED or ISOLATED), so only WAITERS can change
   * under it; retry the CAS until it lands. Throws if the page is not in a held state,
   * which would be a bug in the caller.
   */
  release(page: number, to: PageState, setRef = false): void {
    for (;;) {
      const w = Atomics.load(this.words, page);
      const from = w & STATE_MASK;
      if (from !== S.LOCKED && from !== S.ISOLATED && from !== S.WRITEBACK) {
        throw new Error(`page ${page}: release from ${STATE_NAMES[from]}, not a held state`);
      }
      if (!isLegal(from, to)) throw new Error(`page ${page}: illegal ${STATE_NAMES[from]} → ${STATE_NAMES[to]}`);
      if (this.cas(page, w, to, setRef)) return;
    }
  }

  markReferenced(page: number): void {
    Atomics.or(this.words, page, REFERENCED);
  }

  /** Second chance: clear the referenced bit if the word is still `expected`. */
  clearReferenced(page: number, expected: number): boolean {
    return Atomics.compareExchange(this.words, page, expected, expected & ~REFERENCED) === expected;
  }

  /**
   * Sleep until the word changes from `seen` (a transient state another thread will end).
   * Sets WAITERS first so that thread knows to notify. Returns false on timeout.
   */
  waitChange(page: number, seen: number, timeoutMs = 1000): boolean {
    const withWaiters = seen | WAITERS;
    if (seen !== withWaiters && Atomics.compareExchange(this.words, page, seen, withWaiters) !== seen) return true;
    return Atomics.wait(this.words, page, withWaiters, timeoutMs) !== 'timed-out';
  }

  /** Count pages per state (a scan; for reports and invariant checks, not the hot path). */
  census(): number[] {
    const out = new Array<number>(STATE_NAMES.length).fill(0);
    for (let i = 0; i < this.pages; i++) out[Atomics.load(this.words, i) & STATE_MASK]++;
    return out;
  }
}
