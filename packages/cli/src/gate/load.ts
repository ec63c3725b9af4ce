/**
 * Reading the gate's scenario files and its baseline, and checking them against each other.
 * Every problem is one UsageError (exit 2) naming the file or flag, what is wrong and the fix.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { CODECS, ConfigError, configHash, LATENCIES, resolveConfig, VMSTAT, type Config } from '@zreclaim/engine/internal';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { readUserFile } from '../read-file.js';
import { BASELINE_SCHEMA, BaselineSchema, RUN_FIGURE_RE, SCENARIO_SCHEMA, ScenarioSchema, type Baseline, type Scenario } from './schema.js';

export const DEFAULT_WARN = 0.1;
export const DEFAULT_FAIL = 0.25;
/** Thresholds above this (1000 %) are surely a typo for a percentage. */
const MAX_THRESHOLD = 10;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/**
 * A threshold as a fraction: 0.25 or "25%". Not a number, negative, or absurdly large: a
 * UsageError at `where`.
 */
export function parseThreshold(where: string, raw: unknown): number {
  let v: number;
  if (typeof raw === 'number') v = raw;
  else if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*%\s*$/.test(raw)) v = parseFloat(raw) / 100;
  else if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) v = parseFloat(raw);
  else throw new UsageError(where, `${show(raw)} is not a threshold (give a fraction such as 0.25 or a percentage such as "25%")`);
  if (!Number.isFinite(v)) throw new UsageError(where, `${show(raw)} is not a finite threshold (give a fraction such as 0.25 or a percentage such as "25%")`);
  if (v < 0) throw new UsageError(where, `threshold ${show(raw)} is negative (a threshold is how much worse than the baseline is tolerated, ≥ 0)`);
  if (v > MAX_THRESHOLD) throw new UsageError(where, `threshold ${show(raw)} is over ${MAX_THRESHOLD * 100} % (write 25 % as 0.25 or "25%")`);
  return v;
}

/** warn and fail for one metric: metric's own, else the scenario's, else the defaults; fail ≥ warn. */
function thresholdsOf(where: string, own: { warn?: unknown; fail?: unknown }, scenario: { warn?: unknown; fail?: unknown } | undefined, defaults: { warn: number; fail: number }) {
  const pick = (k: 'warn' | 'fail') => (own[k] !== undefined ? { at: `${where}.${k}`, raw: own[k] } : scenario?.[k] !== undefined ? { at: `thresholds.${k}`, raw: scenario[k] } : undefined);
  const w = pick('warn');
  const f = pick('fail');
  const warn = w ? parseThreshold(w.at, w.raw) : defaults.warn;
  const fail = f ? parseThreshold(f.at, f.raw) : defaults.fail;
  if (fail < warn) {
    throw new UsageError(f?.at ?? w?.at ?? where, `fail threshold ${pct(fail)} is below the warn threshold ${pct(warn)} (fail must be ≥ warn)`);
  }
  return { warn, fail };
}

const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;

/** A plain-object deep merge: `over`'s fields win, nested objects merge. */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? merge(out[k] as Obj, v) : v;
  return out;
}

/** Paths inside a scenario's config (content file, workload module) are relative to the scenario file. */
function relativePaths(config: Obj, file: string): Obj {
  const base = dirname(resolve(file));
  const rel = (p: unknown) => (typeof p === 'string' && p && !isAbsolute(p) && !p.startsWith('file:') ? resolve(base, p) : p);
  const c = { ...config };
  if (isObj(c.content) && c.content.kind === 'file') c.content = { ...c.content, path: rel(c.content.path) };
  if (isObj(c.workload) && c.workload.kind === 'module') c.workload = { ...c.workload, module: rel(c.workload.module) };
  return c;
}

function zodWhy(err: z.ZodError): string {
  const i = err.issues[0];
  const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  let msg = i.message;
  if (i.code === 'unrecognized_keys') msg = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
  return path ? `${path}: ${msg}` : msg;
}

function readJson(file: string, what: string, fix: string): unknown {
  const text = readUserFile(file, file, `the ${what}`, fix);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(file, `corrupted ${what}: not valid JSON (${(e as Error).message}; ${fix})`);
  }
}

export interface LoadedVariant {
  name: string;
  kind: 'drain' | 'codec-loop' | 'run';
  config: Config;
  /** The config input (before resolution), what createEngine takes. */
  input: Obj;
  /** `${kind}:${configHash}` */
  hash: string;
}

export interface LoadedMetric {
  name: string;
  description: string | undefined;
  better: 'bigger' | 'smaller';
  numerator: string;
  denominator: string;
  /** "inline ÷ codec, bigger is better" */
  definition: string;
  warn: number;
  fail: number;
}

export interface LoadedScenario {
  file: string;
  name: string;
  kind: 'drain' | 'run';
  description: string | undefined;
  variants: LoadedVariant[];
  /** Pairs (drain) or runs (run) per round, by mode. */
  reps: { full: number; short: number };
  metrics: LoadedMetric[];
  /** Hash over every variant's hash. */
  configHash: string;
}

