/**
 * The gate's measurements. Every figure a metric compares is measured in the same round as
 * its reference, on the same machine, moments apart:
 *
 * - a drain scenario runs its variants pair by pair: in each pair every variant once (an
 *   engine drain through its pipeline, or the bare codec loop over the same pages on this
 *   thread), the order reversed every other pair; a metric's pair ratio is one variant's
 *   pages/s over another's in that pair, and a round's ratio is the median of its pairs;
 * - a run scenario runs the reclaim run R times per round; a metric is the ratio of two
 *   figures of the same run (e.g. alloc_stall p99 ÷ compress p99), a round's the median.
 *
 * Rounds are interleaved across scenarios (round 1 of every scenario, then round 2, …), so
 * drift on a noisy machine hits every scenario alike. Engines are created once and kept warm
 * (their worker threads) for every round; each variant runs once before round 1, unrecorded,
 * and a drain scenario starts every round with one more unrecorded pair. On 2-vCPU machines
 * a single-threaded loop runs at two speeds depending on the other vCPU's load: short pairs
 * and medians keep a pair whose halves landed in different modes from moving the result.
 */
import { createCodec, createEngine, EngineError, settleHeap, type Config, type Engine, type RunResult } from '@zreclaim/engine/internal';
import { createContentSource } from '@zreclaim/workloads';
import { median } from '../compare-stats.js';
import type { LoadedScenario, LoadedVariant } from './load.js';

/** What one scenario measured: per metric, the pair (or run) ratios of each round. */
export interface ScenarioMeasure {
  scenario: LoadedScenario;
  /** metric name → rounds → pair ratios */
  ratios: Map<string, number[][]>;
  /** Wall time spent on this scenario (warm-up included). */
  seconds: number;
}

export interface MeasureOptions {
  rounds: number;
  mode: 'full' | 'short';
  /** Called before each scenario's round (for progress). */
  onStep?: (step: number, steps: number, scenario: string, round: number) => void;
  /**
   * Stops the measurement: the engines are closed at once (which stops a drain or run in
   * flight, so the step in flight rejects) and no further step starts.
   */
  signal?: AbortSignal;
}

/** The bare codec loop over the same pages the drain fills (page p at version 1). */
class CodecLoop {
  private readonly bytes: Buffer;
  private readonly codec;
  private readonly scratch: Buffer;

  constructor(private readonly c: Config) {
    const ps = c.pageSize;
    this.bytes = Buffer.alloc(c.pages * ps);
    const content = createContentSource(c.content, ps, c.seed);
    for (let p = 0; p < c.pages; p++) content.fill(this.bytes, p * ps, ps, p, 1);
    this.codec = createCodec(c.codec, ps);
    this.scratch = Buffer.allocUnsafeSlow(ps + 64);
  }

  /** Compress the first `pages` pages; pages/s. */
  run(pages: number): number {
    const codec = this.codec;
    if (!codec.sync) throw new EngineError(`the codec loop needs a synchronous codec, not ${codec.name}`);
    const ps = this.c.pageSize;
    const bytes = this.bytes;
    const n = Math.min(pages, this.c.pages);
    let sink = 0;
    const t0 = performance.now();
    if (codec.compressOwned) {
      for (let p = 0; p < n; p++) sink += codec.compressOwned(bytes, p * ps, ps).length;
    } else {
      for (let p = 0; p < n; p++) sink += codec.compress(bytes, p * ps, ps, this.scratch);
    }
    const secs = (performance.now() - t0) / 1000;
    if (sink === 0) throw new EngineError('the codec loop compressed nothing');
    return n / secs;
  }
}

interface Runner {
  warmup(): Promise<void>;
  round(reps: number): Promise<Map<string, number[]>>;
  close(): Promise<void>;
}

