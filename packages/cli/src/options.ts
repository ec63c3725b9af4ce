/**
 * `zreclaim run` flags → an engine ConfigInput. Flags are strings here and are parsed
 * strictly (a bad value names its flag); a --config file gives the base and flags override
 * it field by field. Range checks are the engine's (ConfigError), not duplicated here.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigInput } from '@zreclaim/engine';
import { UsageError } from './errors.js';
import { defaultOf, kindsOf } from './schema.js';

/** Flags as commander gives them, only those the user typed. */
export interface RunFlags {
  pages?: string;
  pageSize?: string;
  ram?: string;
  apps?: string;
  workload?: string;
  hot?: string;
  hotAccess?: string;
  writeFraction?: string;
  content?: string;
  ratio?: string;
  duration?: string;
  seed?: string;
  pipeline?: string;
  ringCapacity?: string;
  onFull?: string;
  unmapCost?: string;
  codec?: string;
  kswapd?: boolean;
  slice?: string;
  hugeThreshold?: string;
  memLimit?: string;
  store?: string;
  maxPoolPercent?: string;
  writebackFile?: string;
  gc?: string;
  gcCap?: string;
  compact?: boolean;
  verify?: boolean;
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

type Parse = 'int' | 'number' | 'string' | 'bool' | 'bytes' | 'path';

/** A flag that sets one config field. */
export interface FlagSpec {
  key: keyof RunFlags;
  flag: string;
  /** Dotted config path. */
  path: string;
  parse: Parse;
}

/** Flags that map one-to-one onto a config field (the others are handled below). */
export const SIMPLE_FLAGS: FlagSpec[] = [
  { key: 'pages', flag: '--pages', path: 'pages', parse: 'int' },
  { key: 'pageSize', flag: '--page-size', path: 'pageSize', parse: 'int' },
  { key: 'apps', flag: '--apps', path: 'apps', parse: 'int' },
  { key: 'duration', flag: '--duration', path: 'duration', parse: 'number' },
  { key: 'seed', flag: '--seed', path: 'seed', parse: 'int' },
  { key: 'pipeline', flag: '--pipeline', path: 'pipeline', parse: 'string' },
  { key: 'ringCapacity', flag: '--ring-capacity', path: 'ringCapacity', parse: 'int' },
  { key: 'codec', flag: '--codec', path: 'codec', parse: 'string' },
  { key: 'kswapd', flag: '--no-kswapd', path: 'kswapd.enabled', parse: 'bool' },
  { key: 'slice', flag: '--slice', path: 'kswapd.slice', parse: 'int' },
  { key: 'onFull', flag: '--on-full', path: 'kswapd.onFull', parse: 'string' },
  { key: 'unmapCost', flag: '--unmap-cost', path: 'unmapCostNs', parse: 'int' },
  { key: 'hugeThreshold', flag: '--huge-threshold', path: 'store.hugeThreshold', parse: 'number' },
  { key: 'memLimit', flag: '--mem-limit', path: 'store.memLimit', parse: 'int' },
  { key: 'store', flag: '--store', path: 'store.mode', parse: 'string' },
  { key: 'maxPoolPercent', flag: '--max-pool-percent', path: 'store.maxPoolPercent', parse: 'int' },
  { key: 'writebackFile', flag: '--writeback-file', path: 'store.writebackFile', parse: 'path' },
  { key: 'compact', flag: '--no-compact', path: 'store.compact', parse: 'bool' },
  { key: 'gc', flag: '--gc', path: 'gc.mode', parse: 'string' },
  { key: 'gcCap', flag: '--gc-cap', path: 'gc.capBytes', parse: 'bytes' },
  { key: 'verify', flag: '--no-verify', path: 'verify', parse: 'bool' },
];

const USEMEM_FLAGS: FlagSpec[] = [
  { key: 'hot', flag: '--hot', path: 'workload.hot', parse: 'number' },
  { key: 'hotAccess', flag: '--hot-access', path: 'workload.hotAccess', parse: 'number' },
  { key: 'writeFraction', flag: '--write-fraction', path: 'workload.writeFraction', parse: 'number' },
];

/** Every flag that sets config, for naming the source of a ConfigError. */
export const CONFIG_FLAGS: FlagSpec[] = [
  ...SIMPLE_FLAGS,
  ...USEMEM_FLAGS,
  { key: 'ram', flag: '--ram', path: 'ram', parse: 'string' },
  { key: 'workload', flag: '--workload', path: 'workload', parse: 'string' },
  { key: 'ratio', flag: '--ratio', path: 'content.ratio', parse: 'number' },
  { key: 'content', flag: '--content', path: 'content', parse: 'string' },
];

const show = (s: string) => JSON.stringify(s);

export function parseInt10(flag: string, s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new UsageError(flag, `expected a whole number, got ${show(s)}`);
  return n;
}

export function parseNumber(flag: string, s: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new UsageError(flag, `expected a number such as 0.5, got ${show(s)}`);
  return Number(s);
}

const UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** A byte count: a whole number, optionally with B, KiB, MiB or GiB. */
export function parseBytes(flag: string, s: string): number {
  const m = /^(\d+)(B|KiB|MiB|GiB)?$/.exec(s);
  const n = m ? Number(m[1]) * UNITS[m[2] ?? ''] : NaN;
  if (!m || !Number.isSafeInteger(n)) throw new UsageError(flag, `expected a size in bytes such as 67108864 or 64MiB, got ${show(s)}`);
  return n;
}

export function parseRam(s: string): number | string {
  if (/^\d+$/.test(s)) return parseInt10('--ram', s);
  if (/^\d+(\.\d+)?%$/.test(s)) return s;
  throw new UsageError('--ram', `expected a number of pages or a share of --pages such as 50%, got ${show(s)}`);
}

function value(spec: FlagSpec, raw: string | boolean): unknown {
  switch (spec.parse) {
    case 'int':
      return parseInt10(spec.flag, String(raw));
    case 'number':
      return parseNumber(spec.flag, String(raw));
    case 'bool':
      return Boolean(raw);
    case 'bytes':
      return parseBytes(spec.flag, String(raw));
    case 'path':
      return resolve(String(raw));
    default:
      return raw;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function setPath(target: Obj, path: string, v: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[keys[keys.length - 1]] = v;
}

function existingFile(where: string, path: string, what: string): void {
  let ok: boolean;
  try {
    ok = statSync(path).isFile();
  } catch {
    throw new UsageError(where, `no such file ${show(path)} (give the path of ${what})`);
  }
  if (!ok) throw new UsageError(where, `${show(path)} is not a regular file (give the path of ${what})`);
}

function contentFrom(flags: RunFlags, base: unknown): unknown {
  const kinds = kindsOf('content');
  const spec = flags.content;
  const baseMix = isObj(base) && base.kind === 'mix' ? base : undefined;
  const ratio = flags.ratio === undefined ? undefined : parseNumber('--ratio', flags.ratio);
  if (spec === undefined) {
    if (ratio === undefined) return base;
    const def = defaultOf('content') as Obj;
    if (base === undefined && def.kind === 'mix') return { ...def, ratio };
    if (!baseMix) throw new UsageError('--ratio', 'applies to --content mix only (add --content mix)');
    return { ...baseMix, ratio };
  }
  if (spec.startsWith('file:')) {
    if (ratio !== undefined) throw new UsageError('--ratio', 'applies to --content mix only, not file:');
    const path = spec.slice('file:'.length);
    if (!path) throw new UsageError('--content', 'file: needs a path, e.g. --content file:/tmp/core.raw');
    existingFile('--content', path, 'a file of raw pages, such as a memory dump');
    return { kind: 'file', path: resolve(path) };
  }
  const listed = kinds.filter((k) => k !== 'file').concat('file:PATH');
  if (!kinds.includes(spec) || spec === 'file') {
    throw new UsageError('--content', `unknown content ${show(spec)} (choose one of ${listed.join(', ')})`);
  }
  if (spec !== 'mix') {
    if (ratio !== undefined) throw new UsageError('--ratio', `applies to --content mix only, not ${spec}`);
    return { kind: spec };
  }
  const def = defaultOf('content') as Obj;
  const defRatio = def.kind === 'mix' ? def.ratio : undefined;
  return { ...(baseMix ?? {}), kind: 'mix', ratio: ratio ?? baseMix?.ratio ?? defRatio };
}

function workloadFrom(flags: RunFlags, base: unknown): unknown {
  let w: unknown = base;
  if (flags.workload !== undefined) {
    if (flags.workload === 'usemem' || flags.workload === 'kill') {
      w = isObj(base) && base.kind === 'usemem' ? base : { kind: 'usemem' };
      // kill: usemem whose exit is one kill (every page unmapped at once), not a page-by-page unmap.
      if (flags.workload === 'kill') w = { ...(w as Obj), exit: 'kill' };
    } else {
      const m = flags.workload;
      if (!m.startsWith('file:')) existingFile('--workload', m, 'an ES module that default-exports a workload, or usemem');
      w = { kind: 'module', module: m.startsWith('file:') ? m : resolve(m) };
    }
  }
  const given = USEMEM_FLAGS.filter((s) => flags[s.key] !== undefined);
  if (given.length === 0) return w;
  if (isObj(w) && w.kind !== undefined && w.kind !== 'usemem') {
    throw new UsageError(given[0].flag, 'applies to the usemem workload only, not to a workload module');
  }
  const out: Obj = { kind: 'usemem', ...(isObj(w) ? w : {}) };
  for (const s of given) out[s.path.split('.')[1]] = value(s, flags[s.key] as string);
  return out;
}

/** The config a run uses: the --config file's (already read) with the flags applied. */
export function toConfigInput(flags: RunFlags, base: Obj = {}): ConfigInput {
  const out: Obj = structuredClone(base);
  for (const s of SIMPLE_FLAGS) {
    const raw = flags[s.key];
    if (raw !== undefined) setPath(out, s.path, value(s, raw));
  }
  if (flags.ram !== undefined) out.ram = parseRam(flags.ram);
  const content = contentFrom(flags, out.content);
  if (content !== undefined) out.content = content;
  const workload = workloadFrom(flags, out.workload);
  if (workload !== undefined) out.workload = workload;
  return out as ConfigInput;
}

/** The flag that set a config field (as named by ConfigError.field), if the user typed one. */
export function flagFor(field: string, flags: RunFlags): string | undefined {
  const hit = CONFIG_FLAGS.find(
    (s) => flags[s.key] !== undefined && (s.path === field || field.startsWith(`${s.path}.`) || s.path.startsWith(`${field}.`)),
  );
  return hit?.flag;
}
