/**
 * `zreclaim sweep`: one run per point of a grid (pipeline × batch × codec × ram) on an
 * otherwise fixed config, each finished point appended to a JSON-lines file. Rerunning the
 * same command resumes (points already in the file are skipped); `--shard i/n` runs a
 * deterministic share of the grid so a CI matrix can spread it over machines, and
 * `zreclaim report` merges the shards' files.
 */
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { CODECS, ConfigError, configHash, createEngine, EngineError, resolveConfig, type Config, type ConfigInput, type Engine, type RunResult } from '@zreclaim/engine/internal';
import { readConfigFile } from '../config-file.js';
import { EXIT, UsageError } from '../errors.js';
import { num, us } from '../format/units.js';
import { abortOnInterrupt, interrupted } from '../interrupt.js';
import { flagFor, parseRam, toConfigInput, type RunFlags } from '../options.js';
import { progressWanted } from '../progress.js';
import { defaultOf } from '../schema.js';
import {
  AXIS_FLAGS,
  axesFromFlags,
  describeSkipped,
  expandGrid,
  MAX_POINTS,
  parseShard,
  readGridFile,
  shardPoints,
  type AxisName,
  type Axes,
  type GridPoint,
  type Shard,
} from '../sweep/grid.js';
import { SWEEP_SCHEMA, SweepOutput, trimResult, type SweepPoint } from '../sweep/points.js';
import { createSweepProgress } from '../sweep/progress.js';
import { addConfigFlags, PIPELINE_HELP, sourced, typedFlags } from './config-flags.js';
import type { Io } from './run.js';

export interface SweepFlags extends RunFlags {
  batch?: string;
  grid?: string;
  out?: string;
  shard?: string;
}

export const SWEEP_SUMMARY_SCHEMA = 'zreclaim.sweep-summary/v1';

export function addSweepCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);
  const grid = 'Grid:';
  const cmd = program
    .command('sweep')
    .description('run every point of a parameter grid (pipeline × batch × codec × ram) on one fixed config; results as JSON lines, resumable, shardable over machines');
  addConfigFlags(cmd, {
    pipeline: new Option('--pipeline <list>', `comma-separated pipelines: ${PIPELINE_HELP} (default: the config's, ${String(defaultOf('pipeline'))})`),
    codec: new Option('--codec <list>', `comma-separated compressors (${CODECS.join(', ')}) (default: the config's, ${String(defaultOf('codec'))})`),
  });
  // The same --ram flag as run's, read here as a list.
  const ram = cmd.options.find((o) => o.long === '--ram');
  if (ram) {
    ram.description = `comma-separated RAM budgets, each pages or a share of --pages, e.g. 50%,75% (default: the config's, ${String(defaultOf('ram'))})`;
    ram.helpGroup(grid);
  }
  for (const o of cmd.options) if (o.long === '--pipeline' || o.long === '--codec') o.helpGroup(grid);
  return cmd
    .addOption(opt('--batch <list>', 'comma-separated batch sizes; combined with each pipeline: kcompressd × 8 → batch:8, padata:2 × 8 → padata:2+batch:8, inline × 8 is no point (default: 1)', grid))
    .addOption(opt('--grid <file>', 'a JSON grid: {"pipeline": [...], "batch": [...], "codec": [...], "ram": [...], "config": {fixed engine config}}; flags override its lists', grid))
    .addOption(opt('--shard <i/n>', "run only shard i of n: the points whose index in the grid's stable order is i−1 modulo n", grid))
    .addOption(opt('--out <file>', 'the JSON-lines file each finished point is appended to (required); points already in it are skipped', 'Output:'))
    .addOption(opt('--json', `print a summary (schema ${SWEEP_SUMMARY_SCHEMA}) as JSON on stdout instead of the table`, 'Output:'))
    .addOption(opt('--quiet', 'no progress and no table; failures still go to stderr and set the exit code', 'Output:'))
    .addHelpText(
      'after',
      `
Every point runs the same fixed config (every flag of zreclaim run, or --config, or the grid
file's "config") with its own pipeline, codec and ram. Points are ordered by a hash of their
key ("pipeline=… codec=… ram=…"), whatever the order of the lists, so every machine given
the same grid computes the same order and the same shards, and each shard gets a mix of
every axis. Combinations that are not a point (inline with a batch, inline with zstd) are
skipped and said once on stderr.

The --out file gets one ${SWEEP_SCHEMA} line per finished point (its key, grid coordinates,
the run's result without per-application figures). Rerun the same command to resume: points
already in the file are skipped. A file holding points of another fixed config is refused.

Progress: a bar with an ETA when stderr is a terminal (and not CI, --json or --quiet);
otherwise one line per finished point on stderr, unless --quiet.

Exit codes: 0 every point ran and its counters add up; 1 a run failed or its checks failed
(the other points still run); 2 bad flag, grid, config or --out file; 130 stopped by SIGINT
(Ctrl-C), 143 by SIGTERM (the finished points are in --out; rerun to resume; a second
signal exits at once).

Examples:
  zreclaim sweep --pipeline inline,kcompressd,padata:2 --batch 1,32 --codec lz4,zstd --ram 50%,70% \\
    --pages 16384 --duration 3 --out sweep.jsonl
  zreclaim sweep --grid grid.json --shard 2/4 --out sweep-2.jsonl     # one machine of four
  zreclaim report sweep-*.jsonl -o sweep.html                          # merge the shards`,
    )
    .action(async (_opts: SweepFlags, c: Command) => {
      done(await sweepCommand(typedFlags<SweepFlags>(c), io));
    });
}

