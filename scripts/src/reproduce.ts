/**
 * `pnpm reproduce`: the seed threads' experiments (bench/scenarios/*.json) through the built
 * CLI, one `zreclaim compare --json` per scenario; each compare document is written to
 * bench/results/<name>.json and summarized as a Markdown section (seed claim, command,
 * medians and ratios of the key metrics, machine), printed and collected in
 * bench/results/REPRODUCE.md.
 *
 * A scenario file:
 *   {
 *     "title": "…", "description": "…", "seeds": ["004_….txt"], "seed_claim": "…",
 *     "compare": { "pipelines": ["inline", "kcompressd"], "codecs": ["lz4"], "repeat": 5 },
 *     "labels": { "padata:4": "oversubscribed: …" },            (optional, per variant)
 *     "claims": [ { "label": "…", "metric": "pgsteal_anon_per_s", "variant": "kcompressd",
 *                   "baseline": "inline", "seed_ratio": 3.6 } ],  (seed_ratio optional)
 *     "config": { …engine config, as `zreclaim compare --config FILE` takes it… }
 *   }
 * `config` is written to a temporary file for --config; the command printed for the README
 * extracts it with jq, so it runs as is.
 *
 *   node scripts/dist/reproduce.js [name…] [--repeat N]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIOS = join(ROOT, 'bench', 'scenarios');
const RESULTS = join(ROOT, 'bench', 'results');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

export interface Claim {
  label: string;
  metric: MetricKey;
  variant: string;
  baseline: string;
  seed_ratio?: number;
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  seeds: string[];
  seed_claim: string;
  compare: { pipelines: string[]; codecs: string[]; repeat: number };
  labels?: Record<string, string>;
  claims?: Claim[];
  config: Record<string, unknown>;
}

/** The part of a `zreclaim.compare/v1` document read here. */
interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}
interface CompareRun {
  round: number;
  counters: Record<string, number>;
  rates: Record<string, number>;
  kswapd: { busy_ms: number };
  latency: Record<string, LatencySummary>;
  elapsedMs: number;
}
interface CompareVariant {
  name: string;
  pipeline: string;
  codec: string;
  runs: CompareRun[];
}
interface CompareDoc {
  schema: string;
  environment: { cpuModel: string; cores: number; node: string; libuvThreadpoolSize: number; kernel: string; commit: string | null };
  repeat: number;
  variants: CompareVariant[];
  failures: { variant: string; round: number; problems: string[] }[];
  ok: boolean;
}

/** The metrics the summary shows, read from a trimmed run (kernel names; latencies in µs). */
const lat = (name: string, p: 'p50' | 'p99') => (r: CompareRun) => (r.latency[name]?.count ? r.latency[name][p] / 1000 : null);
export const KEY_METRICS = {
  pgsteal_anon_per_s: { label: 'pgsteal_anon/s', read: (r: CompareRun): number | null => r.rates.pgsteal_anon_per_s },
  allocstall: { label: 'allocstall', read: (r: CompareRun): number | null => r.counters.allocstall },
  alloc_stall_p99_us: { label: 'alloc_stall p99 µs', read: lat('alloc_stall', 'p99') },
  kswapd_busy_ms: { label: 'kswapd busy ms', read: (r: CompareRun): number | null => r.kswapd.busy_ms },
  kcompressd_fifo_full: { label: 'kcompressd_fifo_full', read: (r: CompareRun): number | null => r.counters.kcompressd_fifo_full },
  /** Share of kswapd's pages that went to the rings (the rest kswapd compressed itself, or waited for). */
  queued_share: {
    label: 'queued ÷ (queued + fifo_full)',
    read: (r: CompareRun): number | null => {
      const q = r.counters.kcompressd_enqueued;
      const f = r.counters.kcompressd_fifo_full;
      return q + f > 0 ? q / (q + f) : null;
    },
  },
  compress_p50_us: { label: 'compress p50 µs', read: lat('compress', 'p50') },
  compress_batch_p50_us: { label: 'compress_batch p50 µs', read: lat('compress_batch', 'p50') },
  ring_wait_p50_us: { label: 'ring_wait p50 µs', read: lat('ring_wait', 'p50') },
  written_back_pages: { label: 'written_back_pages', read: (r: CompareRun): number | null => r.counters.written_back_pages ?? null },
} as const;
export type MetricKey = keyof typeof KEY_METRICS;

