// The API a load test is written against: `await using`, run({ workload, signal, onProgress }),
// drain({ signal }) and defineWorkload. No wall-clock bound: every abort is triggered by
// what the run reports (a progress call) or lands before work that cannot be done by then.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { defineWorkload, type PageApi, type WorkloadContext } from '@zreclaim/workloads';
import { createEngine, type Engine, type RunResult } from './index.js';
import { trackEngines } from './testing/engines.js';

const tracked = trackEngines();

/** OS threads of this process (each worker thread is one). */
const threads = () => readdirSync('/proc/self/task').length;

const small = { pages: 2048, ram: '60%', duration: 0.5, seed: 3 } as const;
const writer = fileURLToPath(new URL('../dist/testing/writer-workload.js', import.meta.url));

function expectSound(r: RunResult): void {
  expect(r.checks.problems).toEqual([]);
  expect(r.checks.counters_add_up).toBe(true);
  expect(r.checks.mismatches).toBe(0);
}

describe('await using', () => {
  it('closes the engine at the end of its scope: its threads exit and it refuses to run again', async () => {
    let outer: Engine;
    let warm: number;
    let close: ReturnType<typeof vi.spyOn>;
    {
      await using engine = createEngine({ ...small, apps: 2 });
      outer = engine;
      close = vi.spyOn(engine, 'close');
      expectSound(await engine.run());
      // The application threads stay warm for the next run until the engine is closed.
      warm = threads();
      expect(close).not.toHaveBeenCalled();
    }
    expect(close).toHaveBeenCalledTimes(1);
    expect(threads()).toBeLessThanOrEqual(warm - 2);
    await expect(outer.run()).rejects.toThrow(/engine is closed/);
    await expect(outer.drain()).rejects.toThrow(/engine is closed/);
  });

  it('closes the engine when its scope throws, and the error goes on', async () => {
    let outer: Engine | undefined;
    const scope = async () => {
      await using engine = createEngine(small);
      outer = engine;
      throw new Error('the load test failed');
    };
    await expect(scope()).rejects.toThrow('the load test failed');
    await expect(outer!.run()).rejects.toThrow(/engine is closed/);
  });
});

describe('run(options)', () => {
  it('runs options.workload instead of the config one', async () => {
    const engine = tracked({ ...small, apps: 2, ram: '40%', duration: 30, content: { kind: 'text' } });
    expect(engine.config.workload.kind).toBe('usemem');
    const r = await engine.run({ workload: { kind: 'module', module: writer, params: { rounds: 3 } } });
    expect(r.config.workload).toMatchObject({ kind: 'module', params: { rounds: 3 } });
    // The writer reads every page `rounds` times; usemem's reads are random.
    expect(r.apps.map((a) => a.reads)).toEqual(r.apps.map((a) => a.pages * 3));
    expect(r.counters.pswpin).toBeGreaterThan(0);
    expectSound(r);
  });

  it('stops on signal: an abort from the first progress call ends a 60 s run with ended "aborted"', async () => {
    const engine = tracked({ ...small, apps: 2, duration: 60 });
    const ac = new AbortController();
    let calls = 0;
    const r = await engine.run({
      signal: ac.signal,
      progressIntervalMs: 50,
      onProgress: () => {
        calls++;
        ac.abort();
      },
    });
    expect(calls).toBeGreaterThan(0);
    expect(r.ended).toBe('aborted');
    expectSound(r);
  });
});

describe('drain(options)', () => {
  // 0.2 ms of injected work per page: a drain of ~2000 pages cannot end before a timer of a
  // few milliseconds fires (kswapd yields every 64 pages, so the timer is not held back).
  const slow = { pages: 4096, inject: { compressSpinNs: 200_000 } } as const;

  it('rejects with an AbortError when aborted mid-drain, and the engine drains again afterwards', async () => {
    const engine = tracked({ ...slow, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 5);
    await expect(engine.drain({ signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    // Nothing is left running or held: a whole drain follows on the same engine.
    const d = await engine.drain();
    expect(d.pages).toBeGreaterThan(1500);
    expect(d.counters.pswpout).toBe(d.pages);
  });

  it('rejects with the caller’s abort reason through a compression-worker pipeline, and the engine stays usable', async () => {
    const engine = tracked({ pages: 2048, pipeline: 'kcompressd' });
    const ac = new AbortController();
    const reason = new Error('load test cancelled');
    const drained = engine.drain({ signal: ac.signal });
    ac.abort(reason);
    await expect(drained).rejects.toBe(reason);
    const d = await engine.drain();
    expect(d.pages).toBeGreaterThan(800);
    expect(d.counters.pswpout).toBe(d.pages);
    expect(d.pipeline.workers).toBe(1);
  });

  it('refuses at once when the signal is already aborted', async () => {
    const engine = tracked({ pages: 2048 });
    await expect(engine.drain({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const d = await engine.drain();
    expect(d.pages).toBeGreaterThan(800);
  });
});

describe('defineWorkload', () => {
  it('returns the very function it is given, typed as a Workload', () => {
    const fn = async (api: PageApi, ctx: WorkloadContext) => {
      api.map(ctx.appId - 1);
    };
    expect(defineWorkload(fn)).toBe(fn);
    const typed = defineWorkload<{ rounds?: number }>((_api, ctx) => {
      // ctx.params is typed by the type argument.
      const rounds: number | undefined = ctx.params.rounds;
      void rounds;
    });
    expect(typeof typed).toBe('function');
  });

  it('a workload module written with it runs (the testing writer workload)', async () => {
    const mod = (await import(writer)) as { default: unknown };
    expect(typeof mod.default).toBe('function');
    const r = await tracked({ ...small, apps: 1, ram: '40%', duration: 30, content: { kind: 'text' }, workload: { kind: 'module', module: writer, params: { rounds: 1 } } }).run();
    expect(r.apps[0].reads).toBe(r.apps[0].pages);
    expect(r.counters.pswpin).toBeGreaterThan(0);
    expectSound(r);
  });
});