type Obj = Record<string, unknown>;

/** The fixed config, the axes with where each came from, and the sweep's identity. */
interface Plan {
  fixed: Obj;
  axes: Axes;
  sources: Record<AxisName, string>;
  sweep: string;
  durationS: number;
  points: GridPoint[];
  mine: GridPoint[];
  skipped: ReturnType<typeof expandGrid>['skipped'];
  shard: Shard | undefined;
}

const AXIS_CONFIG_FIELDS = ['pipeline', 'codec', 'ram'] as const;

function withoutAxes(o: Obj): Obj {
  const out = { ...o };
  for (const k of AXIS_CONFIG_FIELDS) delete out[k];
  return out;
}

/** A resolved config's hash without the axis fields: the same for every point of one sweep. */
function sweepId(c: Config): string {
  const { pipeline: _p, pipe: _pipe, codec: _c, ram: _r, ramPages: _rp, wmark: _w, ...rest } = c;
  return configHash(rest as unknown as Config);
}

export function planSweep(flags: SweepFlags): Plan {
  const gridFile = flags.grid !== undefined ? readGridFile(flags.grid) : undefined;
  const fromFlags = axesFromFlags(flags);
  const fileBase = flags.config !== undefined ? readConfigFile(flags.config) : {};
  const base: Obj = { ...(gridFile?.config ?? {}), ...fileBase };
  const gridWhere = flags.grid !== undefined ? `--grid ${flags.grid}` : undefined;
  const configWhere = flags.config !== undefined ? `--config ${flags.config}` : gridWhere;

  // The fixed config: every flag but the axes.
  const { pipeline: _p, codec: _c, ram: _r, batch: _b, ...fixedFlags } = flags;
  const fixed = withoutAxes(toConfigInput(fixedFlags, base) as Obj);
  const fail = (e: unknown): never => {
    if (e instanceof ConfigError) {
      const flag = flagFor(e.field, fixedFlags);
      throw flag !== undefined || configWhere === undefined ? sourced(e, fixedFlags) : new UsageError(configWhere, e.message);
    }
    throw e;
  };

  const sources = {} as Record<AxisName, string>;
  const axis = <K extends AxisName>(name: K, fallback: () => Axes[K]): Axes[K] => {
    const given = fromFlags[name] ?? gridFile?.axes[name];
    sources[name] = fromFlags[name] !== undefined ? AXIS_FLAGS[name] : gridFile?.axes[name] !== undefined ? `${gridWhere}: ${name}` : (configWhere ?? 'the default');
    return (given ?? fallback()) as Axes[K];
  };
  const axes: Axes = {
    pipeline: axis('pipeline', () => [String(base.pipeline ?? defaultOf('pipeline'))]),
    batch: axis('batch', () => [1]),
    codec: axis('codec', () => [String(base.codec ?? defaultOf('codec'))]),
    ram: axis('ram', () => [String(base.ram ?? defaultOf('ram'))]),
  };
  const batchGiven = fromFlags.batch !== undefined || gridFile?.axes.batch !== undefined;
  const named = axes.pipeline.find((p) => /batch:/.test(p));
  if (batchGiven && named !== undefined) {
    throw new UsageError(sources.pipeline, `${JSON.stringify(named)} names its batch size and ${sources.batch} gives batch sizes too: list kcompressd or padata:N and let the batch axis add +batch:B`);
  }

  let reference: Config;
  try {
    reference = resolveConfig({ ...fixed, pipeline: 'kcompressd', codec: 'lz4', ram: '50%' });
  } catch (e) {
    return fail(e);
  }
  const refuse = (p: GridPoint): string | undefined => {
    try {
      resolveConfig(pointInput(fixed, p));
      return undefined;
    } catch (e) {
      // A valid codec this pipeline cannot use (zstd needs compression workers): not a point.
      if (e instanceof ConfigError && e.field === 'codec' && (CODECS as readonly unknown[]).includes(e.value)) return e.why;
      if (e instanceof ConfigError && (AXIS_CONFIG_FIELDS as readonly string[]).includes(e.field)) {
        throw new UsageError(sources[e.field as AxisName], e.message);
      }
      return fail(e);
    }
  };
  const { points, skipped } = expandGrid(axes, refuse);
  if (points.length === 0) {
    throw new UsageError(sources.pipeline, `the grid has no point to run: ${describeSkipped(skipped).join('; ')} (add a pipeline with compression workers, e.g. kcompressd)`);
  }
  if (points.length > MAX_POINTS) throw new UsageError(sources.pipeline, `the grid has ${points.length} points, more than ${MAX_POINTS}: split it into several sweeps`);
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  return { fixed, axes, sources, sweep: sweepId(reference), durationS: reference.duration, points, mine: shardPoints(points, shard), skipped, shard };
}

