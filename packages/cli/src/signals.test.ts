/**
 * Signals on a zswap run, spawned as built (tsc -b first): SIGTERM stops it as SIGINT does
 * (engine closed, one line on stderr, exit 143; SIGINT 130), and neither SIGTERM nor SIGKILL
 * leaves its writeback file in the temp directory. Each child gets a fresh TMPDIR of its own,
 * so "nothing left" is exact. The signal is sent once the workload says (a marker file) that
 * it has mapped more pages than RAM and pool can hold; no wall-clock bound, only the test
 * timeout as the outer limit.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startZreclaim, zreclaim } from './testing/spawn.js';

const root = mkdtempSync(join(tmpdir(), 'zreclaim-signals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Maps and writes every page of its share (4096 pages against a RAM budget of 2048 and a pool
// capped at 5 % of it, ~100 pool pages), says so in `params.marker`, then reads pages at
// random until the run stops.
const WORKLOAD = `
import { writeFileSync } from 'node:fs';
export default async function (api, ctx) {
  for (let i = 0; i < api.pages; i++) {
    api.map(i);
    api.write(i);
    if (!(await api.checkpoint())) return;
  }
  writeFileSync(ctx.params.marker, JSON.stringify(api.meminfo()));
  while (await api.checkpoint()) api.read(Math.floor(api.random() * api.pages));
}
`;
const workload = join(root, 'workload.mjs');
writeFileSync(workload, WORKLOAD);

/** A zswap run config whose workload writes `marker` when the run is under way; its file and a fresh TMPDIR. */
function setup(name: string, duration: number) {
  const dir = mkdtempSync(join(root, `${name}-`));
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const marker = join(dir, 'ready');
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pages: 4096,
      ram: '50%',
      apps: 1,
      duration,
      content: { kind: 'mix', ratio: 2, same: 0, zero: 0 },
      store: { mode: 'zswap', maxPoolPercent: 5 },
      workload: { kind: 'module', module: workload, params: { marker } },
    }),
  );
  return { config, tmp, marker, dir };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Start `zreclaim ARGS` (by default `run --config CONFIG`) on the marker config, wait for the
 * marker, send `signal`, and wait for the child to end.
 */
async function stopWith(signal: NodeJS.Signals, name: string, args = (config: string, _dir: string) => ['run', '--config', config]): Promise<Exit & { tmp: string; dir: string }> {
  const { config, tmp, marker, dir } = setup(name, 600);
  const child: ChildProcess = startZreclaim(args(config, dir), { TMPDIR: tmp });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr })));
  let ended: Exit | undefined;
  void exited.then((e) => (ended = e));
  // Polling for the marker waits for an event; the test's timeout is the only bound.
  while (!existsSync(marker)) {
    if (ended) throw new Error(`the run ended before its workload was under way: code ${ended.code}, stderr ${ended.stderr}`);
    await delay(20);
  }
  child.kill(signal);
  return { ...(await exited), tmp, dir };
}

describe('signals on a zswap run', () => {
  it('the same run, left to finish, writes pages back to its file (so the runs below have one)', async () => {
    const { config, tmp } = setup('finish', 1);
    const r = await zreclaim(['run', '--config', config, '--json'], 120_000, { TMPDIR: tmp });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { counters: { written_back_pages: number; pswpin: number } };
    expect(result.counters.written_back_pages).toBeGreaterThan(0);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);

  it('SIGTERM: the engine is closed, one line on stderr, exit 143, no file left in TMPDIR', async () => {
    const r = await stopWith('SIGTERM', 'term');
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toBe('zreclaim: stopped by SIGTERM; the run was stopped and the engine closed\n');
    expect(r.stdout).toBe('');
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);

  it('SIGINT: the same, exit 130', async () => {
    const r = await stopWith('SIGINT', 'int');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe('zreclaim: stopped by SIGINT; the run was stopped and the engine closed\n');
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);

  it('SIGKILL: nothing can run at exit, and still no file is left in TMPDIR', async () => {
    const r = await stopWith('SIGKILL', 'kill');
    expect(r.signal).toBe('SIGKILL');
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);
});

describe('SIGTERM stops the other long commands the same way', () => {
  it('compare: exit 143, one line on stderr, no file left', async () => {
    const r = await stopWith('SIGTERM', 'compare', (config) => ['compare', '--config', config, '--pipeline', 'inline,kcompressd']);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toBe('zreclaim: stopped by SIGTERM; the runs were stopped and the engines closed\n');
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);

  it('sweep: exit 143, the points finished so far named, no file left', async () => {
    const r = await stopWith('SIGTERM', 'sweep', (config, dir) => ['sweep', '--config', config, '--pipeline', 'inline,kcompressd', '--out', join(dir, 'sweep.jsonl')]);
    expect(r.code, r.stderr).toBe(143);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^zreclaim: stopped by SIGTERM; 0 points finished and written to .*sweep\.jsonl; rerun the same command to resume$/);
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);

  it('gate: exit 143, nothing judged or written, no file left', async () => {
    const r = await stopWith('SIGTERM', 'gate', (config, dir) => {
      const scenarios = join(dir, 'gate', 'scenarios');
      mkdirSync(scenarios, { recursive: true });
      const { duration: _d, ...fixed } = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
      writeFileSync(
        join(scenarios, 'marker-run.json'),
        JSON.stringify({
          schema: 'zreclaim.gate-scenario/v1',
          name: 'marker-run',
          description: 'test only: a zswap run whose workload writes a marker',
          kind: 'run',
          config: { ...fixed, duration: 600 },
          runs: { full: 1, short: 1 },
          metrics: [{ name: 'm', description: 'test only', numerator: 'latency.alloc_stall.p99', denominator: 'latency.compress.p99', better: 'smaller' }],
        }),
      );
      return ['gate', '--dir', join(dir, 'gate'), '--short', '--update'];
    });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toBe('zreclaim: stopped by SIGTERM; the scenarios were stopped and the engines closed; nothing was judged or written\n');
    expect(existsSync(join(r.dir, 'gate', 'baseline.json'))).toBe(false);
    expect(readdirSync(r.tmp)).toEqual([]);
  }, 180_000);
});
