/**
 * The built command, spawned as a user runs it (build first: tsc -b). Small arenas and
 * one-second runs: the whole file stays within a few seconds per run on 2 cores.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RunResultSchema } from '@zreclaim/engine';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const SMALL = ['--pages', '2048', '--ram', '50%', '--duration', '1', '--apps', '1'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function zreclaim(args: string[], timeout = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout, env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line on stderr, prefixed, with no stack trace. */
function expectOneLine(r: Ran, ...mentions: string[]): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^zreclaim: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const m of mentions) expect(lines[0]).toContain(m);
  expect(r.stdout).toBe('');
}

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
