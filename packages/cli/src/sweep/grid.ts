/**
 * The grid of a sweep: four axes (pipeline, batch, codec, ram), given as comma lists on the
 * command line or as arrays in a `--grid` JSON file, crossed into points. Pipeline × batch is
 * combined the way the pipelines are named (kcompressd × 8 → batch:8, padata:2 × 8 →
 * padata:2+batch:8); combinations that are not a point are skipped with their reason. Points
 * are ordered by a hash of their key, which does not depend on the order the lists were typed
 * in, and `--shard i/n` takes every point whose index in that order is i−1 modulo n. (Ordered
 * by the key itself, the shards would follow the last axis: with two ram values and two
 * shards, one machine would run every 50 % point and the other every 70 % point.)
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CODECS, parsePipeline } from '@zreclaim/engine/internal';
import { UsageError } from '../errors.js';
import { readUserFile } from '../read-file.js';

export const AXES = ['pipeline', 'batch', 'codec', 'ram'] as const;
export type AxisName = (typeof AXES)[number];

/** The values of each axis, as given (ram as typed: "50%" or a number of pages). */
export interface Axes {
  pipeline: string[];
  batch: number[];
  codec: string[];
  ram: string[];
}

/** Where each axis came from, to name it in an error: a flag, `--grid FILE`, or the config. */
export type AxisSources = Record<AxisName, string>;

/** A point's grid coordinates. */
export interface PointParams {
  pipeline: string;
  batch: number;
  codec: string;
  ram: string;
}

export interface GridPoint {
  /** Stable identity: what ran, e.g. "pipeline=padata:2+batch:8 codec=lz4 ram=50%". */
  key: string;
  params: PointParams;
  /** The pipeline that runs (pipeline × batch combined). */
  pipeline: string;
}

export interface SkippedPoint {
  params: PointParams;
  reason: string;
}

/** The largest batch the engine takes (config.pipeline). */
export const MAX_BATCH = 256;
export const MAX_POINTS = 10_000;

const show = (v: unknown) => JSON.stringify(v);

export function pointKey(pipeline: string, codec: string, ram: string): string {
  return `pipeline=${pipeline} codec=${codec} ram=${ram}`;
}

/** A pipeline with a batch size; a reason instead when the two do not make a point. */
export function combinePipeline(pipeline: string, batch: number): { pipeline: string } | { reason: string } {
  const spec = parsePipeline(pipeline);
  if (!spec) return { reason: `unknown pipeline ${show(pipeline)}` };
  if (batch === 1) return { pipeline };
  if (spec.workers === 0) return { reason: 'inline compresses in kswapd itself, page by page: batches need compression workers' };
  if (spec.batch !== 1) return { reason: `${pipeline} names its batch size already` };
  if (pipeline === 'kcompressd') return { pipeline: `batch:${batch}` };
  return { pipeline: `${pipeline}+batch:${batch}` };
}

/**
 * Every combination of the axes: the points (deduplicated, in the grid's stable order) and the
 * combinations that are not a point. `refuse` is the engine's word on a point (e.g. inline
 * with zstd): a reason to skip it, or undefined.
 */
export function expandGrid(axes: Axes, refuse: (p: GridPoint) => string | undefined = () => undefined): { points: GridPoint[]; skipped: SkippedPoint[] } {
  const byKey = new Map<string, GridPoint>();
  const skipped: SkippedPoint[] = [];
  for (const pipeline of axes.pipeline) {
    for (const batch of axes.batch) {
      for (const codec of axes.codec) {
        for (const ram of axes.ram) {
          const params = { pipeline, batch, codec, ram };
          const c = combinePipeline(pipeline, batch);
          if ('reason' in c) {
            skipped.push({ params, reason: c.reason });
            continue;
          }
          const point = { key: pointKey(c.pipeline, codec, ram), params, pipeline: c.pipeline };
          const first = byKey.get(point.key);
          if (first) {
            skipped.push({ params, reason: `the same point as pipeline ${first.params.pipeline} × batch ${first.params.batch}` });
            continue;
          }
          const why = refuse(point);
          if (why !== undefined) skipped.push({ params, reason: why });
          else byKey.set(point.key, point);
        }
      }
    }
  }
  const order = new Map([...byKey.keys()].map((k) => [k, createHash('sha256').update(k).digest('hex')]));
  const points = [...byKey.values()].sort((a, b) => cmp(order.get(a.key)!, order.get(b.key)!) || cmp(a.key, b.key));
  return { points, skipped };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(raw: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError('--shard', `expected i/n with 1 ≤ i ≤ n, such as 1/4, got ${show(raw)} (run shard 1/4 to 4/4 on four machines)`);
  }
  return { index, count };
}

