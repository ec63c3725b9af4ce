/**
 * `zreclaim gate`, spawned as CI runs it, on a tiny scenario written to a temp dir (the
 * committed ones take ~30 s in --short mode): a baseline recorded with --update, an
 * unchanged build passes, an injected compression slowdown (ZRECLAIM_INJECT_COMPRESS_NS:
 * real busy work per page in the engine, not in the bare codec loop) fails naming the
 * engine-over-codec metric, and bad files or flags exit 2 with one line each. No timed
 * assertion: the slowdown is 20 µs per page against ~5 µs of real work, so the ratio falls
 * to a fifth, far past the 30 % fail threshold, whatever speed the machine runs at.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, expectOneLine, type Ran } from './testing/spawn.js';

/** Run the built CLI under CI=true, without the caller's GITHUB_STEP_SUMMARY or ZRECLAIM_* variables unless given. */
function gate(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'gate', ...args], { timeout: 300_000, env: cliEnv(env), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const TINY = {
  schema: 'zreclaim.gate-scenario/v1',
  name: 'tiny-drain',
  description: 'test only: the inline drain against the bare codec loop on 4096 pages',
  kind: 'drain',
  config: { pages: 4096, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, seed: 11, poison: false },
  variants: { inline: { kind: 'drain', config: { pipeline: 'inline' } }, codec: { kind: 'codec-loop' } },
  pairs: { full: 3, short: 3 },
  metrics: [{ name: 'engine_over_codec', numerator: 'inline', denominator: 'codec', better: 'bigger', warn: 0.15, fail: 0.3 }],
};

let dir: string;
let scenarios: string;
let baseline: string;
const write = (file: string, data: unknown) => writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data, null, 2));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zreclaim-gate-'));
  scenarios = join(dir, 'scenarios');
  baseline = join(dir, 'baseline.json');
  mkdirSync(scenarios);
  write(join(scenarios, 'tiny-drain.json'), TINY);
  const r = await gate(['--dir', dir, '--short', '--update']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('tiny-drain/engine_over_codec: ');
  expect(r.stdout).toContain('new');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the gate dir with `edit` applied, for the error cases. */
function variantDir(name: string, edit: (d: string) => void): string {
  const d = join(dir, name);
  cpSync(scenarios, join(d, 'scenarios'), { recursive: true });
  cpSync(baseline, join(d, 'baseline.json'));
  edit(d);
  return d;
}

describe('zreclaim gate', () => {
  it('records a baseline with --update: schema, config hashes, the median and band of the rounds', () => {
    const b = JSON.parse(readFileSync(baseline, 'utf8'));
    expect(b.schema).toBe('zreclaim.gate-baseline/v1');
    expect(b.mode).toBe('short');
    expect(b.rounds).toBe(3);
    const m = b.scenarios['tiny-drain'].metrics.engine_over_codec;
    expect(m.definition).toBe('inline pages/s ÷ codec pages/s, bigger is better');
    expect(m.rounds).toHaveLength(3);
    expect(m.value).toBeGreaterThan(0);
    expect(m.band[0]).toBeLessThanOrEqual(m.value);
    expect(m.band[1]).toBeGreaterThanOrEqual(m.value);
    expect(Object.keys(b.scenarios['tiny-drain'].variants).sort()).toEqual(['codec', 'inline']);
  });

  it('passes an unchanged build (exit 0) and writes the table, JSON, Markdown, step summary and benchmark files', async () => {
    const summary = join(dir, 'step-summary.md');
    write(summary, '# earlier steps\n');
    const md = join(dir, 'gate.md');
    const prefix = join(dir, 'bench');
    // The same scenario and baseline with thresholds no unchanged build misses however busy the
    // host (fail only below 1/20 of the baseline): this test is about the verdict's plumbing.
    const calm = variantDir('calm', (d) => write(join(d, 'scenarios', 'tiny-drain.json'), { ...TINY, metrics: [{ ...TINY.metrics[0], warn: 0.9, fail: 0.95 }] }));
    const r = await gate(['--dir', calm, '--short', '--json', '--markdown', md, '--bench-json', prefix], { GITHUB_STEP_SUMMARY: summary });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const g = JSON.parse(r.stdout);
    expect(g.schema).toBe('zreclaim.gate/v1');
    expect(g.ok).toBe(true);
    expect(g.injectCompressNs).toBe(0);
    expect(g.band).toBe('min–max of the per-round ratios');
    expect(g.metrics).toHaveLength(1);
    expect(g.metrics[0]).toMatchObject({ id: 'tiny-drain/engine_over_codec', better: 'bigger', warn: 0.9, fail: 0.95 });
    expect(g.metrics[0].rounds).toHaveLength(3);
    expect(g.metrics[0].pairs.every((p: number[]) => p.length === 3)).toBe(true);
    const sum = readFileSync(summary, 'utf8');
    expect(sum).toMatch(/^# earlier steps\n### zreclaim gate: PASS/);
    expect(readFileSync(md, 'utf8')).toContain('| tiny-drain/engine_over_codec ↑ |');
    const bigger = JSON.parse(readFileSync(`${prefix}-bigger.json`, 'utf8'));
    expect(bigger).toEqual([expect.objectContaining({ name: 'tiny-drain/engine_over_codec', unit: 'ratio', value: expect.any(Number), range: expect.any(String), extra: expect.any(String) })]);
    expect(JSON.parse(readFileSync(`${prefix}-smaller.json`, 'utf8'))).toEqual([]);
    const bmf = JSON.parse(readFileSync(`${prefix}-bencher.json`, 'utf8'));
    expect(bmf['tiny-drain/engine_over_codec'].ratio).toMatchObject({ value: expect.any(Number), lower_value: expect.any(Number), upper_value: expect.any(Number) });
  });

  it('fails (exit 1) under an injected compression slowdown and names the engine-over-codec metric', async () => {
    const file = join(dir, 'slow.json');
    // 50 µs a page: the drain's ratio to the codec falls by c/(c + 50 µs), to under 0.4 of the
    // baseline for any codec cost c a loaded host shows (4–30 µs), so no round reaches it.
    const r = await gate(['--dir', dir, '--short', '--json-file', file], { ZRECLAIM_INJECT_COMPRESS_NS: '50000' });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const g = JSON.parse(readFileSync(file, 'utf8'));
    expect(g).toMatchObject({ ok: false, injectCompressNs: 50000, regressions: ['tiny-drain/engine_over_codec'] });
    expect(g.metrics[0].verdict).toBe('fail');
    expect(r.stdout).toContain('injected compression slowdown: 50000 ns/page');
    expect(r.stdout).toMatch(/tiny-drain\/engine_over_codec ↑ .*FAIL/);
    expect(r.stdout).toContain('FAIL: regression in tiny-drain/engine_over_codec');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^zreclaim: regression: tiny-drain\/engine_over_codec .* → .* \(−\d+\.\d %, fail threshold 30 %\)$/);
  }, 300_000);

  it('a corrupted baseline exits 2 with one line', async () => {
    const d = variantDir('corrupt', (x) => write(join(x, 'baseline.json'), readFileSync(baseline, 'utf8').slice(0, 120)));
    const r = await gate(['--dir', d, '--short']);
    expect(r.code).toBe(2);
    expectOneLine(r, 'baseline.json', 'corrupted baseline: not valid JSON', '--update');
    const d2 = variantDir('corrupt-value', (x) => {
      const b = JSON.parse(readFileSync(baseline, 'utf8'));
      b.scenarios['tiny-drain'].metrics.engine_over_codec.value = 'fast';
      write(join(x, 'baseline.json'), b);
    });
    const r2 = await gate(['--dir', d2, '--short']);
    expect(r2.code).toBe(2);
    expectOneLine(r2, 'corrupted baseline: scenarios.tiny-drain.metrics.engine_over_codec.value');
  });

  it('a baseline from another schema version exits 2', async () => {
    const d = variantDir('old-schema', (x) => write(join(x, 'baseline.json'), { ...JSON.parse(readFileSync(baseline, 'utf8')), schema: 'zreclaim.gate-baseline/v0' }));
    const r = await gate(['--dir', d]);
    expect(r.code).toBe(2);
    expectOneLine(r, 'baseline schema "zreclaim.gate-baseline/v0" is not zreclaim.gate-baseline/v1', '--update');
  });

  it('an unknown scenario asked for, a scenario missing from the files or from the baseline exit 2', async () => {
    const r = await gate(['--dir', dir, '--scenario', 'nope']);
    expect(r.code).toBe(2);
    expectOneLine(r, '--scenario', 'unknown scenario "nope"', 'tiny-drain');
    const gone = variantDir('gone', (x) => rmSync(join(x, 'scenarios', 'tiny-drain.json')));
    write(join(gone, 'scenarios', 'other.json'), { ...TINY, name: 'other' });
    const r2 = await gate(['--dir', gone]);
    expect(r2.code).toBe(2);
    expectOneLine(r2, 'the baseline has scenario "tiny-drain" but no scenario file defines it');
    const extra = variantDir('extra', (x) => write(join(x, 'scenarios', 'other.json'), { ...TINY, name: 'other' }));
    const r3 = await gate(['--dir', extra, '--scenario', 'other']);
    expect(r3.code).toBe(2);
    expectOneLine(r3, 'scenario "other" is not in the baseline');
  });

  it('a scenario whose config changed since the baseline exits 2', async () => {
    const d = variantDir('changed', (x) => write(join(x, 'scenarios', 'tiny-drain.json'), { ...TINY, config: { ...TINY.config, seed: 12 } }));
    const r = await gate(['--dir', d]);
    expect(r.code).toBe(2);
    expectOneLine(r, 'the workload/config of scenario "tiny-drain"', 'changed since the baseline', '--update');
  });

  it('a bad threshold exits 2: not a number, negative, fail below warn (file or flag)', async () => {
    const metric = (m: object) => (x: string) => write(join(x, 'scenarios', 'tiny-drain.json'), { ...TINY, metrics: [{ ...TINY.metrics[0], ...m }] });
    const cases: [object, string][] = [
      [{ fail: 'lots' }, '"lots" is not a threshold'],
      [{ warn: -0.1 }, 'threshold -0.1 is negative'],
      [{ warn: '40%', fail: '30%' }, 'fail threshold 30 % is below the warn threshold 40 %'],
    ];
    for (const [i, [m, msg]] of cases.entries()) {
      const r = await gate(['--dir', variantDir(`threshold-${i}`, metric(m))]);
      expect(r.code, msg).toBe(2);
      expectOneLine(r, 'tiny-drain.json', msg);
    }
    const r = await gate(['--dir', dir, '--warn', 'ten']);
    expect(r.code).toBe(2);
    expectOneLine(r, '--warn', '"ten" is not a threshold');
  });

  it('a missing baseline, a bad injection value or a bad --rounds exit 2', async () => {
    const d = variantDir('no-baseline', (x) => rmSync(join(x, 'baseline.json')));
    const r = await gate(['--dir', d]);
    expect(r.code).toBe(2);
    expectOneLine(r, 'no baseline here', 'zreclaim gate --update');
    expect(existsSync(join(d, 'baseline.json'))).toBe(false);
    const r2 = await gate(['--dir', dir], { ZRECLAIM_INJECT_COMPRESS_NS: '5us' });
    expect(r2.code).toBe(2);
    expectOneLine(r2, 'ZRECLAIM_INJECT_COMPRESS_NS must be a whole number');
    const r3 = await gate(['--dir', dir, '--rounds', '0']);
    expect(r3.code).toBe(2);
    expectOneLine(r3, '--rounds', 'expected 1 to 100');
  });
});
