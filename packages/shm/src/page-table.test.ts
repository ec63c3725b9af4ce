import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PageArena } from './arena.js';
import { generationOf, isLegal, ownerOf, PageState, PageTable, REFERENCED, stateOf, STATE_NAMES, WAITERS } from './page-table.js';

const S = PageState;

describe('page table', () => {
  it('refuses every transition the state machine does not list, and leaves the word as it was', () => {
    const pt = new PageTable(1);
    const legal = new Set([
      'UNMAPPED>LOCKED',
      'RESIDENT>LOCKED', 'RESIDENT>ISOLATED', 'RESIDENT>UNMAPPED',
      'LOCKED>RESIDENT', 'LOCKED>UNMAPPED',
      'ISOLATED>SWAPPED', 'ISOLATED>SAME_FILLED', 'ISOLATED>RESIDENT',
      'SWAPPED>LOCKED', 'SWAPPED>UNMAPPED', 'SWAPPED>WRITEBACK',
      'SAME_FILLED>LOCKED', 'SAME_FILLED>UNMAPPED',
      'WRITEBACK>SWAPPED', 'WRITEBACK>UNMAPPED',
    ]);
    for (let from = 0; from < STATE_NAMES.length; from++) {
      for (let to = 0; to < STATE_NAMES.length; to++) {
        const key = `${STATE_NAMES[from]}>${STATE_NAMES[to]}`;
        expect(isLegal(from, to), key).toBe(legal.has(key));
        const word = from | (5 << 5);
        pt.words[0] = word;
        const moved = pt.cas(0, word, to as PageState);
        expect(moved, key).toBe(legal.has(key));
        if (!moved) expect(pt.load(0)).toBe(word);
        else expect(stateOf(pt.load(0))).toBe(to);
      }
    }
  });

  it('a CAS against a stale word fails', () => {
    const pt = new PageTable(1);
    const w = pt.map(0, 3);
    pt.release(0, S.RESIDENT);
    expect(pt.cas(0, w, S.UNMAPPED)).toBe(false);
  });

  it('map bumps the generation and records the owner; the referenced bit is cleared on isolation', () => {
    const pt = new PageTable(1);
    const w1 = pt.map(0, 7);
    expect(ownerOf(w1)).toBe(7);
    expect(stateOf(w1)).toBe(S.LOCKED);
    pt.release(0, S.RESIDENT, true);
    expect(pt.load(0) & REFERENCED).toBe(REFERENCED);
    expect(pt.cas(0, pt.load(0), S.ISOLATED)).toBe(true);
    expect(pt.load(0) & REFERENCED).toBe(0);
    pt.release(0, S.RESIDENT);
    expect(pt.cas(0, pt.load(0), S.UNMAPPED)).toBe(true);
    expect(pt.map(0, 7)).toBeGreaterThan(-1);
    expect(generationOf(pt.load(0))).toBe(generationOf(w1) + 1);
    expect(pt.map(0, 7)).toBe(-1); // already mapped
  });

  it('release refuses a page that is not held', () => {
    const pt = new PageTable(1);
    expect(() => pt.release(0, S.RESIDENT)).toThrow(/not a held state/);
  });

  it('a page touched while ISOLATED waits, then sees the page consistent', async () => {
    const pages = 4;
    const pageSize = 4096;
    const pt = new PageTable(pages);
    const arena = new PageArena(pages, pageSize);
    const page = 2;
    pt.map(page, 1);
    arena.words[arena.offset(page) >> 2] = 111;
    pt.release(page, S.RESIDENT);
    expect(pt.cas(page, pt.load(page), S.ISOLATED)).toBe(true);
    const worker = new Worker(new URL('../dist/testing/pt-toucher.js', import.meta.url), {
      workerData: { pt: pt.sab, arena: arena.sab, page, pages, pageSize },
    });
    const msgs: Array<{ waiting?: boolean; waits?: number; first?: number }> = [];
    const done = new Promise<{ waits: number; first: number }>((resolve, reject) => {
      worker.on('message', (m) => {
        msgs.push(m);
        if (!m.waiting) resolve(m);
      });
      worker.on('error', reject);
    });
    // Wait until the toucher has declared itself asleep on the word (WAITERS set), however
    // long its start takes on a loaded host: a toucher that never waits times the test out.
    let failed: unknown;
    done.catch((e: unknown) => (failed = e));
    let r: { waits: number; first: number };
    try {
      while (!(pt.load(page) & WAITERS)) {
        if (failed !== undefined) throw failed;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      // "Reclaim" rewrites the page while holding it, then returns it to RESIDENT.
      arena.words[arena.offset(page) >> 2] = 222;
      pt.release(page, S.RESIDENT);
      r = await done;
    } finally {
      await worker.terminate();
    }
    expect(r.waits).toBeGreaterThanOrEqual(1);
    expect(r.first).toBe(222);
    expect(pt.load(page) & WAITERS).toBe(0);
  });
});