function drainRunner(s: LoadedScenario): Runner {
  const engines = new Map<string, Engine>();
  const loops = new Map<string, CodecLoop>();
  const closeAll = () => Promise.all([...engines.values()].map((e) => e.close()));
  try {
    for (const v of s.variants) {
      if (v.kind === 'drain') engines.set(v.name, createEngine(v.input));
    }
  } catch (e) {
    void closeAll();
    throw e;
  }
  // Pages a drain reclaims: the codec loop compresses as many (the first ones, as the CLOCK hand takes them).
  let lastReclaimed = 0;
  const one = async (v: LoadedVariant): Promise<number> => {
    // Garbage between timed phases (lz4-napi's Buffer per page and its finalizer): collected here.
    await settleHeap();
    if (v.kind === 'codec-loop') {
      let loop = loops.get(v.name);
      if (!loop) loops.set(v.name, (loop = new CodecLoop(v.config)));
      return loop.run(lastReclaimed > 0 ? lastReclaimed : Math.floor(v.config.pages * 0.49));
    }
    const d = await engines.get(v.name)!.drain();
    lastReclaimed = d.pages;
    return d.pagesPerSec;
  };
  const drainsFirst = [...s.variants].sort((a, b) => (a.kind === 'drain' ? 0 : 1) - (b.kind === 'drain' ? 0 : 1));
  return {
    async warmup() {
      for (const v of drainsFirst) await one(v);
    },
    async round(pairs) {
      const out = new Map<string, number[]>(s.metrics.map((m) => [m.name, []]));
      // One unrecorded pair first: the round follows other scenarios' work (threads, garbage, caches).
      for (const v of s.variants) await one(v);
      for (let p = 0; p < pairs; p++) {
        const order = p % 2 === 0 ? s.variants : [...s.variants].reverse();
        const rate = new Map<string, number>();
        for (const v of order) rate.set(v.name, await one(v));
        for (const m of s.metrics) out.get(m.name)!.push(rate.get(m.numerator)! / rate.get(m.denominator)!);
      }
      return out;
    },
    close: async () => {
      await closeAll();
    },
  };
}

/** A run figure: latency.<name>.<p>, rates.<name> or counters.<name>. */
function figure(r: RunResult, path: string): number {
  const [kind, name, p] = path.split('.');
  if (kind === 'latency') {
    const h = r.latency[name as keyof RunResult['latency']] as unknown as Record<string, number>;
    return h.count > 0 ? h[p] : 0;
  }
  if (kind === 'rates') return (r.rates as Record<string, number>)[name];
  return (r.counters as Record<string, number>)[name];
}

function runRunner(s: LoadedScenario): Runner {
  const v = s.variants[0];
  const engine = createEngine(v.input);
  const runOnce = async (round: string): Promise<RunResult> => {
    const r = await engine.run();
    if (!r.checks.counters_add_up || r.checks.mismatches > 0) {
      throw new EngineError(`scenario ${s.name}, ${round}: the run's checks failed: ${r.checks.problems.join('; ') || `${r.checks.mismatches} reads did not match`}`);
    }
    return r;
  };
  return {
    async warmup() {
      await runOnce('warm-up');
    },
    async round(runs) {
      const out = new Map<string, number[]>(s.metrics.map((m) => [m.name, []]));
      for (let i = 0; i < runs; i++) {
        const r = await runOnce(`run ${i + 1}`);
        for (const m of s.metrics) {
          const num = figure(r, m.numerator);
          const den = figure(r, m.denominator);
          if (!(den > 0)) throw new EngineError(`scenario ${s.name}, metric ${m.name}: ${m.denominator} is 0 in a run (the event never happened), so the ratio is undefined; make the scenario's pressure higher`);
          out.get(m.name)!.push(num / den);
        }
      }
      return out;
    },
    close: () => engine.close(),
  };
}

/** Run every scenario's rounds, interleaved; engines are closed whatever happens. */
export async function measure(scenarios: LoadedScenario[], opts: MeasureOptions): Promise<ScenarioMeasure[]> {
  const runners: Runner[] = [];
  const results: ScenarioMeasure[] = scenarios.map((scenario) => ({ scenario, ratios: new Map(scenario.metrics.map((m) => [m.name, []])), seconds: 0 }));
  const signal = opts.signal;
  const stop = () => runners.forEach((r) => void r.close().catch(() => undefined));
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (const s of scenarios) runners.push(s.kind === 'drain' ? drainRunner(s) : runRunner(s));
    const steps = scenarios.length * (opts.rounds + 1);
    let step = 0;
    const timed = async (i: number, f: () => Promise<void>) => {
      const t0 = performance.now();
      await f();
      results[i].seconds += (performance.now() - t0) / 1000;
    };
    for (let i = 0; i < scenarios.length && !signal?.aborted; i++) {
      opts.onStep?.(step++, steps, scenarios[i].name, 0);
      await timed(i, () => runners[i].warmup());
    }
    for (let round = 1; round <= opts.rounds && !signal?.aborted; round++) {
      for (let i = 0; i < scenarios.length && !signal?.aborted; i++) {
        const s = scenarios[i];
        opts.onStep?.(step++, steps, s.name, round);
        await timed(i, async () => {
          const got = await runners[i].round(s.reps[opts.mode]);
          for (const [name, ratios] of got) results[i].ratios.get(name)!.push(ratios);
        });
      }
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    await Promise.all(runners.map((r) => r.close().catch(() => undefined)));
  }
  return results;
}

/** A round's ratio: the median of its pairs (or runs). */
export function roundRatio(pairs: number[]): number {
  return median(pairs);
}
