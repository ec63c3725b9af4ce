/**
 * Values the engine cannot run are refused by the built CLI (tsc -b first) with exit 2 and
 * one line naming the flag, the value and the limit, never an internal error: pipeline
 * spellings (run and compare), arenas past the 4 GiB limit. And a caller's ZRECLAIM_*
 * variables do not reach the CLIs the tests spawn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, expectOneLine, zreclaim } from './testing/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'zreclaim-refuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REFUSED = ['padata:0', 'padata:-1', 'padata:1.5', 'padata:17', 'padata:02', 'batch:0', 'batch:257', 'padata:0+batch:8', 'kcompressd:3', 'garbage', ''];

describe('pipelines the engine cannot run', () => {
  it.each(REFUSED)('run --pipeline %j exits 2 with one line naming --pipeline and the value', async (name) => {
    const r = await zreclaim(['run', '--pages', '1024', '--duration', '0.5', '--pipeline', name]);
    expect(r.code, r.stderr).toBe(2);
    expectOneLine(r, 'config.pipeline', `(got ${JSON.stringify(name)})`, '--pipeline');
    expect(r.stderr).not.toContain('internal error');
  });

  it.each([
    ['compare', []],
    ['sweep', ['--out', join(dir, 'sweep.jsonl')]],
  ])('%s --pipeline with one of them in the list exits 2 the same way, before any run', async (command, extra) => {
    const r = await zreclaim([command, '--pages', '1024', '--duration', '0.5', '--pipeline', 'inline,padata:0', ...extra]);
    expect(r.code, r.stderr).toBe(2);
    expectOneLine(r, '--pipeline', '"padata:0"');
    expect(r.stderr).not.toContain('internal error');
  });
});

describe('arenas past 4 GiB', () => {
  it.each([
    [['--pages', '1048577'], '1048577', 'pages must be ≤ 1048576'],
    [['--pages', '4194304'], '4194304', 'pages must be ≤ 1048576'],
    [['--pages', '524289', '--page-size', '8192'], '524289', 'at most 524288 pages'],
    [['--pages', '65537', '--page-size', '65536'], '65537', 'at most 65536 pages'],
    [['--pages', '9000000', '--page-size', '512'], '9000000', 'pages must be ≤ 1048576'],
  ])('run %j exits 2 with one line naming --pages, the value and the limit', async (flags, value, limit) => {
    const r = await zreclaim(['run', ...flags, '--duration', '0.5']);
    expect(r.code, r.stderr).toBe(2);
    expectOneLine(r, 'config.pages', `(got ${value})`, limit, '4 GiB', '--pages');
  });
});

describe('the environment of spawned CLIs', () => {
  it('drops every ZRECLAIM_* variable of the caller, keeps what a test sets', () => {
    const saved = { ...process.env };
    process.env.ZRECLAIM_DEBUG = '1';
    process.env.ZRECLAIM_INJECT_COMPRESS_NS = '5000';
    process.env.ZRECLAIM_ANYTHING = 'x';
    try {
      const env = cliEnv({ ZRECLAIM_DEBUG: '1' });
      expect(Object.keys(env).filter((k) => k.startsWith('ZRECLAIM_'))).toEqual(['ZRECLAIM_DEBUG']);
      expect(env.CI).toBe('true');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it('a CLI spawned while the caller has ZRECLAIM_DEBUG and a bad ZRECLAIM_INJECT_COMPRESS_NS set reports the config error alone', async () => {
    const saved = { ...process.env };
    process.env.ZRECLAIM_DEBUG = '1';
    process.env.ZRECLAIM_INJECT_COMPRESS_NS = 'not-a-number';
    try {
      // With them, the engine would refuse the variable before the config (and print a
      // stack); without, --ram is the one problem.
      const r = await zreclaim(['run', '--pages', '2048', '--ram', '150%']);
      expect(r.code).toBe(2);
      expectOneLine(r, 'config.ram', '150%', '--ram');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });
});
