/**
 * `zreclaim run` exits 1 when the end-of-run checks fail. The failing run is real: a workload
 * module (the engine's testing/corrupt-workload) changes a stored page behind the engine's
 * back, and the page read back does not match what was written.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunResultSchema } from '@zreclaim/engine';
import { zreclaim } from './testing/spawn.js';

const ENGINE = dirname(createRequire(import.meta.url).resolve('@zreclaim/engine/package.json'));
const CORRUPT = join(ENGINE, 'dist', 'testing', 'corrupt-workload.js');
// RAM enough that kswapd never wakes: only the workload's own pageout stores pages.
const SMALL = ['--pages', '256', '--ram', '90%', '--apps', '1', '--duration', '30'];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('zreclaim run when the checks fail', () => {
  it('exits 1 and says which check failed, after printing the result (--json)', async () => {
    const r = await zreclaim(['run', ...SMALL, '--workload', CORRUPT, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const result = RunResultSchema.parse(JSON.parse(r.stdout));
    expect(result.checks.mismatches).toBe(1);
    expect(result.checks.counters_add_up).toBe(false);
    expect(r.stderr).toBe('zreclaim: checks failed: 1 reads did not match what was written\n');
  });

  it('exits 1 with the human report showing the mismatch', async () => {
    const r = await zreclaim(['run', ...SMALL, '--workload', CORRUPT]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('counters add up: NO');
    expect(r.stdout).toContain('mismatches: 1');
    expect(r.stderr).toBe('zreclaim: checks failed: 1 reads did not match what was written\n');
  });

  it('exits 0 for the same run with nothing corrupted (the control)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zreclaim-checks-'));
    dirs.push(dir);
    const config = join(dir, 'none.json');
    writeFileSync(config, JSON.stringify({ workload: { kind: 'module', module: CORRUPT, params: { corrupt: 'none' } } }));
    const r = await zreclaim(['run', ...SMALL, '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = RunResultSchema.parse(JSON.parse(r.stdout));
    expect(result.checks.verified).toBe(8);
    expect(result.checks.mismatches).toBe(0);
    expect(result.checks.counters_add_up).toBe(true);
  });
});
