/**
 * `zreclaim compare`: several pipelines (× codecs) on the same workload, config and seed,
 * R runs each, interleaved (round 1 runs every variant once, then round 2, …) so that drift
 * on a noisy machine hits every variant alike; one table of headline metrics with medians,
 * spreads and ratios to the first variant, or one `zreclaim.compare/v1` document.
 */
import { Command, Option } from 'commander';
import { CODECS, ConfigError, configHash, createEngine, EngineError, environment, type Config, type Engine } from '@zreclaim/engine/internal';
import { COMPARE_SCHEMA, type CompareResult, type CompareRun } from '../compare-schema.js';
import { METRICS, ratio, runProblems, summarize, trimRun } from '../compare-stats.js';
import { readConfigFile } from '../config-file.js';
import { EXIT, UsageError } from '../errors.js';
import { formatCompare } from '../format/compare-table.js';
import { parseInt10, toConfigInput, type RunFlags } from '../options.js';
import { createCompareProgress, progressWanted } from '../progress.js';
import { defaultOf } from '../schema.js';
import { addConfigFlags, PIPELINE_HELP, sourced, typedFlags } from './config-flags.js';
import type { Io } from './run.js';
import { abortOnInterrupt, interrupted } from '../interrupt.js';

export interface CompareFlags extends RunFlags {
  repeat?: string;
}

/** The comparison the design argues about: today's kernel, kcompressd, padata, padata + IAA-style batches. */
export const DEFAULT_PIPELINES = 'inline,kcompressd,padata:2,padata:2+batch:32';
const DEFAULT_REPEAT = 3;
const MAX_REPEAT = 1000;

export function addCompareCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);
  const cmd = program
    .command('compare')
    .description('run several pipelines (and codecs) on the same workload, config and seed, interleaved, and print their medians side by side with ratios to the first');
  return addConfigFlags(cmd, {
    pipeline: new Option('--pipeline <list>', `comma-separated pipelines, the first is the baseline: ${PIPELINE_HELP} (default: ${DEFAULT_PIPELINES})`),
    codec: new Option(
      '--codec <list>',
      `comma-separated compressors (${CODECS.join(', ')}); every pipeline runs with every codec the engine accepts it with (default: ${String(defaultOf('codec'))})`,
    ),
  })
    .addOption(opt('--repeat <n>', `runs of each variant, interleaved round by round; cells show the median [1..${MAX_REPEAT}] (default: ${DEFAULT_REPEAT})`, 'Compare:'))
    .addOption(opt('--json', `print one document (schema ${COMPARE_SCHEMA}) as JSON on stdout, nothing else`, 'Output:'))
    .addOption(opt('--quiet', 'no progress and no table; failures still go to stderr and set the exit code', 'Output:'))
    .addHelpText(
      'after',
      `
Every variant runs with the same config and seed. Rounds are interleaved: round 1 runs each
variant once in the order given, then round 2, and so on, so a machine that drifts (thermal,
a neighbour's load) moves every variant alike. Combinations the engine refuses (inline with
zstd) are skipped and named on stderr. Progress goes to stderr, only when stderr is a
terminal, CI is not set, and neither --json nor --quiet.

Exit codes: 0 every run finished and its counters add up; 1 a run failed, or its counters do
not add up or a read did not match (the table is printed first); 2 bad flag, config or file;
130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM (a second signal exits at once).

Examples:
  zreclaim compare --pipeline inline,kcompressd,padata:2,padata:2+batch:32
  zreclaim compare --pipeline batch:1,batch:8,batch:32 --codec lz4,zstd --repeat 5
  zreclaim compare --pipeline inline,kcompressd --duration 20 --json > compare.json`,
    )
    .action(async (_opts: CompareFlags, c: Command) => {
      done(await compareCommand(typedFlags<CompareFlags>(c), io));
    });
}

const show = (s: string) => JSON.stringify(s);

/** A comma list: no empty names, no repeats. */
function listOf(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(flag, `empty name in the list ${show(raw)} (separate names with commas, e.g. inline,kcompressd)`);
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup !== undefined) throw new UsageError(flag, `${show(dup)} is listed twice`);
  return items;
}

function repeatOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_REPEAT;
  const n = parseInt10('--repeat', raw);
  if (n < 1 || n > MAX_REPEAT) throw new UsageError('--repeat', `expected 1 to ${MAX_REPEAT} runs per variant, got ${n}`);
  return n;
}

interface Planned {
  name: string;
  pipeline: string;
  codec: string;
  flags: CompareFlags;
  engine: Engine;
  runs: CompareRun[];
}

interface Skipped {
  pipeline: string;
  codec: string;
  reason: string;
}

