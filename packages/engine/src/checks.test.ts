// The end-of-run checks fail when they should: a stored page changed behind the engine's back
// is a mismatch, a counter that no longer matches the pages stored is a problem, and either
// makes counters_add_up false. The corruption is a workload module's (testing/corrupt-workload).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunResult } from './index.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

const CORRUPT = fileURLToPath(new URL('../dist/testing/corrupt-workload.js', import.meta.url));

async function runCorrupting(corrupt: 'pool' | 'fill' | 'counter' | 'none'): Promise<RunResult> {
  // RAM enough that kswapd never wakes: only the workload's own pageout stores pages.
  const engine = newEngine({ pages: 256, ram: '90%', apps: 1, duration: 30, workload: { kind: 'module', module: CORRUPT, params: { corrupt } } });
  return engine.run();
}

describe('the end-of-run checks', () => {
  it('pass for the same run with nothing corrupted (the control)', async () => {
    const r = await runCorrupting('none');
    expect(r.checks.verified).toBe(8);
    expect(r.checks.mismatches).toBe(0);
    expect(r.checks.problems).toEqual([]);
    expect(r.checks.counters_add_up).toBe(true);
    expect(r.counters.pswpin).toBe(8);
  });

  it('count a mismatch when a page stored in the pool had a byte changed', async () => {
    const r = await runCorrupting('pool');
    expect(r.checks.mismatches).toBe(1);
    expect(r.apps[0].mismatchPages).toEqual([0]);
    expect(r.checks.problems).toEqual(['1 reads did not match what was written']);
    expect(r.checks.counters_add_up).toBe(false);
  });

  it('count a mismatch when a same-filled page\'s fill word was changed', async () => {
    const r = await runCorrupting('fill');
    expect(r.checks.mismatches).toBe(1);
    expect(r.apps[0].mismatchPages).toEqual([4]);
    expect(r.checks.counters_add_up).toBe(false);
  });

  it('report a broken counter identity: pswpout − notify_free against the pages stored', async () => {
    const r = await runCorrupting('counter');
    expect(r.checks.mismatches).toBe(0);
    expect(r.checks.stored_pages).toBe(0);
    expect(r.checks.stored_by_counters).toBe(1);
    expect(r.checks.problems).toEqual(['pswpout − notify_free = 1, but 0 pages are stored']);
    expect(r.checks.counters_add_up).toBe(false);
  });
});
