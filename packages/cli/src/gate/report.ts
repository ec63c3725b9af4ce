/**
 * The gate's outputs: the human table, the Markdown summary (GitHub's step summary), the
 * github-action-benchmark files (customBiggerIsBetter / customSmallerIsBetter: arrays of
 * {name, unit, value, range, extra}) and a Bencher Metric Format file, and the lines that
 * say what --update changed.
 */
import Table from 'cli-table3';
import type { Baseline, GateResult, MetricResult, Verdict } from './schema.js';

const ARROW = { bigger: '↑', smaller: '↓' } as const;

/** A ratio with 3 significant digits (at least 2 decimals below 10). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

export function pctSigned(x: number): string {
  const v = x * 100;
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)} %`;
}

const pct = (x: number) => `${+(x * 100).toFixed(1)} %`;

const VERDICT: Record<Verdict, string> = {
  ok: 'ok',
  noise: 'ok (within noise)',
  better: 'better',
  warn: 'WARN',
  fail: 'FAIL',
};

function verdictCell(m: MetricResult): string {
  if (m.verdict === 'fail') return `FAIL (worse > ${pct(m.fail)})`;
  if (m.verdict === 'warn') return `WARN (worse > ${pct(m.warn)})`;
  return VERDICT[m.verdict];
}

function rows(g: GateResult): string[][] {
  return g.metrics.map((m) => [
    `${m.id} ${ARROW[m.better]}`,
    m.baseline === null ? '–' : fmt(m.baseline),
    fmt(m.now),
    m.change === null ? '–' : pctSigned(m.change),
    `${fmt(m.band[0])}–${fmt(m.band[1])}`,
    verdictCell(m),
  ]);
}

const HEAD = ['metric', 'baseline', 'now', 'change', 'band', 'verdict'];

function headerLines(g: GateResult): string[] {
  const e = g.environment as { cpuModel?: string; cores?: number; node?: string; commit?: string | null };
  const commit = e.commit ? ` · commit ${e.commit.slice(0, 12)}${e.commit.endsWith('-dirty') ? '-dirty' : ''}` : '';
  const lines = [`zreclaim gate · ${String(e.cpuModel ?? '').trim()} · ${e.cores} cores · node ${e.node}${commit}`];
  const b = g.baseline;
  const base = b ? ` · baseline ${b.file}: ${b.mode} mode, ${b.rounds} rounds, ${b.recordedAt.slice(0, 10)}${typeof b.commit === 'string' ? `, commit ${b.commit.slice(0, 12)}` : ''}` : '';
  lines.push(`${g.mode} mode: ${g.rounds} round${g.rounds === 1 ? '' : 's'}, interleaved across ${g.scenarios.length} scenario${g.scenarios.length === 1 ? '' : 's'}, ${g.seconds.toFixed(0)} s${base}`);
  lines.push(`injected compression slowdown: ${g.injectCompressNs} ns/page${g.injectCompressNs > 0 ? ' (ZRECLAIM_INJECT_COMPRESS_NS)' : ''}`);
  return lines;
}

function notes(g: GateResult): string[] {
  return [
    `now: median of the per-round ratios (a round's ratio: the median of its pairs or runs); band: ${g.band}; ↑ bigger is better, ↓ smaller is better`,
    'a metric fails only when its median is worse than the baseline by more than its fail threshold AND no round reached the baseline (the baseline is outside the band)',
  ];
}

export function verdictLine(g: GateResult): string {
  if (g.updated) return `baseline updated (${g.metrics.length} metrics)`;
  const warns = g.warnings.length > 0 ? ` (${g.warnings.length} warning${g.warnings.length > 1 ? 's' : ''}: ${g.warnings.join(', ')})` : '';
  if (g.ok) return `PASS: no regression${warns}`;
  const what = g.metrics
    .filter((m) => m.verdict === 'fail')
    .map((m) => `${m.id} ${fmt(m.baseline!)} → ${fmt(m.now)} (${pctSigned(m.change!)}, fail threshold ${pct(m.fail)})`);
  return `FAIL: regression in ${what.join('; ')}${warns}`;
}

export function formatGate(g: GateResult): string {
  const t = new Table({
    head: HEAD,
    colAligns: ['left', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
  });
  for (const r of rows(g)) t.push(r);
  return `${[...headerLines(g), t.toString(), ...notes(g), verdictLine(g)].join('\n')}\n`;
}

export function markdownGate(g: GateResult): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `### zreclaim gate: ${g.updated ? 'baseline updated' : g.ok ? 'PASS' : 'FAIL'}`,
    '',
    ...headerLines(g).map((l) => `${esc(l)}  `),
    '',
    `| ${HEAD.join(' | ')} |`,
    '|---|---:|---:|---:|---:|---|',
    ...rows(g).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    ...notes(g).map((l) => `${esc(l)}  `),
    `**${esc(verdictLine(g))}**`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

export interface BenchEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

/** github-action-benchmark's customBiggerIsBetter and customSmallerIsBetter arrays. */
export function benchmarkJson(g: GateResult): { bigger: BenchEntry[]; smaller: BenchEntry[] } {
  const entry = (m: MetricResult): BenchEntry => ({
    name: m.id,
    unit: 'ratio',
    value: +m.now.toPrecision(6),
    range: `${fmt(m.band[0])}–${fmt(m.band[1])}`,
    extra: [
      m.definition,
      `median of ${m.rounds.length} rounds, band ${g.band}`,
      m.baseline === null ? 'no baseline' : `baseline ${fmt(m.baseline)}, change ${pctSigned(m.change!)}, verdict ${m.verdict}`,
    ].join('\n'),
  });
  return { bigger: g.metrics.filter((m) => m.better === 'bigger').map(entry), smaller: g.metrics.filter((m) => m.better === 'smaller').map(entry) };
}

