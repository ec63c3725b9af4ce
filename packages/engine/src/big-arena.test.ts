/**
 * Arenas of 2 GiB and 4 GiB (the largest one typed array holds on Node 20) run end to end,
 * every page offset past 2^31: the workload uses only the top pages of the arena, so the
 * run commits a few megabytes (a fresh SharedArrayBuffer is zero pages mapped on first
 * touch) and the RAM budget is small, so those pages are reclaimed, stored, written back
 * (zswap) and faulted in again, with every read checked against its checksum. And a config
 * past 4 GiB is refused by the schema, naming pages, the value and the limit.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, createEngine, resolveConfig } from './index.js';
import { MAX_ARENA_BYTES, maxPages } from './config.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

const TOP = fileURLToPath(new URL('../dist/testing/top-pages-workload.js', import.meta.url));

describe('a 4 GiB arena (its top pages past 2^31)', () => {
  const cases = [
    { pages: 2 ** 20, store: 'zram', pipeline: 'kcompressd' },
    { pages: 2 ** 20, store: 'zswap', pipeline: 'inline' },
  ] as const;
  for (const { pages, store, pipeline } of cases) {
    it(`${pages} pages of 4 KiB (${(pages * 4096) / 2 ** 30} GiB), ${store}, ${pipeline}: pages past 2^31 are reclaimed and read back intact`, async () => {
      const engine = newEngine({
        pages,
        ram: 2048,
        apps: 1,
        duration: 1,
        pipeline,
        store: { mode: store, maxPoolPercent: 10 },
        workload: { kind: 'module', module: TOP, params: { count: 4096 } },
      });
      const r = await engine.run();
      expect(r.checks.problems).toEqual([]);
      expect(r.checks.mismatches).toBe(0);
      expect(r.checks.verified).toBeGreaterThanOrEqual(4096);
      expect(r.counters.pswpout).toBeGreaterThan(0);
      expect(r.counters.pswpin).toBeGreaterThan(0);
      if (store === 'zswap') expect(r.counters.written_back_pages).toBeGreaterThan(0);
    }, 180_000);
  }
});

describe('the arena limit', () => {
  it('is 4 GiB: 1048576 pages of 4 KiB (and no more pages of smaller ones), 65536 of 64 KiB', () => {
    expect(MAX_ARENA_BYTES).toBe(2 ** 32);
    expect(maxPages(4096)).toBe(1_048_576);
    expect(resolveConfig({ pages: 1_048_576 }).pages).toBe(1_048_576);
    expect(resolveConfig({ pages: 1_048_576, pageSize: 512 }).pages).toBe(1_048_576);
    expect(resolveConfig({ pages: 65_536, pageSize: 65_536 }).pages).toBe(65_536);
  });

  for (const [input, msg] of [
    [{ pages: 1_048_577 }, /^config\.pages: pages must be ≤ 1048576 \(an arena of 4 GiB of 4 KiB pages, one typed array at most\) \(got 1048577\)$/],
    [{ pages: 2_000_000 }, /^config\.pages: pages must be ≤ 1048576 .* \(got 2000000\)$/],
    [{ pages: 524_289, pageSize: 8192 }, /^config\.pages: the arena \(pages × pageSize = 4 GiB\) must fit one typed array of at most 4 GiB: with 8192-byte pages give at most 524288 pages \(got 524289\)$/],
    [{ pages: 65_537, pageSize: 65_536 }, /^config\.pages: .* with 65536-byte pages give at most 65536 pages \(got 65537\)$/],
    [{ pages: 1_048_577, pageSize: 512 }, /^config\.pages: pages must be ≤ 1048576 \(an arena of 4 GiB of 4 KiB pages, one typed array at most\) \(got 1048577\)$/],
  ] as const) {
    it(`refuses ${JSON.stringify(input)}, naming pages, the value and the limit`, () => {
      let err: unknown;
      try {
        resolveConfig(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('pages');
      expect((err as ConfigError).message).toMatch(msg);
      // The API refuses it too, before any memory is taken.
      expect(() => createEngine(input)).toThrow(ConfigError);
    });
  }
});