const TABLE: MetricKey[] = [
  'pgsteal_anon_per_s',
  'allocstall',
  'alloc_stall_p99_us',
  'kswapd_busy_ms',
  'kcompressd_fifo_full',
  'queued_share',
  'compress_p50_us',
  'compress_batch_p50_us',
  'ring_wait_p50_us',
  'written_back_pages',
];
/** Columns shown only when some variant has a non-zero median (zswap's writeback). */
const OPTIONAL = new Set<MetricKey>(['written_back_pages']);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}
function spreadOf(xs: (number | null)[]): Spread | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? { median: median(v), min: Math.min(...v), max: Math.max(...v) } : null;
}

function metricOf(v: CompareVariant, key: MetricKey): Spread | null {
  return spreadOf(v.runs.map(KEY_METRICS[key].read));
}

/** variant ÷ baseline round by round (runs of the same round ran seconds apart), median and min–max. */
function roundRatios(v: CompareVariant, b: CompareVariant, key: MetricKey): Spread | null {
  const read = KEY_METRICS[key].read;
  const xs: number[] = [];
  for (const r of v.runs) {
    const rb = b.runs.find((x) => x.round === r.round);
    const a = read(r);
    const d = rb ? read(rb) : null;
    if (a !== null && d !== null && d !== 0) xs.push(a / d);
  }
  return spreadOf(xs);
}

// ---------- scenario files ----------

class ScenarioError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function loadScenario(file: string): Scenario {
  const name = file.replace(/^.*\//, '').replace(/\.json$/, '');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${file}: ${(e as Error).message}`);
  }
  const bad = (field: string, why: string): never => {
    throw new ScenarioError(`${file}: ${field}: ${why}`);
  };
  if (!isObj(data)) return bad('(root)', 'expected a JSON object');
  for (const f of ['title', 'description', 'seed_claim']) if (typeof data[f] !== 'string' || data[f] === '') bad(f, 'expected a non-empty string');
  if (!Array.isArray(data.seeds) || data.seeds.some((s) => typeof s !== 'string')) bad('seeds', 'expected an array of seed file names');
  const cmp = data.compare;
  if (!isObj(cmp)) return bad('compare', 'expected { "pipelines": [...], "codecs": [...], "repeat": n }');
  for (const f of ['pipelines', 'codecs']) {
    const list = cmp[f];
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s === '' || s.includes(','))) bad(`compare.${f}`, 'expected a non-empty array of names');
  }
  if (!Number.isInteger(cmp.repeat) || (cmp.repeat as number) < 1) bad('compare.repeat', 'expected an integer ≥ 1');
  if (!isObj(data.config)) bad('config', 'expected the engine config object `zreclaim compare --config` takes');
  if (data.labels !== undefined && !isObj(data.labels)) bad('labels', 'expected an object of variant → label');
  if (data.claims !== undefined) {
    if (!Array.isArray(data.claims)) bad('claims', 'expected an array');
    (data.claims as unknown[]).forEach((c, i) => {
      if (!isObj(c)) return bad(`claims[${i}]`, 'expected an object');
      if (typeof c.metric !== 'string' || !Object.hasOwn(KEY_METRICS, c.metric)) bad(`claims[${i}].metric`, `expected one of ${Object.keys(KEY_METRICS).join(', ')}`);
      for (const f of ['label', 'variant', 'baseline']) if (typeof c[f] !== 'string') bad(`claims[${i}].${f}`, 'expected a string');
      if (c.seed_ratio !== undefined && typeof c.seed_ratio !== 'number') bad(`claims[${i}].seed_ratio`, 'expected a number');
    });
  }
  return { name, ...(data as Omit<Scenario, 'name'>) };
}

export function listScenarios(): string[] {
  return readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(SCENARIOS, f));
}

// ---------- running ----------

export function compareArgs(s: Scenario, configPath: string, repeat = s.compare.repeat): string[] {
  return ['compare', '--config', configPath, '--pipeline', s.compare.pipelines.join(','), '--codec', s.compare.codecs.join(','), '--repeat', String(repeat), '--json'];
}

/** The command as a user runs it from the repository root. */
export function commandLine(s: Scenario, repeat = s.compare.repeat): string {
  const args = compareArgs(s, `<(jq .config bench/scenarios/${s.name}.json)`, repeat);
  return `node packages/cli/dist/bin.js ${args.join(' ')}`;
}

