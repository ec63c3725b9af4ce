/**
 * A sweep's output: JSON lines, one per finished point, schema `zreclaim.sweep/v1`. Each line
 * carries the sweep's identity (a hash of its fixed config, the same on every shard), the
 * point's key and grid coordinates, and the run's result without the per-application block
 * (environment, config, counters, rates, latency histograms with their buckets and time
 * series are kept: what `zreclaim report` draws).
 */
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { RunResultSchema, type RunResult } from '@zreclaim/engine';
import { UsageError } from '../errors.js';

export const SWEEP_SCHEMA = 'zreclaim.sweep/v1';

export const SweepResultSchema = RunResultSchema.omit({ apps: true });
export type SweepResult = Omit<RunResult, 'apps'>;

export const SweepPointSchema = z
  .object({
    schema: z.literal(SWEEP_SCHEMA),
    kind: z.literal('sweep-point'),
    /** The sweep: a hash of the config every point shares (all but pipeline, codec and ram). */
    sweep: z.string(),
    /** The point: "pipeline=… codec=… ram=…". */
    key: z.string(),
    /** Grid coordinates as given: pipeline × batch combine into `pipeline`. */
    params: z.object({ pipeline: z.string(), batch: z.number().int().positive(), codec: z.string(), ram: z.string() }).strict(),
    /** The pipeline that ran. */
    pipeline: z.string(),
    /** 0-based position in the whole grid's order, the grid's size, and the shard that ran it ("i/n", or null). */
    index: z.number().int().nonnegative(),
    grid_size: z.number().int().positive(),
    shard: z.string().nullable(),
    finishedAt: z.string(),
    result: SweepResultSchema,
  })
  .strict();
export type SweepPoint = Omit<z.infer<typeof SweepPointSchema>, 'result'> & { result: SweepResult };

export function trimResult(r: RunResult): SweepResult {
  const { apps: _apps, ...rest } = r;
  return rest;
}

export interface ReadLines {
  /** Parsed lines, in file order. */
  points: SweepPoint[];
  /** A last line cut short (no newline, not JSON): an interrupted write. */
  partialTail: boolean;
}

/**
 * Read a sweep file; a line that is not a valid point is an error naming the file and the
 * line. A last line without its newline that does not parse is reported as partial (an
 * interrupted write), not an error.
 */
export function readSweepLines(file: string, text: string = readFileSync(file, 'utf8')): ReadLines {
  const lines = text.split('\n');
  const points: SweepPoint[] = [];
  let partialTail = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1 && !text.endsWith('\n')) {
        partialTail = true;
        break;
      }
      throw new UsageError(file, `line ${i + 1} is not JSON (${(e as Error).message}); expected ${SWEEP_SCHEMA} JSON lines`);
    }
    points.push(parsePoint(file, i + 1, data));
  }
  return { points, partialTail };
}

export function parsePoint(file: string, lineNo: number, data: unknown): SweepPoint {
  const schema = data !== null && typeof data === 'object' ? (data as { schema?: unknown }).schema : undefined;
  if (schema !== SWEEP_SCHEMA) {
    throw new UsageError(file, `line ${lineNo} is not a sweep point: schema ${JSON.stringify(schema ?? null)}, expected ${SWEEP_SCHEMA}`);
  }
  const r = SweepPointSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UsageError(file, `line ${lineNo}: field ${issue.path.join('.') || '(root)'}: ${issue.message} (the line is not a valid ${SWEEP_SCHEMA} point)`);
  }
  return r.data as SweepPoint;
}

/** The output file, opened for appending: drops a partial last line first. */
export class SweepOutput {
  private fd: number | undefined;

  constructor(readonly file: string) {}

  /** The points already in the file (none if it does not exist), and whether a partial line was dropped. */
  existing(): ReadLines {
    if (!existsSync(this.file)) return { points: [], partialTail: false };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new UsageError(`--out ${this.file}`, `cannot read it to resume: ${(e as Error).message}`);
    }
    const read = readSweepLines(`--out ${this.file}`, text);
    if (read.partialTail) truncateSync(this.file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    return read;
  }

  append(p: SweepPoint): void {
    try {
      this.fd ??= openSync(this.file, 'a');
      writeSync(this.fd, `${JSON.stringify(p)}\n`);
    } catch (e) {
      throw new UsageError(`--out ${this.file}`, `cannot write: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