/** Bencher Metric Format: { name: { ratio: { value, lower_value, upper_value } } }. */
export function bencherJson(g: GateResult): Record<string, { ratio: { value: number; lower_value: number; upper_value: number } }> {
  return Object.fromEntries(g.metrics.map((m) => [m.id, { ratio: { value: m.now, lower_value: m.band[0], upper_value: m.band[1] } }]));
}

/** What --update changed, one line per metric (and per scenario added or dropped). */
export function updateLines(before: Baseline | undefined, after: Baseline, unreadable: string | undefined): string[] {
  const lines: string[] = [];
  if (unreadable) lines.push(`the previous baseline could not be used (${unreadable}); wrote a new one`);
  for (const [name, s] of Object.entries(after.scenarios)) {
    const old = before?.scenarios[name];
    if (!old) {
      lines.push(`${name}: new scenario`);
    } else if (old.configHash !== s.configHash) {
      const changed = Object.keys(s.variants).filter((v) => old.variants[v] !== s.variants[v]);
      lines.push(`${name}: config changed (${changed.length > 0 ? `variants ${changed.join(', ')}` : 'variants renamed'}): previous figures no longer comparable`);
    }
    for (const [m, bm] of Object.entries(s.metrics)) {
      const was = old?.metrics[m];
      if (!was) lines.push(`  ${name}/${m}: ${fmt(bm.value)} (band ${fmt(bm.band[0])}–${fmt(bm.band[1])}), new`);
      else lines.push(`  ${name}/${m}: ${fmt(was.value)} → ${fmt(bm.value)} (${pctSigned(bm.value / was.value - 1)}; band ${fmt(bm.band[0])}–${fmt(bm.band[1])})${was.definition !== bm.definition ? ', definition changed' : ''}`);
    }
    for (const m of Object.keys(old?.metrics ?? {})) if (!s.metrics[m]) lines.push(`  ${name}/${m}: dropped`);
  }
  for (const name of Object.keys(before?.scenarios ?? {})) if (!after.scenarios[name]) lines.push(`${name}: dropped (no scenario file defines it)`);
  return lines;
}