/** One engine per pipeline × codec; the engine's refusal of a combination skips it, any other config error is the user's. */
function plan(flags: CompareFlags): { variants: Planned[]; skipped: Skipped[]; pipelines: string[]; codecs: string[] | undefined } {
  const pipelines = listOf('--pipeline', flags.pipeline ?? DEFAULT_PIPELINES);
  const codecs = flags.codec === undefined ? undefined : listOf('--codec', flags.codec);
  for (const c of codecs ?? []) {
    if (!(CODECS as readonly string[]).includes(c)) throw new UsageError('--codec', `unknown codec ${show(c)} (choose from ${CODECS.join(', ')})`);
  }
  const base = flags.config !== undefined ? readConfigFile(flags.config) : {};
  const variants: Planned[] = [];
  const skipped: Skipped[] = [];
  for (const pipeline of pipelines) {
    for (const codec of codecs ?? [undefined]) {
      const vflags: CompareFlags = { ...flags, pipeline, ...(codec === undefined ? {} : { codec }) };
      let engine: Engine;
      try {
        engine = createEngine(toConfigInput(vflags, base));
      } catch (e) {
        // A valid codec that this pipeline cannot use (zstd needs compression workers).
        if (e instanceof ConfigError && e.field === 'codec' && (CODECS as readonly unknown[]).includes(e.value)) {
          skipped.push({ pipeline, codec: String(e.value), reason: e.message });
          continue;
        }
        void Promise.all(variants.map((v) => v.engine.close()));
        throw e instanceof ConfigError ? sourced(e, vflags) : e;
      }
      const c = engine.config;
      variants.push({ name: codecs !== undefined && codecs.length > 1 ? `${pipeline}/${c.codec}` : pipeline, pipeline, codec: c.codec, flags: vflags, engine, runs: [] });
    }
  }
  if (variants.length === 0) {
    throw new UsageError('--codec', `the engine refuses every pipeline and codec combination given: ${skipped.map((s) => `${s.pipeline}/${s.codec}`).join(', ')} (${skipped[0]?.reason})`);
  }
  return { variants, skipped, pipelines, codecs };
}

export async function compareCommand(flags: CompareFlags, io: Io): Promise<number> {
  const repeat = repeatOf(flags.repeat);
  const { variants, skipped, pipelines, codecs } = plan(flags);
  for (const s of skipped) io.err(`skipped ${s.pipeline}/${s.codec}: ${s.reason}`);
  const first: Config = variants[0].engine.config;
  const { pipeline: _p, codec: _c, pipe: _pipe, ...shared } = first;
  const codecList = codecs ?? [first.codec];
  // The hash names the whole comparison: the shared config with the lists of pipelines and codecs.
  const env = environment(configHash({ ...first, pipeline: pipelines.join(','), codec: codecList.join(',') } as unknown as Config));

  const ac = new AbortController();
  const stopInterrupts = abortOnInterrupt(ac);
  const runs = variants.length * repeat;
  const progress = progressWanted(flags) ? createCompareProgress(runs, repeat, first.duration) : undefined;
  let failure: unknown;
  try {
    let order = 0;
    schedule: for (let round = 1; round <= repeat; round++) {
      for (const v of variants) {
        progress?.startRun(v.name, round, order);
        try {
          const r = await v.engine.run({ signal: ac.signal, onProgress: progress?.update, progressIntervalMs: 200 });
          if (ac.signal.aborted) break schedule;
          v.runs.push(trimRun(r, round, order++));
        } catch (e) {
          failure = e instanceof ConfigError ? sourced(e, v.flags) : e instanceof EngineError ? new EngineError(`${v.name}, round ${round}: ${e.message}`) : e;
          break schedule;
        }
      }
    }
  } finally {
    progress?.stop();
    await Promise.all(variants.map((v) => v.engine.close()));
    stopInterrupts();
  }
  if (ac.signal.aborted) {
    const stop = interrupted(ac.signal, 'the runs were stopped and the engines closed');
    io.err(stop.line);
    return stop.code;
  }
  if (failure !== undefined) throw failure;

  const summarized = variants.map((v) => ({ name: v.name, pipeline: v.pipeline, codec: v.codec, configHash: configHash(v.engine.config), runs: v.runs, ...summarize(v.runs) }));
  const base = summarized[0];
  const failures = summarized.flatMap((v) => v.runs.map((r) => ({ variant: v.name, round: r.round, problems: runProblems(r) })).filter((f) => f.problems.length > 0));
  const doc: CompareResult = {
    schema: COMPARE_SCHEMA,
    kind: 'compare',
    environment: env,
    config: shared,
    pipelines,
    codecs: codecList,
    repeat,
    schedule: 'interleaved',
    metrics: METRICS.map(({ key, label, unit, better }) => ({ key, label, unit, better })),
    variants: summarized,
    skipped,
    ratios: summarized.slice(1).map((v) => ({
      variant: v.name,
      baseline: base.name,
      values: Object.fromEntries(METRICS.map((m) => [m.key, ratio(v.medians[m.key], base.medians[m.key])])),
    })),
    failures,
    ok: failures.length === 0,
  };

  if (flags.json) await io.out(`${JSON.stringify(doc, null, 2)}\n`);
  else if (!flags.quiet) await io.out(formatCompare(doc, first));
  for (const f of failures) io.err(`checks failed: ${f.variant}, round ${f.round}: ${f.problems.join('; ')}`);
  return failures.length > 0 ? EXIT.failed : EXIT.ok;
}
