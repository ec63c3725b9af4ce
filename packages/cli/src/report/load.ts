/**
 * The inputs of `zreclaim report`: run results (`zreclaim run --json`), compare documents
 * (`zreclaim compare --json`) and sweep JSON lines (`zreclaim sweep --out`). Each file is
 * recognised by its schema; anything else is one clear error naming the file and what was
 * expected (exit 2). Sweep points are grouped by sweep (the hash of their fixed config), so
 * the shards of one sweep merge; a point found more than once is kept once and said once.
 */
import { basename } from 'node:path';
import { LATENCIES, RESULT_SCHEMA, RunResultSchema, VMSTAT, type RunResult } from '@zreclaim/engine';
import { COMPARE_SCHEMA, CompareResultSchema, type CompareResult } from '../compare-schema.js';
import { UsageError } from '../errors.js';
import { readUserFile } from '../read-file.js';
import { parsePoint, readSweepLines, SWEEP_SCHEMA, type SweepPoint, type SweepResult } from '../sweep/points.js';

export const EXPECTED = `a run result (${RESULT_SCHEMA}, from zreclaim run --json), a compare document (${COMPARE_SCHEMA}, from zreclaim compare --json) or sweep JSON lines (${SWEEP_SCHEMA}, from zreclaim sweep --out)`;

export interface RunInput {
  file: string;
  result: RunResult;
}

export interface CompareInput {
  file: string;
  doc: CompareResult;
}

export interface SweepInput {
  /** The sweep's identity (hash of its fixed config). */
  id: string;
  files: string[];
  /** One per key, ordered by key. */
  points: SweepPoint[];
  /** Keys found more than once (the first kept). */
  duplicates: string[];
  /** The grid's size as the points recorded it, and how many of its points are here. */
  gridSize: number;
}

export interface Inputs {
  runs: RunInput[];
  compares: CompareInput[];
  sweeps: SweepInput[];
  sources: { file: string; kind: 'run' | 'compare' | 'sweep'; what: string }[];
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function invalid(file: string, schema: string, issue: { path: PropertyKey[]; message: string }): UsageError {
  const field = issue.path.map(String).join('.') || '(root)';
  return new UsageError(file, `not a valid ${schema} document: field ${field}: ${issue.message} (expected ${EXPECTED})`);
}

function notOurs(file: string, what: string): UsageError {
  return new UsageError(file, `not a zreclaim result: ${what} (expected ${EXPECTED})`);
}

type Loaded = ({ kind: 'run'; result: RunResult } | { kind: 'compare'; doc: CompareResult } | { kind: 'sweep'; points: SweepPoint[]; partial: boolean }) & { filled?: string[] };

/**
 * Documents of the same schema version written before a histogram or counter existed (e.g.
 * compare documents from before zswap_writeback and gc_free) lack those names: read them as
 * empty (no records, 0) rather than refuse the file. Returns the names filled in.
 */
function fillMissing(result: unknown, withBuckets: boolean, filled: Set<string>): void {
  if (!isObj(result)) return;
  const lat = result.latency;
  if (isObj(lat)) {
    for (const k of LATENCIES) {
      if (lat[k] !== undefined) continue;
      lat[k] = { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, ...(withBuckets ? { buckets: [] } : {}) };
      filled.add(`latency ${k}`);
    }
  }
  const counters = result.counters;
  if (isObj(counters)) {
    for (const k of VMSTAT) {
      if (counters[k] !== undefined) continue;
      counters[k] = 0;
      filled.add(`counter ${k}`);
    }
  }
}

export function loadFile(file: string): Loaded {
  const text = readUserFile(file, file, 'it', `give ${EXPECTED}`);
  if (text.trim() === '') throw notOurs(file, 'the file is empty');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Not one JSON document: JSON lines, if its first line is a sweep point.
    const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
    let head: unknown;
    try {
      head = JSON.parse(first);
    } catch {
      throw notOurs(file, 'not JSON');
    }
    const schema = isObj(head) ? head.schema : undefined;
    if (schema !== SWEEP_SCHEMA) throw notOurs(file, `JSON lines whose first line has schema ${JSON.stringify(schema ?? null)}`);
    const read = readSweepLines(file, text);
    return { kind: 'sweep', points: read.points, partial: read.partialTail };
  }
  if (!isObj(data)) throw notOurs(file, Array.isArray(data) ? 'a JSON array' : `the JSON value ${JSON.stringify(data).slice(0, 40)}`);
  const schema = data.schema;
  const filled = new Set<string>();
  if (schema === RESULT_SCHEMA) {
    fillMissing(data, true, filled);
    const r = RunResultSchema.safeParse(data);
    if (!r.success) throw invalid(file, RESULT_SCHEMA, r.error.issues[0]);
    return { kind: 'run', result: r.data as RunResult, filled: [...filled] };
  }
  if (schema === COMPARE_SCHEMA) {
    if (Array.isArray(data.variants)) for (const v of data.variants) if (isObj(v) && Array.isArray(v.runs)) for (const r of v.runs) fillMissing(r, false, filled);
    const r = CompareResultSchema.safeParse(data);
    if (!r.success) throw invalid(file, COMPARE_SCHEMA, r.error.issues[0]);
    return { kind: 'compare', doc: r.data, filled: [...filled] };
  }
  if (schema === SWEEP_SCHEMA) return { kind: 'sweep', points: [parsePoint(file, 1, data)], partial: false };
  throw notOurs(file, schema === undefined ? 'no "schema" field' : `schema ${JSON.stringify(schema)}`);
}

