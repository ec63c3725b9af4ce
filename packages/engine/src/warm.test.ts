// The template attachments (warm.ts): a run's objects dying must not take kswapd's optimized
// reclaim path with them. Watched through V8's own deoptimization trace, in a child process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENGINE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Functions on the per-page reclaim path (kswapd's side and the store's). */
const HOT = ['shrink', 'storeIsolated', 'swapOut', 'storeCompressed', 'compressOwned', 'alloc', 'write'];

function weakObjectDeopts(pipeline: string): string[] {
  const script = `
    import { createEngine, settleHeap } from ${JSON.stringify(ENGINE)};
    const engine = createEngine({ pages: 8192, pipeline: ${JSON.stringify(pipeline)}, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false });
    for (let i = 0; i < 4; i++) { await engine.drain(); await settleHeap(); }
    await engine.close();
  `;
  const r = spawnSync(process.execPath, ['--trace-deopt', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.includes('reason: weak objects'))
    .map((l) => /SharedFunctionInfo ([\w$]+)/.exec(l)?.[1] ?? '?')
    .filter((name) => HOT.includes(name));
}

describe('warm templates', () => {
  it('keep kswapd\'s reclaim path optimized from one drain to the next (no "weak objects" deopt)', () => {
    expect(weakObjectDeopts('inline')).toEqual([]);
  });
});