/** The points of one shard: index i−1 modulo n in the grid's order. */
export function shardPoints<T>(points: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...points];
  return points.filter((_, i) => i % shard.count === shard.index - 1);
}

/** Group skipped combinations by reason, one line each, e.g. "inline × batch 32 (4 points): …". */
export function describeSkipped(skipped: readonly SkippedPoint[]): string[] {
  const byReason = new Map<string, SkippedPoint[]>();
  for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s]);
  return [...byReason].map(([reason, list]) => {
    const pairs = [...new Set(list.map((s) => pairLabel(s.params, reason)))];
    return `skipped ${list.length} point${list.length === 1 ? '' : 's'} (${pairs.join(', ')}): ${reason}`;
  });
}

/** The coordinates a reason is about: pipeline × batch for a combination, pipeline × codec for the engine's refusal. */
function pairLabel(p: PointParams, reason: string): string {
  if (/codec|zstd|lz4/.test(reason)) return `${p.pipeline}${p.batch > 1 ? ` × batch ${p.batch}` : ''} × ${p.codec}`;
  return `${p.pipeline} × batch ${p.batch}`;
}

// ---- parsing the axes ----

function listItems(where: string, raw: string, example: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(where, `empty value in the list ${show(raw)} (separate values with commas, e.g. ${example})`);
  return items;
}

function noRepeats<T>(where: string, items: T[]): T[] {
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup !== undefined) throw new UsageError(where, `${show(dup)} is listed twice`);
  return items;
}

export function checkPipelines(where: string, items: string[]): string[] {
  for (const p of items) {
    if (!parsePipeline(p)) throw new UsageError(where, `unknown pipeline ${show(p)} (choose from inline, kcompressd, padata:N, batch:B, padata:N+batch:B)`);
  }
  return noRepeats(where, items);
}

export function checkBatches(where: string, items: unknown[]): number[] {
  for (const b of items) {
    const n = typeof b === 'string' && /^\d+$/.test(b) ? Number(b) : b;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_BATCH) {
      throw new UsageError(where, `expected batch sizes from 1 to ${MAX_BATCH}, got ${show(b)} (e.g. 1,8,32)`);
    }
  }
  return noRepeats(
    where,
    items.map((b) => Number(b)),
  );
}

export function checkCodecs(where: string, items: string[]): string[] {
  for (const c of items) {
    if (!(CODECS as readonly string[]).includes(c)) throw new UsageError(where, `unknown codec ${show(c)} (choose from ${CODECS.join(', ')})`);
  }
  return noRepeats(where, items);
}

export function checkRams(where: string, items: unknown[]): string[] {
  for (const r of items) {
    const s = typeof r === 'number' ? String(r) : r;
    if (typeof s !== 'string' || !/^(\d+|\d+(\.\d+)?%)$/.test(s)) {
      throw new UsageError(where, `expected RAM budgets as pages or shares of --pages such as 50%,75%, got ${show(r)}`);
    }
  }
  return noRepeats(
    where,
    items.map((r) => String(r)),
  );
}

/** The axis lists typed on the command line. */
export interface AxisFlags {
  pipeline?: string;
  batch?: string;
  codec?: string;
  ram?: string;
}

