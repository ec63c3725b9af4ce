// The template attachments (warm.ts): a run's objects dying must not take kswapd's optimized
// reclaim path with them. Watched through V8's deoptimization trace, in a child process that
// drains four times, settling the heap between drains.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PageArena, PageTable, ZsPool } from '@zreclaim/shm';
import { describe, expect, it, vi } from 'vitest';
import { resolveConfig } from './config.js';
import { createSharedMm, Mm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { createStore, ZramStore } from './store.js';
import { mapAllPages } from './testing/mapped.js';

const ENGINE_DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * What inline kswapd runs for every page today, by the class that defines it:
 * Reclaimer.shrink isolates a scan run and storeRun stores it, through
 * ZramStore.compressBatch (the codec's compressOwned) and storeBatched → storeCompressed,
 * and the shared structures' own per-page methods. The first test checks each is called.
 */
const HOT = ['shrink', 'storeRun', 'compressBatch', 'storeBatched', 'storeCompressed', 'compressOwned', 'sameFilled', 'alloc', 'allocFrom', 'cas', 'release'] as const;
type Hot = (typeof HOT)[number];

/** One inline kswapd slice over a fresh attachment, each listed method spied on; returns the calls. */
function callsOnOneSlice(): Record<Hot, number> {
  const c = resolveConfig({ pages: 256, ram: '90%', codec: 'lz4', content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false });
  const mm = new Mm(createSharedMm(c));
  mapAllPages(mm, c.content, 3);
  const store = createStore(mm, c);
  const reclaimer = new Reclaimer(mm, store);
  const owners: Record<Hot, object> = {
    shrink: Reclaimer.prototype,
    storeRun: Reclaimer.prototype,
    compressBatch: ZramStore.prototype,
    storeBatched: ZramStore.prototype,
    storeCompressed: ZramStore.prototype,
    compressOwned: Object.getPrototypeOf(store.codec) as object,
    sameFilled: PageArena.prototype,
    alloc: ZsPool.prototype,
    allocFrom: ZsPool.prototype,
    cas: PageTable.prototype,
    release: PageTable.prototype,
  };
  // A method renamed or gone makes spyOn throw: the list must name what exists.
  const spies = HOT.map((name) => [name, vi.spyOn(owners[name] as Record<Hot, () => unknown>, name)] as const);
  try {
    expect(reclaimer.shrink(64, true)).toBe(64);
    return Object.fromEntries(spies.map(([name, spy]) => [name, spy.mock.calls.length])) as Record<Hot, number>;
  } finally {
    for (const [, spy] of spies) spy.mockRestore();
  }
}

/** Generous: four small drains take seconds even on a loaded host. Below the test's timeout. */
const CHILD_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 180_000;

/**
 * Drain four times in a child under --trace-deopt and return the functions whose optimized
 * code was thrown away because a map it embedded died ("reason: weak objects"). `cold`: the
 * kswapd template slot is taken (by a template of nothing) before the first drain, so no
 * template keeps the maps alive — what every drain did before warm.ts.
 */
function weakObjectDeopts(cold: boolean): Promise<string[]> {
  const script = `
    import { createEngine, settleHeap } from ${JSON.stringify(join(ENGINE_DIST, 'internal.js'))};
    import { keepWarm, shapeKey } from ${JSON.stringify(join(ENGINE_DIST, 'warm.js'))};
    const engine = createEngine({ pages: 8192, pipeline: 'inline', content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false });
    if (${cold}) keepWarm(shapeKey('kswapd-inline', engine.config), () => null);
    for (let i = 0; i < 4; i++) { await engine.drain(); await settleHeap(); }
    await engine.close();
  `;
  const args = ['--trace-deopt', '--input-type=module', '-e', script];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`the traced child failed (${err.killed ? `killed after ${CHILD_TIMEOUT_MS} ms` : `exit ${String(err.code)}`}): ${stderr}`));
        return;
      }
      const names = stdout
        .split('\n')
        .filter((l) => l.includes('reason: weak objects'))
        .map((l) => /SharedFunctionInfo ([\w$]+)/.exec(l)?.[1] ?? '?');
      resolve(names.filter((n) => (HOT as readonly string[]).includes(n)));
    });
  });
}

describe('warm templates', () => {
  it('list what inline kswapd runs for every page: each listed method is called by one slice', () => {
    const calls = callsOnOneSlice();
    expect(HOT.filter((name) => calls[name] === 0), 'listed methods one kswapd slice never called').toEqual([]);
  });

  it('keep kswapd\'s reclaim path optimized from one drain to the next (no "weak objects" deopt)', async () => {
    expect(await weakObjectDeopts(false)).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('without the template, the same drains deoptimize the listed functions (the check above can fail)', async () => {
    const hit = new Set(await weakObjectDeopts(true));
    // Which ones V8 had optimized by then varies a little from run to run; most had been.
    expect(hit.size, `listed functions deoptimized for weak objects: ${[...hit].join(', ')}`).toBeGreaterThanOrEqual(HOT.length / 2);
  }, TEST_TIMEOUT_MS);
});