export function loadInputs(files: string[]): Inputs {
  const runs: RunInput[] = [];
  const compares: CompareInput[] = [];
  const sources: Inputs['sources'] = [];
  const notes: string[] = [];
  const sweeps = new Map<string, { files: string[]; byKey: Map<string, SweepPoint>; duplicates: string[]; gridSize: number }>();
  for (const file of files) {
    const l = loadFile(file);
    if (l.filled && l.filled.length > 0) notes.push(`${file}: written before ${l.filled.join(', ')} existed; read as empty`);
    if (l.kind === 'run') {
      runs.push({ file, result: l.result });
      sources.push({ file, kind: 'run', what: `run: ${l.result.pipeline.name} · ${l.result.pipeline.codec} · ${l.result.elapsedMs > 0 ? `${(l.result.elapsedMs / 1000).toFixed(1)} s` : ''}` });
    } else if (l.kind === 'compare') {
      compares.push({ file, doc: l.doc });
      sources.push({ file, kind: 'compare', what: `compare: ${l.doc.variants.map((v) => v.name).join(', ')} × ${l.doc.repeat} runs` });
    } else {
      if (l.partial) notes.push(`${file}: a partial last line (an interrupted write) was ignored`);
      const ids = new Set<string>();
      for (const p of l.points) {
        ids.add(p.sweep);
        let s = sweeps.get(p.sweep);
        if (!s) sweeps.set(p.sweep, (s = { files: [], byKey: new Map(), duplicates: [], gridSize: p.grid_size }));
        if (!s.files.includes(file)) s.files.push(file);
        s.gridSize = Math.max(s.gridSize, p.grid_size);
        if (s.byKey.has(p.key)) s.duplicates.push(p.key);
        else s.byKey.set(p.key, p);
      }
      sources.push({ file, kind: 'sweep', what: `sweep ${[...ids].join(', ')}: ${l.points.length} point${l.points.length === 1 ? '' : 's'}` });
    }
  }
  const sweepList: SweepInput[] = [...sweeps].map(([id, s]) => ({
    id,
    files: s.files,
    points: [...s.byKey.values()].sort((a, b) => a.index - b.index || (a.key < b.key ? -1 : 1)),
    duplicates: [...new Set(s.duplicates)],
    gridSize: s.gridSize,
  }));
  for (const s of sweepList) {
    if (s.duplicates.length > 0) {
      notes.push(`sweep ${s.id}: ${s.duplicates.length} point${s.duplicates.length === 1 ? ' was' : 's were'} found more than once (kept the first): ${s.duplicates.join('; ')}`);
    }
    if (s.points.length < s.gridSize) notes.push(`sweep ${s.id}: ${s.points.length} of the grid's ${s.gridSize} points are here (a shard or an unfinished sweep)`);
  }
  return { runs, compares, sweeps: sweepList, sources, notes };
}

/** A short name for a file in labels. */
export function shortName(file: string): string {
  return basename(file);
}

export type { SweepResult };
