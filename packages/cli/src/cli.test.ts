/**
 * The built command, spawned as a user runs it (build first: tsc -b). Small arenas and
 * one-second runs: the whole file stays within a few seconds per run on 2 cores.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { expectOneLine, zreclaim } from './testing/spawn.js';
import { RunResultSchema } from '@zreclaim/engine';

const SMALL = ['--pages', '2048', '--ram', '50%', '--duration', '1', '--apps', '1'];

describe('zreclaim run', () => {
  it('--json prints one RunResult that validates and whose counters add up', async () => {
    const r = await zreclaim(['run', ...SMALL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = RunResultSchema.parse(JSON.parse(r.stdout));
    const c = result.counters as Record<string, number>;
    expect(c.pswpout).toBeGreaterThan(0);
    expect(c.pswpout - c.notify_free).toBe(result.checks.stored_pages);
    expect(result.checks.counters_add_up).toBe(true);
    expect(result.checks.problems).toEqual([]);
    expect(result.checks.mismatches).toBe(0);
    expect(result.config).toMatchObject({ pages: 2048, ram: '50%', duration: 1, apps: 1 });
  });

  it('prints the human report under the kernel counter names', async () => {
    const r = await zreclaim(['run', ...SMALL, '--duration', '0.5', '--no-kswapd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    for (const name of ['pgscan_kswapd', 'pgscan_direct', 'pgsteal_direct', 'pgsteal_anon', 'pswpout', 'pswpin', 'allocstall', 'pgmajfault',
      'orig_data_size', 'compr_data_size', 'mem_used_total', 'mem_used_max', 'same_pages', 'huge_pages', 'pgsteal_anon/s', 'alloc_stall']) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toMatch(/^zreclaim run · .* · \d+ cores · node v\d+/);
    expect(r.stdout).toContain('no kswapd (all reclaim direct)');
    expect(r.stdout).toContain('counters add up: yes');
    // Under CI and without a TTY, no progress.
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('a bad flag value exits 2 with one line naming the flag and the value', async () => {
    const r = await zreclaim(['run', '--pages', '12x']);
    expect(r.code).toBe(2);
    expectOneLine(r, '--pages', '"12x"', 'whole number');
  });

  it('a bad config value exits 2 naming the config field, the value and the flag', async () => {
    const r = await zreclaim(['run', '--pages', '2048', '--ram', '150%']);
    expect(r.code).toBe(2);
    expectOneLine(r, 'config.ram', '150%', '--ram');
  });

  it('an unknown option exits 2 with one line', async () => {
    const r = await zreclaim(['run', '--frobnicate']);
    expect(r.code).toBe(2);
    expectOneLine(r, "unknown option '--frobnicate'");
  });

  it('a missing flag value exits 2 with one line', async () => {
    const r = await zreclaim(['run', '--pages']);
    expect(r.code).toBe(2);
    expectOneLine(r, '--pages');
  });

  it('a malformed or missing --config file exits 2 naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zreclaim-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "pages": 2048, ');
    const r1 = await zreclaim(['run', '--config', bad]);
    expect(r1.code).toBe(2);
    expectOneLine(r1, bad, 'not valid JSON');
    const r2 = await zreclaim(['run', '--config', join(dir, 'nope.json')]);
    expect(r2.code).toBe(2);
    expectOneLine(r2, join(dir, 'nope.json'), 'no such file');
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ pages: 2048, ram: '50%', apps: 'two' }));
    const r3 = await zreclaim(['run', '--config', wrong]);
    expect(r3.code).toBe(2);
    expectOneLine(r3, 'config.apps', '"two"', wrong);
  });

  it('--help shows the defaults from the engine schema and exits 0', async () => {
    const r = await zreclaim(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--pages <n>');
    expect(r.stdout).toMatch(/--pages <n>[^]*\(default: 16384\)/);
    expect(r.stdout).toContain('file:PATH');
    expect(r.stdout).toContain('Exit codes');
  });
});