export interface Reproduced {
  scenario: Scenario;
  doc: CompareDoc;
  exitCode: number;
  seconds: number;
  stderr: string;
  resultFile: string;
  resultBytes: number;
}

export async function runScenario(s: Scenario, repeat = s.compare.repeat): Promise<Reproduced> {
  const dir = mkdtempSync(join(tmpdir(), 'zreclaim-reproduce-'));
  const configPath = join(dir, `${s.name}.config.json`);
  writeFileSync(configPath, `${JSON.stringify(s.config, null, 2)}\n`);
  const t0 = performance.now();
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...compareArgs(s, configPath, repeat)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    });
    // 0: all runs fine; 1: a run's checks failed (the document is still printed). Anything else: no document.
    if (code !== 0 && code !== 1) throw new Error(`scenario ${s.name}: zreclaim compare exited ${code}: ${stderr.trim() || '(no message)'}`);
    let doc: CompareDoc;
    try {
      doc = JSON.parse(stdout) as CompareDoc;
    } catch {
      throw new Error(`scenario ${s.name}: zreclaim compare exited ${code} without a JSON document: ${stderr.trim() || stdout.slice(0, 200)}`);
    }
    const resultFile = join(RESULTS, `${s.name}.json`);
    const text = `${JSON.stringify(doc, null, 1)}\n`;
    writeFileSync(resultFile, text);
    return { scenario: s, doc, exitCode: code, seconds: (performance.now() - t0) / 1000, stderr, resultFile, resultBytes: Buffer.byteLength(text) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- Markdown ----------

function fmt(x: number | null | undefined, key?: MetricKey): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (key === 'queued_share') return `${(x * 100).toFixed(0)} %`;
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e4) return String(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const times = (r: Spread | null) => (r ? `×${r.median.toFixed(2)}` : '');

/** The first variant of the same codec is each variant's baseline (batch:8/zstd against batch:1/zstd). */
function baselineOf(doc: CompareDoc, v: CompareVariant): CompareVariant {
  return doc.variants.find((x) => x.codec === v.codec) ?? doc.variants[0];
}

/**
 * REPRODUCE.md from the sections just measured (by scenario name) and the file as it was:
 * one `### name: title` section per scenario, in `order`, the fresh one where there is one.
 */
export function mergeReproduce(previous: string, fresh: Map<string, string>, order: string[]): string {
  const old = new Map<string, string>();
  for (const chunk of previous.split(/^(?=### )/m).slice(1)) {
    const name = /^### ([^:\n]+):/.exec(chunk)?.[1];
    if (name !== undefined) old.set(name, chunk);
  }
  const kept = order.map((n) => fresh.get(n) ?? old.get(n)).filter((x): x is string => x !== undefined);
  return `## Reproducing the threads\n\n${kept.map((x) => x.trimEnd()).join('\n\n')}\n`;
}

export function markdown(r: Reproduced): string {
  const { scenario: s, doc } = r;
  const env = doc.environment;
  const out: string[] = [];
  out.push(`### ${s.name}: ${s.title}`, '');
  out.push(`**Seed claim** (${s.seeds.map((f) => `seeds/${f}`).join(', ')}): ${s.seed_claim}`, '');
  out.push(`**Scenario**: ${s.description}`, '');
  out.push('**Command** (from the repository root, bash; `pnpm reproduce ' + s.name + '` does the same and writes `bench/results/' + s.name + '.json`):', '');
  out.push('```sh', commandLine(s, doc.repeat), '```', '');
  out.push(
    `**Measured** on ${env.cpuModel}, ${env.cores} cores, Node ${env.node}, libuv pool ${env.libuvThreadpoolSize}, Linux ${env.kernel}` +
      `${env.commit ? `, commit ${env.commit.slice(0, 12)}${env.commit.endsWith('-dirty') ? '-dirty' : ''}` : ''}; ` +
      `median of ${doc.repeat} interleaved runs per variant; ×: ratio to ${new Set(doc.variants.map((v) => v.codec)).size > 1 ? 'batch:1 of the same codec' : `\`${doc.variants[0].name}\``}, round by round, median.`,
    '',
  );
  const cols = TABLE.filter((k) => !OPTIONAL.has(k) || doc.variants.some((v) => (metricOf(v, k)?.median ?? 0) !== 0));
  out.push(`| variant | ${cols.map((k) => KEY_METRICS[k].label).join(' | ')} |`);
  out.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const v of doc.variants) {
    const b = baselineOf(doc, v);
    const label = s.labels?.[v.name] ?? s.labels?.[v.pipeline];
    const cells = cols.map((k) => {
      const m = metricOf(v, k);
      const showRatio = v !== b && k !== 'queued_share' && k !== 'kcompressd_fifo_full' && k !== 'compress_batch_p50_us' && k !== 'ring_wait_p50_us';
      return `${fmt(m?.median, k)}${showRatio ? ` ${times(roundRatios(v, b, k))}` : ''}`;
    });
    out.push(`| \`${v.name}\`${label ? ` (${label})` : ''} | ${cells.join(' | ')} |`);
  }
  out.push('');
  const pg = doc.variants.map((v) => {
    const m = metricOf(v, 'pgsteal_anon_per_s');
    return m ? `\`${v.name}\` ${fmt(m.min)}–${fmt(m.max)}` : '';
  });
  out.push(`pgsteal_anon/s min–max: ${pg.filter(Boolean).join(', ')}.`, '');
  if (s.claims?.length) {
    out.push('| claim | seed | measured (median, min–max of per-round ratios) |', '|---|---:|---:|');
    for (const c of s.claims) {
      const v = doc.variants.find((x) => x.name === c.variant);
      const b = doc.variants.find((x) => x.name === c.baseline);
      const rr = v && b ? roundRatios(v, b, c.metric) : null;
      const seed = c.seed_ratio === undefined ? '–' : `×${c.seed_ratio}`;
      const measured = rr ? `×${rr.median.toFixed(2)} (${rr.min.toFixed(2)}–${rr.max.toFixed(2)})` : v && b ? '–' : `variant ${c.variant} or ${c.baseline} missing`;
      out.push(`| ${c.label}: \`${c.variant}\` ÷ \`${c.baseline}\`, ${KEY_METRICS[c.metric].label} | ${seed} | ${measured} |`);
    }
    out.push('');
  }
  if (!doc.ok) {
    out.push(`**Checks failed**: ${doc.failures.map((f) => `${f.variant} round ${f.round}: ${f.problems.join('; ')}`).join(' · ')}`, '');
  }
  return out.join('\n');
}

// ---------- main ----------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let repeat: number | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeat') {
      repeat = Number(argv[++i]);
      if (!Number.isInteger(repeat) || repeat < 1) {
        console.error(`--repeat: expected an integer ≥ 1, got ${argv[i]}`);
        return 2;
      }
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      console.log('usage: node scripts/dist/reproduce.js [scenario…] [--repeat N]\nscenarios: bench/scenarios/*.json; results: bench/results/<name>.json and bench/results/REPRODUCE.md');
      return 0;
    } else names.push(argv[i].replace(/\.json$/, '').replace(/^.*\//, ''));
  }
  let scenarios: Scenario[];
  try {
    scenarios = listScenarios().map(loadScenario);
  } catch (e) {
    console.error(e instanceof ScenarioError ? e.message : String(e));
    return 2;
  }
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (bench/scenarios has ${scenarios.map((s) => s.name).join(', ')})`);
    return 2;
  }
  const all = scenarios.map((s) => s.name);
  if (names.length) scenarios = scenarios.filter((s) => names.includes(s.name));
  const sections = new Map<string, string>();
  let failed = false;
  for (const s of scenarios) {
    console.error(`running ${s.name}: ${s.compare.pipelines.join(', ')} × ${s.compare.codecs.join(', ')}, ${repeat ?? s.compare.repeat} runs each…`);
    const r = await runScenario(s, repeat);
    if (r.stderr.trim()) console.error(r.stderr.trim());
    console.error(`  ${r.seconds.toFixed(0)} s, ${r.resultFile.slice(ROOT.length)} ${(r.resultBytes / 1024).toFixed(0)} KB${r.doc.ok ? '' : ', CHECKS FAILED'}`);
    failed ||= !r.doc.ok;
    const md = markdown(r);
    sections.set(s.name, md);
    console.log(`${md}\n`);
  }
  // A subset replaces its own sections and keeps the others' from the last full run.
  const file = join(RESULTS, 'REPRODUCE.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, mergeReproduce(previous, sections, all));
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