function pointInput(fixed: Obj, p: GridPoint): ConfigInput {
  return { ...fixed, pipeline: p.pipeline, codec: p.params.codec, ram: parseRam(p.params.ram) } as ConfigInput;
}

const label = (p: GridPoint) => `${p.pipeline} · ${p.params.codec} · ram ${p.params.ram}`;

function outcome(r: RunResult): { ok: boolean; line: string } {
  const c = r.checks;
  const ok = c.counters_add_up && c.mismatches === 0;
  const p99 = r.latency.alloc_stall.count > 0 ? `${us(r.latency.alloc_stall.p99)} µs` : '–';
  const line = `pgsteal_anon/s ${num(r.rates.pgsteal_anon_per_s)} · allocstall ${r.counters.allocstall} · alloc_stall p99 ${p99}${ok ? '' : ' · checks FAILED'}`;
  return { ok, line };
}

export async function sweepCommand(flags: SweepFlags, io: Io): Promise<number> {
  if (flags.out === undefined) throw new UsageError('--out', 'give the JSON-lines file the points go to, e.g. --out sweep.jsonl (an existing file is resumed)');
  const plan = planSweep(flags);
  const out = new SweepOutput(flags.out);
  const existing = out.existing();
  const other = existing.points.find((p) => p.sweep !== plan.sweep);
  if (other) {
    throw new UsageError(
      `--out ${flags.out}`,
      `holds points of another sweep (fixed config ${other.sweep}, this one ${plan.sweep}: a flag other than --pipeline, --batch, --codec or --ram differs); give a new --out file, or the same flags to resume it`,
    );
  }
  const doneKeys = new Set(existing.points.map((p) => p.key));
  const todo = plan.mine.filter((p) => !doneKeys.has(p.key));
  const resumed = plan.mine.length - todo.length;
  const shardName = plan.shard ? `${plan.shard.index}/${plan.shard.count}` : null;

  for (const line of describeSkipped(plan.skipped)) io.err(line);
  if (existing.partialTail) io.err(`--out ${flags.out}: dropped a partial last line (an interrupted write); that point runs again`);
  const scope = shardName ? `shard ${shardName}: ${plan.mine.length} of the grid's ${plan.points.length} points` : `${plan.points.length} points`;
  if (resumed > 0 || existing.points.length > 0) io.err(`resuming ${flags.out}: ${resumed} of ${plan.mine.length} points already done, ${todo.length} to run (${scope})`);
  else if (!flags.quiet) io.err(`sweep of ${scope}: ${todo.length} to run, ~${plan.durationS} s each`);

  const mode = flags.quiet ? 'none' : progressWanted(flags) ? 'bar' : 'lines';
  const progress = createSweepProgress(mode, todo.length, plan.durationS, io.err);
  const ac = new AbortController();
  const stopInterrupts = abortOnInterrupt(ac);
  const indexOf = new Map(plan.points.map((p, i) => [p.key, i]));
  const ran: { point: GridPoint; result: RunResult }[] = [];
  const failed: { key: string; error: string }[] = [];
  try {
    for (let i = 0; i < todo.length && !ac.signal.aborted; i++) {
      const p = todo[i];
      progress.start(i, label(p));
      let engine: Engine | undefined;
      try {
        engine = createEngine(pointInput(plan.fixed, p));
        const r = await engine.run({ signal: ac.signal, onProgress: progress.update, progressIntervalMs: 200 });
        if (ac.signal.aborted) break;
        const line: SweepPoint = {
          schema: SWEEP_SCHEMA,
          kind: 'sweep-point',
          sweep: plan.sweep,
          key: p.key,
          params: p.params,
          pipeline: p.pipeline,
          index: indexOf.get(p.key)!,
          grid_size: plan.points.length,
          shard: shardName,
          finishedAt: new Date().toISOString(),
          result: trimResult(r),
        };
        out.append(line);
        ran.push({ point: p, result: r });
        progress.done(i, label(p), outcome(r).line);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        const msg = e instanceof EngineError || e instanceof Error ? e.message : String(e);
        failed.push({ key: p.key, error: msg });
        progress.done(i, label(p), `FAILED: ${msg}`);
      } finally {
        await engine?.close();
      }
    }
  } finally {
    progress.stop();
    out.close();
    stopInterrupts();
  }
  if (ac.signal.aborted) {
    const stop = interrupted(ac.signal, `${ran.length} points finished and written to ${flags.out}; rerun the same command to resume`);
    io.err(stop.line);
    return stop.code;
  }

  const checkFailures = ran.filter((x) => !outcome(x.result).ok).map((x) => x.point.key);
  if (flags.json) {
    const summary = {
      schema: SWEEP_SUMMARY_SCHEMA,
      out: flags.out,
      sweep: plan.sweep,
      shard: shardName,
      grid_size: plan.points.length,
      shard_size: plan.mine.length,
      resumed,
      ran: ran.map((x) => ({ key: x.point.key, pgsteal_anon_per_s: x.result.rates.pgsteal_anon_per_s, ok: outcome(x.result).ok })),
      failed,
      check_failures: checkFailures,
      skipped: plan.skipped,
    };
    await io.out(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (!flags.quiet) {
    await io.out(formatSweep(ran, resumed, flags.out, plan));
  }
  for (const f of failed) io.err(`point failed: ${f.key}: ${f.error}`);
  for (const k of checkFailures) io.err(`checks failed: ${k}`);
  return failed.length > 0 || checkFailures.length > 0 ? EXIT.failed : EXIT.ok;
}

function formatSweep(ran: { point: GridPoint; result: RunResult }[], resumed: number, file: string, plan: Plan): string {
  const t = new Table({
    head: ['pipeline', 'codec', 'ram', 'pgsteal_anon/s', 'allocstall', 'alloc_stall p99 µs', 'checks'],
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
  });
  for (const { point, result: r } of [...ran].sort((a, b) => (a.point.key < b.point.key ? -1 : 1))) {
    t.push([
      point.pipeline,
      point.params.codec,
      point.params.ram,
      num(r.rates.pgsteal_anon_per_s),
      String(r.counters.allocstall),
      r.latency.alloc_stall.count > 0 ? us(r.latency.alloc_stall.p99) : '–',
      outcome(r).ok ? 'ok' : 'FAILED',
    ]);
  }
  const head = `zreclaim sweep · ${plan.points.length} points${plan.shard ? ` · shard ${plan.shard.index}/${plan.shard.count} (${plan.mine.length} points)` : ''} · sweep ${plan.sweep}`;
  const tail = `${ran.length} ran now${resumed > 0 ? `, ${resumed} done before` : ''}; every finished point is in ${file} (zreclaim report ${file} -o report.html)`;
  return `${head}\n${ran.length > 0 ? `${t.toString()}\n` : ''}${tail}\n`;
}
