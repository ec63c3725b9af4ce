// The injected compression slowdown (inject.compressSpinNs, ZRECLAIM_INJECT_COMPRESS_NS): busy
// work on every compressed page, wherever it is compressed, that the gate must catch.
import { describe, expect, it } from 'vitest';
import { ConfigError, configHash, resolveConfig, withEnvInjection } from './internal.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

const SPIN = 20_000;
// Histogram buckets are log-linear: a bucket's lower bound is within 1/32 of the values in it.
const AT_LEAST = SPIN * (1 - 1 / 32);
const small = { pages: 1024, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false } as const;

describe('inject.compressSpinNs', () => {
  it('is absent by default, so configs written before it keep their hash', () => {
    const c = resolveConfig({ pages: 2048 });
    expect('compressSpinNs' in c.inject).toBe(false);
    expect(configHash(c)).toBe(configHash(resolveConfig({ pages: 2048, inject: {} })));
    expect(configHash(c)).not.toBe(configHash(resolveConfig({ pages: 2048, inject: { compressSpinNs: 1 } })));
  });

  it('comes from ZRECLAIM_INJECT_COMPRESS_NS unless the config sets it; a bad value names the variable', () => {
    expect(withEnvInjection({ pages: 2048 }, {})).toEqual({ pages: 2048 });
    expect(withEnvInjection({ pages: 2048 }, { ZRECLAIM_INJECT_COMPRESS_NS: '5000' })).toEqual({ pages: 2048, inject: { compressSpinNs: 5000 } });
    expect(withEnvInjection({ inject: { compressSpinNs: 7 } }, { ZRECLAIM_INJECT_COMPRESS_NS: '5000' })).toEqual({ inject: { compressSpinNs: 7 } });
    expect(() => withEnvInjection({}, { ZRECLAIM_INJECT_COMPRESS_NS: '5us' })).toThrow(ConfigError);
    expect(() => withEnvInjection({}, { ZRECLAIM_INJECT_COMPRESS_NS: '5us' })).toThrow(/ZRECLAIM_INJECT_COMPRESS_NS must be a whole number/);
    expect(() => resolveConfig({ inject: { compressSpinNs: -1 } })).toThrow(/compressSpinNs must be ≥ 0/);
  });

  it('makes every page kswapd compresses inline take at least that long', async () => {
    const engine = newEngine({ ...small, inject: { compressSpinNs: SPIN } });
    const d = await engine.drain();
    expect(d.latency.compress.count).toBeGreaterThan(100);
    expect(d.latency.compress.min).toBeGreaterThanOrEqual(AT_LEAST);
  });

  it('makes every page a compression worker compresses take at least that long', async () => {
    const engine = newEngine({ ...small, pipeline: 'kcompressd', kswapd: { onFull: 'wait' }, inject: { compressSpinNs: SPIN } });
    const d = await engine.drain();
    expect(d.counters.kcompressd_enqueued).toBeGreaterThan(100);
    expect(d.latency.compress.count).toBeGreaterThan(100);
    expect(d.latency.compress.min).toBeGreaterThanOrEqual(AT_LEAST);
  });

  it('slows direct reclaim too (the store compresses for the application thread)', async () => {
    const engine = newEngine({ pages: 1024, ram: '50%', apps: 1, duration: 0.3, kswapd: { enabled: false }, inject: { compressSpinNs: SPIN } });
    const r = await engine.run();
    expect(r.counters.pgsteal_direct).toBeGreaterThan(0);
    expect(r.latency.compress.min).toBeGreaterThanOrEqual(AT_LEAST);
    expect(r.checks.counters_add_up).toBe(true);
  });
});