export const AXIS_FLAGS: Record<AxisName, string> = { pipeline: '--pipeline', batch: '--batch', codec: '--codec', ram: '--ram' };

export function axesFromFlags(flags: AxisFlags): Partial<Axes> {
  const out: Partial<Axes> = {};
  if (flags.pipeline !== undefined) out.pipeline = checkPipelines('--pipeline', listItems('--pipeline', flags.pipeline, 'inline,kcompressd,padata:2'));
  if (flags.batch !== undefined) out.batch = checkBatches('--batch', listItems('--batch', flags.batch, '1,8,32'));
  if (flags.codec !== undefined) out.codec = checkCodecs('--codec', listItems('--codec', flags.codec, 'lz4,zstd'));
  if (flags.ram !== undefined) out.ram = checkRams('--ram', listItems('--ram', flags.ram, '50%,75%'));
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface GridFile {
  axes: Partial<Axes>;
  /** The fixed config (engine config fields), paths resolved against the file's folder. */
  config: Obj;
}

const GRID_EXAMPLE = '{"pipeline": ["inline", "kcompressd"], "batch": [1, 32], "codec": ["lz4"], "ram": ["50%", "75%"], "config": {"pages": 16384, "duration": 3}}';

/** A `--grid` file: arrays for the axes, and `config` for the fixed config. */
export function readGridFile(file: string): GridFile {
  const where = `--grid ${file}`;
  const text = readUserFile(file, where, 'the grid file', `give the path of a JSON grid such as ${GRID_EXAMPLE}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(where, `not valid JSON: ${(e as Error).message} (fix the file; it must hold one JSON object)`);
  }
  if (!isObj(data)) throw new UsageError(where, `expected a JSON object such as ${GRID_EXAMPLE}`);
  const unknown = Object.keys(data).filter((k) => !(AXES as readonly string[]).includes(k) && k !== 'config');
  if (unknown.length > 0) {
    throw new UsageError(where, `unknown field ${show(unknown[0])} (a grid has ${AXES.join(', ')} as lists and config as an object of fixed engine config fields)`);
  }
  const axes: Partial<Axes> = {};
  for (const name of AXES) {
    const v = data[name];
    if (v === undefined) continue;
    const at = `${where}: ${name}`;
    if (!Array.isArray(v) || v.length === 0) throw new UsageError(at, `expected a non-empty list such as ${name === 'batch' ? '[1, 8, 32]' : name === 'ram' ? '["50%", "75%"]' : name === 'codec' ? '["lz4", "zstd"]' : '["inline", "kcompressd"]'}, got ${show(v)}`);
    if (name === 'batch') axes.batch = checkBatches(at, v);
    else if (name === 'ram') axes.ram = checkRams(at, v);
    else {
      const bad = v.find((x) => typeof x !== 'string');
      if (bad !== undefined) throw new UsageError(at, `expected names as strings, got ${show(bad)}`);
      axes[name] = name === 'pipeline' ? checkPipelines(at, v as string[]) : checkCodecs(at, v as string[]);
    }
  }
  const config = data.config ?? {};
  if (!isObj(config)) throw new UsageError(`${where}: config`, `expected an object of engine config fields such as {"pages": 16384, "duration": 3}, got ${show(config)}`);
  for (const name of AXES) {
    if (name !== 'batch' && config[name] !== undefined) {
      throw new UsageError(`${where}: config.${name}`, `${name} is an axis of the grid: give it as the list "${name}" at the top level, not in config`);
    }
  }
  const base = dirname(resolve(file));
  const rel = (p: unknown) => (typeof p === 'string' && p && !isAbsolute(p) && !p.startsWith('file:') ? resolve(base, p) : p);
  if (isObj(config.content) && config.content.kind === 'file') config.content = { ...config.content, path: rel(config.content.path) };
  if (isObj(config.workload) && config.workload.kind === 'module') config.workload = { ...config.workload, module: rel(config.workload.module) };
  return { axes, config };
}
