/**
 * The human table of `zreclaim compare`: one row per headline metric, one column per
 * variant (median ± half the min–max range, as a share of the median), and for every
 * variant after the first the ratio of its median to the first variant's.
 */
import Table from 'cli-table3';
import type { Config } from '@zreclaim/engine';
import type { CompareResult } from '../compare-schema.js';
import { METRICS, ratio, type Spread } from '../compare-stats.js';
import { configSummary } from './table.js';
import { int, num } from './units.js';

const ARROW = { higher: '↑', lower: '↓', none: '' } as const;

function value(v: number, unit: string): string {
  return unit === 'count' ? int(v) : num(v);
}

function cell(s: Spread | null, unit: string, repeat: number): string {
  if (s === null) return '–';
  const partial = s.runs < repeat ? '*' : '';
  if (s.runs === 1) return `${value(s.median, unit)}${partial}`;
  const half = (s.max - s.min) / 2;
  if (half === 0) return `${value(s.median, unit)}${partial}`;
  const pct = s.median !== 0 ? (half / Math.abs(s.median)) * 100 : Infinity;
  // A spread wider than the median itself reads better as the range.
  if (!(pct < 100)) return `${value(s.median, unit)} (${value(s.min, unit)}–${value(s.max, unit)})${partial}`;
  return `${value(s.median, unit)} ±${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%${partial}`;
}

function ratioCell(a: Spread | null, b: Spread | null): string {
  const r = ratio(a?.median, b?.median);
  if (r === null || a === null || b === null) return '–';
  const overlap = a.min <= b.max && b.min <= a.max;
  return `${r >= 100 ? r.toFixed(0) : r < 0.1 ? r.toPrecision(2) : r.toFixed(2)}×${overlap ? '~' : ''}`;
}

export function formatCompare(doc: CompareResult, config: Config): string {
  const e = doc.environment;
  const commit = e.commit ? ` · commit ${e.commit.slice(0, 12)}${e.commit.endsWith('-dirty') ? '-dirty' : ''}` : '';
  const names = doc.variants.map((v) => v.name);
  const codecs = doc.codecs.length === 1 ? ` (codec ${doc.codecs[0]})` : '';
  const lines = [
    `zreclaim compare · ${e.cpuModel.trim()} · ${e.cores} cores · node ${e.node} · ${e.platform} ${e.kernel} · libuv pool ${e.libuvThreadpoolSize}${commit}`,
    configSummary(config, { pipeline: false }),
    `variants: ${names.join(', ')}${codecs} · ${doc.repeat} run${doc.repeat > 1 ? 's' : ''} each, interleaved: every round runs ${names.join(' → ')}` +
      (doc.repeat > 1 ? `, ${doc.repeat} rounds` : ''),
    '',
  ];
  const first = doc.variants[0];
  const head = ['metric', ''];
  const align: ('left' | 'right')[] = ['left', 'left'];
  doc.variants.forEach((v, i) => {
    head.push(v.name);
    align.push('right');
    if (i > 0) {
      head.push(`vs ${first.name}`);
      align.push('right');
    }
  });
  const t = new Table({ head, colAligns: align, style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 } });
  let partial = false;
  for (const m of METRICS) {
    const row = [m.label, ARROW[m.better]];
    doc.variants.forEach((v, i) => {
      const s = v.spread[m.key];
      if (s && s.runs < doc.repeat) partial = true;
      row.push(cell(s, m.unit, doc.repeat));
      if (i > 0) row.push(ratioCell(s, first.spread[m.key]));
    });
    t.push(row);
  }
  lines.push(t.toString());
  const notes = [
    `cells: median ±half the min–max range over ${doc.repeat} run${doc.repeat > 1 ? 's' : ''} (as a share of the median; the range itself when wider); – none seen`,
    `↑ higher is better, ↓ lower is better; vs ${first.name}: median ÷ ${first.name}'s median, ~ when the min–max ranges overlap (within run-to-run noise)`,
  ];
  if (partial) notes.push('* only some runs saw the event; median over those runs');
  lines.push(...notes);
  const failed = doc.failures.map((f) => `checks FAILED: ${f.variant} round ${f.round}: ${f.problems.join('; ')}`);
  lines.push(failed.length > 0 ? failed.join('\n') : `checks: every run's counters add up, no read mismatched`);
  return `${lines.join('\n')}\n`;
}