const RATES = ['pgsteal_anon_per_s', 'pgscan_per_s', 'pswpout_per_s', 'pswpin_per_s', 'allocstall_per_s'];

/** A run figure (latency.x.p99, rates.x, counters.x) must name something a run reports. */
function checkFigure(where: string, fig: string): void {
  const [kind, name] = fig.split('.');
  const known = kind === 'latency' ? (LATENCIES as readonly string[]) : kind === 'rates' ? RATES : (VMSTAT as readonly string[]);
  if (!RUN_FIGURE_RE.test(fig) || !known.includes(name)) {
    throw new UsageError(where, `${show(fig)} names no figure of a run (${kind} names: ${known.join(', ')})`);
  }
}

function resolveVariant(file: string, where: string, name: string, kind: LoadedVariant['kind'], input: Obj): LoadedVariant {
  let config: Config;
  try {
    config = resolveConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`${file}: ${where}`, e.message);
    throw e;
  }
  return { name, kind, config, input, hash: `${kind}:${configHash(config)}` };
}

function loadScenario(file: string, defaults: { warn: number; fail: number }): LoadedScenario {
  const fix = 'fix the scenario file';
  const data = readJson(file, 'scenario file', fix);
  if (isObj(data) && typeof data.schema === 'string' && data.schema !== SCENARIO_SCHEMA) {
    throw new UsageError(file, `scenario schema ${show(data.schema)} is not ${SCENARIO_SCHEMA} (written for another version of zreclaim; rewrite it for this one)`);
  }
  const parsed = ScenarioSchema.safeParse(data);
  if (!parsed.success) throw new UsageError(file, `${zodWhy(parsed.error)} (${fix})`);
  const s: Scenario = parsed.data;
  const base = relativePaths(s.config, file);
  const variants: LoadedVariant[] = [];
  if (s.kind === 'drain') {
    for (const [name, v] of Object.entries(s.variants)) {
      const lv = resolveVariant(file, `variants.${name}`, name, v.kind, merge(base, relativePaths(v.config, file)));
      if (lv.kind === 'codec-loop' && lv.config.codec === 'zstd') {
        throw new UsageError(`${file}: variants.${name}`, `the codec loop needs a synchronous codec; zstd is asynchronous (choose ${CODECS.filter((c) => c !== 'zstd').join(' or ')})`);
      }
      variants.push(lv);
    }
    if (!variants.some((v) => v.kind === 'drain')) throw new UsageError(file, 'a drain scenario needs at least one variant of kind "drain"');
  } else {
    variants.push(resolveVariant(file, 'config', 'run', 'run', base));
  }
  const names = new Set(variants.map((v) => v.name));
  const seen = new Set<string>();
  const metrics: LoadedMetric[] = s.metrics.map((m, i) => {
    const where = `${file}: metrics[${i}]`;
    if (seen.has(m.name)) throw new UsageError(where, `metric ${show(m.name)} is defined twice`);
    seen.add(m.name);
    if (s.kind === 'drain') {
      for (const k of ['numerator', 'denominator'] as const) {
        if (!names.has(m[k])) throw new UsageError(`${where}.${k}`, `${show(m[k])} is not a variant of this scenario (variants: ${[...names].join(', ')})`);
      }
    } else {
      checkFigure(`${where}.numerator`, m.numerator);
      checkFigure(`${where}.denominator`, m.denominator);
    }
    if (m.numerator === m.denominator) throw new UsageError(where, `numerator and denominator are both ${show(m.numerator)}: the ratio is always 1`);
    const { warn, fail } = thresholdsOf(`${file}: metrics[${i}] ${show(m.name)}`, m, s.thresholds, defaults);
    const unit = s.kind === 'drain' ? ' pages/s' : '';
    return {
      name: m.name,
      description: m.description,
      better: m.better,
      numerator: m.numerator,
      denominator: m.denominator,
      definition: `${m.numerator}${unit} ÷ ${m.denominator}${unit}, ${m.better} is better`,
      warn,
      fail,
    };
  });
  // Scenario-wide thresholds are checked even when every metric overrides them.
  if (s.thresholds) thresholdsOf(`${file}: thresholds`, {}, s.thresholds, defaults);
  const configHash = createHash('sha256')
    .update(variants.map((v) => `${v.name}=${v.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  return { file, name: s.name, kind: s.kind, description: s.description, variants, reps: s.kind === 'drain' ? s.pairs : s.runs, metrics, configHash };
}

/** Every scenario file (*.json) in `dir`, sorted by file name. */
export function loadScenarios(dir: string, defaults: { warn: number; fail: number }): LoadedScenario[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`--scenarios ${dir}`, 'no such directory (give the directory of the gate scenario files, or --dir with a scenarios/ folder)');
  }
  if (!st.isDirectory()) throw new UsageError(`--scenarios ${dir}`, 'is not a directory (give the directory of the gate scenario files)');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new UsageError(`--scenarios ${dir}`, `no scenario files (*.json, schema ${SCENARIO_SCHEMA}) in it`);
  const out: LoadedScenario[] = [];
  for (const f of files) {
    const s = loadScenario(join(dir, f), defaults);
    const dup = out.find((o) => o.name === s.name);
    if (dup) throw new UsageError(s.file, `scenario name ${show(s.name)} is also used by ${dup.file} (names must be unique)`);
    out.push(s);
  }
  return out;
}

/** Scenarios named by --scenario (a comma list), or all. */
export function selectScenarios(all: LoadedScenario[], list: string | undefined): LoadedScenario[] {
  if (list === undefined) return all;
  const names = list.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new UsageError('--scenario', `empty name in the list ${show(list)} (separate names with commas)`);
  for (const n of names) {
    if (!all.some((s) => s.name === n)) throw new UsageError('--scenario', `unknown scenario ${show(n)} (the scenario files define: ${all.map((s) => s.name).join(', ')})`);
  }
  return all.filter((s) => names.includes(s.name));
}

const UPDATE_FIX = 'record a new one with zreclaim gate --update';

/** The baseline, validated; UsageError when it is missing, unparseable, of another schema or malformed. */
export function loadBaseline(file: string): Baseline {
  if (!existsSync(file)) throw new UsageError(file, "no baseline here (record one with zreclaim gate --update, or give --baseline FILE)");
  const data = readJson(file, 'baseline', `restore it, e.g. git checkout -- ${basename(file)}, or ${UPDATE_FIX}`);
  if (!isObj(data) || typeof data.schema !== 'string') {
    throw new UsageError(file, `corrupted baseline: no "schema" field naming ${BASELINE_SCHEMA} (restore it or ${UPDATE_FIX})`);
  }
  if (data.schema !== BASELINE_SCHEMA) {
    throw new UsageError(file, `baseline schema ${show(data.schema)} is not ${BASELINE_SCHEMA} (recorded by another version of zreclaim; ${UPDATE_FIX})`);
  }
  const parsed = BaselineSchema.safeParse(data);
  if (!parsed.success) throw new UsageError(file, `corrupted baseline: ${zodWhy(parsed.error)} (restore it or ${UPDATE_FIX})`);
  return parsed.data;
}

/**
 * The baseline must match the scenario files: the same scenarios, variants with the same
 * configs, the same metrics with the same definitions. The first mismatch is a UsageError.
 */
export function checkAgainstBaseline(all: LoadedScenario[], selected: LoadedScenario[], baseline: Baseline, file: string): void {
  for (const name of Object.keys(baseline.scenarios)) {
    if (!all.some((s) => s.name === name)) {
      throw new UsageError(file, `the baseline has scenario ${show(name)} but no scenario file defines it (restore its file, or ${UPDATE_FIX} to drop it)`);
    }
  }
  for (const s of selected) {
    const b = baseline.scenarios[s.name];
    if (!b) throw new UsageError(s.file, `scenario ${show(s.name)} is not in the baseline ${file} (${UPDATE_FIX})`);
    for (const v of s.variants) {
      const was = b.variants[v.name];
      if (was === undefined) throw new UsageError(s.file, `variant ${show(v.name)} of scenario ${show(s.name)} is not in the baseline (the scenario changed; ${UPDATE_FIX})`);
      if (was !== v.hash) {
        throw new UsageError(s.file, `the workload/config of scenario ${show(s.name)} (variant ${show(v.name)}) changed since the baseline: config hash ${v.hash} now, ${was} in the baseline (${UPDATE_FIX})`);
      }
    }
    for (const v of Object.keys(b.variants)) {
      if (!s.variants.some((x) => x.name === v)) throw new UsageError(s.file, `variant ${show(v)} of scenario ${show(s.name)} is in the baseline but not in the file (the scenario changed; ${UPDATE_FIX})`);
    }
    if (b.configHash !== s.configHash) throw new UsageError(s.file, `the configs of scenario ${show(s.name)} changed since the baseline (${UPDATE_FIX})`);
    for (const m of s.metrics) {
      const bm = b.metrics[m.name];
      if (!bm) throw new UsageError(s.file, `metric ${show(m.name)} of scenario ${show(s.name)} has no baseline (${UPDATE_FIX})`);
      if (bm.definition !== m.definition) {
        throw new UsageError(s.file, `metric ${show(m.name)} of scenario ${show(s.name)} changed since the baseline: ${show(m.definition)} now, ${show(bm.definition)} then (${UPDATE_FIX})`);
      }
    }
    for (const m of Object.keys(b.metrics)) {
      if (!s.metrics.some((x) => x.name === m)) throw new UsageError(s.file, `metric ${show(m)} of scenario ${show(s.name)} is in the baseline but not in the file (${UPDATE_FIX})`);
    }
  }
}
