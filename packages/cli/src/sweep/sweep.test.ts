/**
 * `zreclaim sweep` end to end, spawned as a user runs it (build first: tsc -b): two shards
 * of a six-point grid, their union, resuming, and bad input. Runs of 0.3 s on 1024 pages.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { expectOneLine, zreclaim } from '../testing/spawn.js';
import { readSweepLines } from './points.js';

const FIXED = ['--pages', '1024', '--apps', '1', '--duration', '0.3'];
// inline × batch 4 is no point: 6 points (inline, kcompressd, batch:4) × (50%, 60%).
const GRID = ['--pipeline', 'inline,kcompressd', '--batch', '1,4', '--codec', 'lz4', '--ram', '50%,60%'];
const ALL_KEYS = ['inline', 'kcompressd', 'batch:4'].flatMap((p) => ['50%', '60%'].map((r) => `pipeline=${p} codec=lz4 ram=${r}`)).sort();

const keysIn = (file: string) => readSweepLines(file).points.map((p) => p.key);

describe('zreclaim sweep', () => {
  it('two shards run the grid exactly once between them; rerunning resumes, skipping finished points and running the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zreclaim-sweep-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const s1 = join(dir, 'shard-1.jsonl');
    const s2 = join(dir, 'shard-2.jsonl');
    const r1 = await zreclaim(['sweep', ...GRID, ...FIXED, '--shard', '1/2', '--out', s1]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toContain('skipped 2 points (inline × batch 4): inline compresses in kswapd itself');
    expect(r1.stderr).toMatch(/point 3\/3 .* ETA 0s/);
    const r2 = await zreclaim(['sweep', ...GRID, ...FIXED, '--shard', '2/2', '--out', s2, '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    const summary = JSON.parse(r2.stdout);
    expect(summary).toMatchObject({ schema: 'zreclaim.sweep-summary/v1', shard: '2/2', grid_size: 6, shard_size: 3, resumed: 0 });

    const k1 = keysIn(s1);
    const k2 = keysIn(s2);
    expect(k1).toHaveLength(3);
    expect(k2).toHaveLength(3);
    expect([...k1, ...k2].sort()).toEqual(ALL_KEYS);
    const lines = [...readSweepLines(s1).points, ...readSweepLines(s2).points];
    expect(new Set(lines.map((p) => p.sweep)).size).toBe(1);
    for (const p of lines) {
      expect(p.result.checks.counters_add_up).toBe(true);
      expect(p.result.config).toMatchObject({ pages: 1024, pipeline: p.pipeline });
      expect(p.result.environment.node).toBe(process.version);
      expect(p.result).not.toHaveProperty('apps');
    }
    expect(lines.find((p) => p.params.pipeline === 'kcompressd' && p.params.batch === 4)?.pipeline).toBe('batch:4');

    // The whole grid into the merged file, minus its last point: only that point runs.
    const merged = join(dir, 'all.jsonl');
    const text = readFileSync(s1, 'utf8') + readFileSync(s2, 'utf8');
    const kept = text.trimEnd().split('\n').slice(0, -1);
    const dropped = keysIn(s2).at(-1);
    writeFileSync(merged, `${kept.join('\n')}\n`);
    const r3 = await zreclaim(['sweep', ...GRID, ...FIXED, '--out', merged]);
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stderr).toContain('5 of 6 points already done, 1 to run');
    expect(r3.stderr).toMatch(/point 1\/1 /);
    const after = keysIn(merged);
    expect(after).toHaveLength(6);
    expect(after.at(-1)).toBe(dropped);
    expect([...after].sort()).toEqual(ALL_KEYS);

    // Everything done: nothing runs, nothing is appended.
    const r4 = await zreclaim(['sweep', ...GRID, ...FIXED, '--out', merged, '--quiet']);
    expect(r4.code, r4.stderr).toBe(0);
    expect(r4.stderr).toContain('6 of 6 points already done, 0 to run');
    expect(keysIn(merged)).toHaveLength(6);

    // Another fixed config must not be mixed into this file.
    const r5 = await zreclaim(['sweep', ...GRID, ...FIXED, '--seed', '9', '--out', merged]);
    expect(r5.code).toBe(2);
    expectOneLine(r5, `--out ${merged}`, 'another sweep', 'give a new --out file');
  });

  it('bad grids and flags exit 2 with one line naming the flag, the value and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zreclaim-sweep-bad-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'out.jsonl');
    const grid = join(dir, 'grid.json');
    writeFileSync(grid, JSON.stringify({ pipeline: ['inline'], ram: ['50%'], pages: 1024 }));
    const cases: [string[], string[]][] = [
      [['--batch', '1,0'], ['--batch', '"0"', '1 to 256']],
      [['--pipeline', 'inline,turbo'], ['--pipeline', '"turbo"', 'choose from']],
      [['--shard', '3/2'], ['--shard', '"3/2"', 'i/n']],
      [['--ram', '50%,150%'], ['--ram', '150%', 'smaller than the arena']],
      [['--pipeline', 'batch:8', '--batch', '1,8'], ['--pipeline', 'batch:8', 'names its batch size']],
      [['--pipeline', 'inline', '--codec', 'zstd'], ['no point to run', 'kcompressd']],
      [['--grid', grid], [`--grid ${grid}`, 'unknown field "pages"']],
      [['--pages', '10'], ['config.pages', '--pages']],
    ];
    for (const [args, mentions] of cases) {
      const r = await zreclaim(['sweep', ...args, '--out', out]);
      expect(r.code, args.join(' ')).toBe(2);
      expectOneLine(r, ...mentions);
    }
    const noOut = await zreclaim(['sweep', '--pipeline', 'inline']);
    expect(noOut.code).toBe(2);
    expectOneLine(noOut, '--out', 'sweep.jsonl');
    const notSweep = join(dir, 'not-sweep.jsonl');
    writeFileSync(notSweep, '{"schema":"zreclaim.result/v1"}\n');
    const r = await zreclaim(['sweep', '--pipeline', 'inline', '--out', notSweep]);
    expect(r.code).toBe(2);
    expectOneLine(r, notSweep, 'line 1', 'zreclaim.sweep/v1');
  });
});
