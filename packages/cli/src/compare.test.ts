/**
 * `zreclaim compare`, spawned as built (tsc -b first). Tiny arenas, half-second runs, two
 * variants: each spawn stays within a few seconds on 2 cores.
 */
import { describe, expect, it } from 'vitest';
import { expectOneLine, zreclaim } from './testing/spawn.js';
import { CompareResultSchema, type CompareRun } from './compare-schema.js';
import { METRICS, median, runProblems, summarize } from './compare-stats.js';

const SMALL = ['--pages', '1024', '--duration', '0.5', '--apps', '1'];

describe('zreclaim compare', () => {
  it('--json validates, runs the variants interleaved round by round, and its ratios are median ÷ the first median', async () => {
    const r = await zreclaim(['compare', ...SMALL, '--pipeline', 'inline,kcompressd', '--repeat', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const doc = CompareResultSchema.parse(JSON.parse(r.stdout));
    expect(doc.variants.map((v) => v.name)).toEqual(['inline', 'kcompressd']);
    expect(doc.repeat).toBe(2);
    expect(doc.config).toMatchObject({ pages: 1024, duration: 0.5, apps: 1 });
    // Round 1: inline, kcompressd; round 2: inline, kcompressd.
    doc.variants.forEach((v, i) => {
      expect(v.runs.map((run) => run.round)).toEqual([1, 2]);
      expect(v.runs.map((run) => run.order)).toEqual([i, 2 + i]);
      expect(v.runs.every((run) => run.pipeline.name === v.pipeline && run.checks.counters_add_up)).toBe(true);
    });
    const byOrder = doc.variants.flatMap((v) => v.runs).sort((a, b) => a.order - b.order);
    expect(byOrder.map((run) => run.startedAt)).toEqual([...byOrder.map((run) => run.startedAt)].sort());
    const [base, other] = doc.variants;
    expect(doc.ratios).toHaveLength(1);
    expect(doc.ratios[0]).toMatchObject({ variant: 'kcompressd', baseline: 'inline' });
    for (const m of METRICS) {
      const b = base.medians[m.key];
      const o = other.medians[m.key];
      const want = b === null || o === null || b === 0 ? null : o / b;
      if (want === null) expect(doc.ratios[0].values[m.key], m.key).toBeNull();
      else expect(doc.ratios[0].values[m.key], m.key).toBeCloseTo(want, 12);
    }
    expect(base.medians.pgsteal_anon_per_s).toBe(median(base.runs.map((run) => run.rates.pgsteal_anon_per_s)));
    expect(other.medians.kcompressd_enqueued).toBeGreaterThan(0);
    expect(doc.ok).toBe(true);
  });

  it('prints one table under the kernel names with a ratio column, and names the combinations it skipped', async () => {
    const r = await zreclaim(['compare', ...SMALL, '--pipeline', 'inline,kcompressd', '--codec', 'lz4,zstd', '--repeat', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^zreclaim: skipped inline\/zstd: config\.codec: zstd .*compression workers/)]);
    expect(r.stdout).toMatch(/^zreclaim compare · .* · \d+ cores · node v\d+/);
    expect(r.stdout).toContain('1 run each, interleaved: every round runs inline/lz4 → kcompressd/lz4 → kcompressd/zstd');
    for (const name of ['pgsteal_anon/s', 'pgscan/s', 'allocstall', 'alloc_stall p99 µs', 'kswapd CPU ms', 'compress p50 µs', 'compress_batch p50 µs',
      'ring_wait p99 µs', 'swapin p99 µs', 'writeback_wait p99 µs', 'compression ratio', 'kcompressd_enqueued', 'kcompressd_fifo_full', 'batch_count', 'crashes']) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toContain('vs inline/lz4');
    expect(r.stdout).toMatch(/pgsteal_anon\/s\s+│ ↑ │.*\d+\.\d+×/);
    expect(r.stdout).toContain("checks: every run's counters add up");
  });

  it('a bad pipeline in the list exits 2 with one line naming the pipeline, before any run', async () => {
    const r = await zreclaim(['compare', '--pipeline', 'inline,padata:x']);
    expect(r.code).toBe(2);
    expectOneLine(r, 'config.pipeline', '"padata:x"', '--pipeline');
  });

  it('--repeat 0 exits 2 with one line', async () => {
    const r = await zreclaim(['compare', '--repeat', '0']);
    expect(r.code).toBe(2);
    expectOneLine(r, '--repeat', 'got 0');
  });
});

describe('compare statistics', () => {
  const run = (pgsteal: number, problems: string[] = []): CompareRun =>
    ({
      rates: { pgsteal_anon_per_s: pgsteal, pgscan_per_s: 0, pswpout_per_s: 0, pswpin_per_s: 0, allocstall_per_s: 0 },
      counters: new Proxy({}, { get: () => 0 }),
      latency: new Proxy({}, { get: () => ({ count: 0 }) }),
      kswapd: { busy_ms: 1, pageoutrun: 0 },
      compression_ratio: 2,
      pipeline: { crashes: 0 },
      checks: { counters_add_up: problems.length === 0, mismatches: 0, problems, stored_pages: 0, stored_by_counters: 0 },
    }) as unknown as CompareRun;

  it('medians, min–max and empty histograms', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const s = summarize([run(10), run(30), run(20)]);
    expect(s.medians.pgsteal_anon_per_s).toBe(20);
    expect(s.spread.pgsteal_anon_per_s).toEqual({ median: 20, min: 10, max: 30, runs: 3 });
    expect(s.medians.ring_wait_p50_us).toBeNull();
  });

  it('a run whose counters do not add up is reported with its problem', () => {
    expect(runProblems(run(1))).toEqual([]);
    expect(runProblems(run(1, ['orig_data_size = 1, but 0 pages × 4096 = 0']))).toEqual(['orig_data_size = 1, but 0 pages × 4096 = 0']);
  });
});
