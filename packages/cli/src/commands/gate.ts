/**
 * `zreclaim gate`: the CI performance gate. Runs the committed scenarios (bench/gate/
 * scenarios/*.json) R rounds each, interleaved, measures each metric as a ratio of two
 * figures taken side by side in the same round (so a slower or faster machine is not a
 * change), and compares the median with the committed baseline (bench/gate/baseline.json).
 * Exit 0 pass (warnings allowed), 1 regression (named on stderr), 2 bad flag or file, 130/143
 * stopped by SIGINT/SIGTERM.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { environment, withEnvInjection } from '@zreclaim/engine/internal';
import { EXIT, UsageError } from '../errors.js';
import { abortOnInterrupt, interrupted } from '../interrupt.js';
import { parseInt10 } from '../options.js';
import { progressWanted } from '../progress.js';
import { judge } from '../gate/judge.js';
import { checkAgainstBaseline, DEFAULT_FAIL, DEFAULT_WARN, loadBaseline, loadScenarios, parseThreshold, selectScenarios, type LoadedScenario } from '../gate/load.js';
import { measure, roundRatio } from '../gate/measure.js';
import { bencherJson, benchmarkJson, formatGate, markdownGate, updateLines, verdictLine } from '../gate/report.js';
import { BAND_METHOD, BASELINE_SCHEMA, GATE_SCHEMA, type Baseline, type GateResult, type MetricResult } from '../gate/schema.js';
import type { Io } from './run.js';

export interface GateFlags {
  dir?: string;
  scenarios?: string;
  baseline?: string;
  scenario?: string;
  rounds?: string;
  short?: boolean;
  warn?: string;
  fail?: string;
  update?: boolean;
  json?: boolean;
  quiet?: boolean;
  markdown?: string;
  jsonFile?: string;
  benchJson?: string;
}

const DEFAULT_DIR = 'bench/gate';
const DEFAULT_ROUNDS = 5;
const SHORT_ROUNDS = 3;
const MAX_ROUNDS = 100;

export function addGateCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);
  return program
    .command('gate')
    .description('CI performance gate: run the committed scenarios and compare ratios measured side by side with the committed baseline')
    .addOption(opt('--dir <dir>', `gate directory with scenarios/ and baseline.json (default: ${DEFAULT_DIR}, relative to the current directory)`, 'Files:'))
    .addOption(opt('--scenarios <dir>', 'directory of scenario files (default: DIR/scenarios)', 'Files:'))
    .addOption(opt('--baseline <file>', 'baseline file (default: DIR/baseline.json)', 'Files:'))
    .addOption(opt('--scenario <list>', 'run only these scenarios (comma-separated names)', 'Run:'))
    .addOption(opt('--rounds <n>', `rounds per scenario, interleaved across scenarios [1..${MAX_ROUNDS}] (default: ${DEFAULT_ROUNDS}, --short: ${SHORT_ROUNDS})`, 'Run:'))
    .addOption(opt('--short', `short mode for quick CI checks: ${SHORT_ROUNDS} rounds and each scenario's short number of pairs/runs per round`, 'Run:'))
    .addOption(opt('--warn <threshold>', `default warn threshold: how much worse than the baseline, as 0.1 or "10%" (default: ${DEFAULT_WARN * 100}%; a scenario file may set its own)`, 'Run:'))
    .addOption(opt('--fail <threshold>', `default fail threshold, as --warn (default: ${DEFAULT_FAIL * 100}%, or the warn threshold when that is higher; a scenario file may set its own; must be ≥ warn)`, 'Run:'))
    .addOption(opt('--update', 'record a new baseline from this run (rewrites the baseline file) and print what changed', 'Run:'))
    .addOption(opt('--json', `print the result (schema ${GATE_SCHEMA}) as JSON on stdout, nothing else`, 'Output:'))
    .addOption(opt('--quiet', 'no progress and no table; a regression still goes to stderr and sets the exit code', 'Output:'))
    .addOption(opt('--json-file <file>', `also write the result (schema ${GATE_SCHEMA}) to FILE, whatever stdout shows`, 'Output:'))
    .addOption(opt('--markdown <file>', 'write the Markdown summary to FILE (it is also appended to $GITHUB_STEP_SUMMARY when that is set)', 'Output:'))
    .addOption(opt('--bench-json <prefix>', 'write PREFIX-bigger.json and PREFIX-smaller.json (github-action-benchmark customBiggerIsBetter / customSmallerIsBetter) and PREFIX-bencher.json (Bencher Metric Format)', 'Output:'))
    .addHelpText(
      'after',
      `
Each metric is a ratio of two figures measured in the same round: the engine's inline drain
over the bare codec loop on the same pages, padata:2 over inline, a run's alloc_stall p99
over its compress p99, ... A slower or busier machine moves both alike; a slower engine
moves the ratio. Each round's ratio is the median of its pairs (or runs); "now" is the
median over the rounds and the band is the ${BAND_METHOD}. A metric fails only when "now" is
worse than the baseline by more than its fail threshold and no round reached the
baseline; it warns likewise past its warn threshold.

ZRECLAIM_INJECT_COMPRESS_NS=N adds N ns of busy work to every compressed page (not to the
bare codec loop): a real slowdown, to check that the gate catches one.

Exit codes: 0 pass (warnings allowed) or baseline updated; 1 a metric regressed (named on
stderr) or a run failed; 2 bad flag, scenario file or baseline (missing, corrupted, another
schema, a scenario missing or changed since the baseline); 130 stopped by SIGINT (Ctrl-C),
143 by SIGTERM (a second signal exits at once).

Examples:
  zreclaim gate                              # bench/gate, 5 rounds (~2 min here)
  zreclaim gate --short                      # 3 rounds, fewer pairs (~30 s here)
  zreclaim gate --json-file gate.json --bench-json gate   # + gate-bigger/-smaller/-bencher.json
  zreclaim gate --update                     # record a new baseline on this machine
  ZRECLAIM_INJECT_COMPRESS_NS=5000 zreclaim gate --short   # must exit 1`,
    )
    .action(async (_opts: GateFlags, c: Command) => {
      done(await gateCommand(c.opts<GateFlags>(), io));
    });
}

function roundsOf(flags: GateFlags): number {
  if (flags.rounds === undefined) return flags.short ? SHORT_ROUNDS : DEFAULT_ROUNDS;
  const n = parseInt10('--rounds', flags.rounds);
  if (n < 1 || n > MAX_ROUNDS) throw new UsageError('--rounds', `expected 1 to ${MAX_ROUNDS} rounds, got ${n}`);
  return n;
}

function defaultsOf(flags: GateFlags): { warn: number; fail: number } {
  const warn = flags.warn === undefined ? DEFAULT_WARN : parseThreshold('--warn', flags.warn);
  const fail = flags.fail === undefined ? Math.max(DEFAULT_FAIL, warn) : parseThreshold('--fail', flags.fail);
  if (fail < warn) throw new UsageError(flags.fail === undefined ? '--warn' : '--fail', `the fail threshold (${fail * 100} %) is below the warn threshold (${warn * 100} %); fail must be ≥ warn`);
  return { warn, fail };
}

function writeOut(file: string, text: string, flag: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UsageError(`${flag} ${file}`, `cannot write: ${(e as Error).message}`);
  }
}

function gateHash(scenarios: LoadedScenario[]): string {
  return createHash('sha256')
    .update(scenarios.map((s) => `${s.name}=${s.configHash}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
}

export async function gateCommand(flags: GateFlags, io: Io): Promise<number> {
  const t0 = performance.now();
  const dir = flags.dir ?? DEFAULT_DIR;
  const scenarioDir = flags.scenarios ?? join(dir, 'scenarios');
  const baselineFile = flags.baseline ?? join(dir, 'baseline.json');
  const rounds = roundsOf(flags);
  const mode = flags.short ? 'short' : 'full';
  const defaults = defaultsOf(flags);
  // A bad ZRECLAIM_INJECT_COMPRESS_NS is a ConfigError now, before any run.
  const injectCompressNs = withEnvInjection({}).inject?.compressSpinNs ?? 0;

  if (flags.update && injectCompressNs > 0) {
    throw new UsageError('--update', `ZRECLAIM_INJECT_COMPRESS_NS is set (${injectCompressNs} ns/page): a baseline must not be recorded with an injected slowdown (unset it)`);
  }

  const all = loadScenarios(scenarioDir, defaults);
  const selected = selectScenarios(all, flags.scenario);
  let baseline: Baseline | undefined;
  let unreadable: string | undefined;
  if (flags.update) {
    try {
      baseline = loadBaseline(baselineFile);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // --update replaces a missing or broken baseline; say so unless there was none.
      if (!/no baseline here/.test(e.message)) unreadable = e.message;
    }
  } else {
    baseline = loadBaseline(baselineFile);
    checkAgainstBaseline(all, selected, baseline, baselineFile);
  }

  const env = environment(gateHash(selected)) as unknown as Record<string, unknown>;
  const bar = progressWanted(flags)
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: ' {bar} {value}/{total} · {what} · ETA {eta_formatted}', barsize: 24, hideCursor: true, clearOnComplete: true, fps: 5 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const ac = new AbortController();
  const stopInterrupts = abortOnInterrupt(ac);
  let measured;
  try {
    measured = await measure(selected, {
      signal: ac.signal,
      rounds,
      mode,
      onStep: (step, steps, scenario, round) => {
        const what = round === 0 ? `${scenario} warm-up` : `round ${round}/${rounds} · ${scenario}`;
        if (step === 0) bar?.start(steps, 0, { what });
        else bar?.update(step, { what });
      },
    });
  } catch (e) {
    // A stop closes the engines under the step in flight, which then fails: that is the stop.
    if (!ac.signal.aborted) throw e;
  } finally {
    bar?.stop();
    stopInterrupts();
  }
  if (ac.signal.aborted || measured === undefined) {
    const stop = interrupted(ac.signal, 'the scenarios were stopped and the engines closed; nothing was judged or written');
    io.err(stop.line);
    return stop.code;
  }

  const metrics: MetricResult[] = [];
  for (const { scenario: s, ratios } of measured) {
    const b = flags.update ? undefined : baseline?.scenarios[s.name];
    for (const m of s.metrics) {
      const pairs = ratios.get(m.name)!;
      const roundRatios = pairs.map(roundRatio);
      const base = b?.metrics[m.name]?.value ?? null;
      const j = judge(m.better, base, roundRatios, m.warn, m.fail);
      metrics.push({
        scenario: s.name,
        metric: m.name,
        id: `${s.name}/${m.name}`,
        description: m.description,
        definition: m.definition,
        better: m.better,
        baseline: base,
        now: j.now,
        change: j.change,
        worse: j.worse,
        band: j.band,
        rounds: roundRatios,
        pairs,
        warn: m.warn,
        fail: m.fail,
        verdict: j.verdict,
      });
    }
  }
  const regressions = metrics.filter((m) => m.verdict === 'fail').map((m) => m.id);
  const warnings = metrics.filter((m) => m.verdict === 'warn').map((m) => m.id);
  const result: GateResult = {
    schema: GATE_SCHEMA,
    kind: 'gate',
    environment: env,
    mode,
    rounds,
    band: BAND_METHOD,
    injectCompressNs,
    baseline:
      baseline && !flags.update
        ? { file: relative(process.cwd(), baselineFile) || baselineFile, recordedAt: baseline.recordedAt, mode: baseline.mode, rounds: baseline.rounds, commit: baseline.environment.commit }
        : null,
    scenarios: measured.map(({ scenario: s, seconds }) => ({ name: s.name, file: s.file, kind: s.kind, configHash: s.configHash, seconds })),
    metrics,
    regressions,
    warnings,
    updated: Boolean(flags.update),
    ok: regressions.length === 0,
    seconds: (performance.now() - t0) / 1000,
  };

  let changes: string[] = [];
  if (flags.update) {
    const next: Baseline = {
      schema: BASELINE_SCHEMA,
      recordedAt: env.startedAt as string,
      mode,
      rounds,
      band: BAND_METHOD,
      environment: env,
      // Scenarios not run this time keep their figures, if their files still define them.
      scenarios: Object.fromEntries(Object.entries(baseline?.scenarios ?? {}).filter(([name]) => all.some((s) => s.name === name) && !selected.some((s) => s.name === name))),
    };
    for (const { scenario: s } of measured) {
      next.scenarios[s.name] = {
        configHash: s.configHash,
        variants: Object.fromEntries(s.variants.map((v) => [v.name, v.hash])),
        metrics: Object.fromEntries(
          metrics
            .filter((m) => m.scenario === s.name)
            .map((m) => [m.metric, { definition: m.definition, better: m.better, value: round6(m.now), band: [round6(m.band[0]), round6(m.band[1])] as [number, number], rounds: m.rounds.map(round6) }]),
        ),
      };
    }
    next.scenarios = Object.fromEntries(Object.entries(next.scenarios).sort(([a], [b]) => a.localeCompare(b)));
    writeOut(baselineFile, `${JSON.stringify(next, null, 2)}\n`, '--baseline');
    changes = updateLines(baseline, next, unreadable);
  }

  if (flags.jsonFile !== undefined) writeOut(flags.jsonFile, `${JSON.stringify(result, null, 2)}\n`, '--json-file');
  const md = markdownGate(result);
  if (flags.markdown !== undefined) writeOut(flags.markdown, md, '--markdown');
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      appendFileSync(summary, md);
    } catch (e) {
      io.err(`could not append to $GITHUB_STEP_SUMMARY (${summary}): ${(e as Error).message}`);
    }
  }
  if (flags.benchJson !== undefined) {
    const { bigger, smaller } = benchmarkJson(result);
    writeOut(`${flags.benchJson}-bigger.json`, `${JSON.stringify(bigger, null, 2)}\n`, '--bench-json');
    writeOut(`${flags.benchJson}-smaller.json`, `${JSON.stringify(smaller, null, 2)}\n`, '--bench-json');
    writeOut(`${flags.benchJson}-bencher.json`, `${JSON.stringify(bencherJson(result), null, 2)}\n`, '--bench-json');
  }

  if (flags.json) await io.out(`${JSON.stringify(result, null, 2)}\n`);
  else if (!flags.quiet) {
    await io.out(formatGate(result));
    if (changes.length > 0) await io.out(`what changed in ${baselineFile}:\n${changes.join('\n')}\n`);
  }
  if (!result.ok) {
    io.err(`regression: ${verdictLine(result).replace(/^FAIL: regression in /, '')}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

const round6 = (x: number) => +x.toPrecision(6);
