import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UsageError } from '../errors.js';
import { axesFromFlags, combinePipeline, describeSkipped, expandGrid, parseShard, readGridFile, shardPoints, type Axes, type GridPoint } from './grid.js';

/** The engine's refusal, as the sweep command asks it: zstd needs compression workers. */
const zstdInline = (p: GridPoint) => (p.pipeline === 'inline' && p.params.codec === 'zstd' ? 'zstd needs compression workers' : undefined);

const ISSUE_GRID: Axes = { pipeline: ['inline', 'kcompressd', 'padata:2'], batch: [1, 8, 32], codec: ['lz4', 'zstd'], ram: ['50%', '75%'] };

describe('sweep grid', () => {
  it('combines pipeline × batch as the pipelines are named', () => {
    expect(combinePipeline('padata:2', 8)).toEqual({ pipeline: 'padata:2+batch:8' });
    expect(combinePipeline('kcompressd', 8)).toEqual({ pipeline: 'batch:8' });
    expect(combinePipeline('kcompressd', 1)).toEqual({ pipeline: 'kcompressd' });
    expect(combinePipeline('inline', 1)).toEqual({ pipeline: 'inline' });
    expect(combinePipeline('inline', 8)).toHaveProperty('reason', expect.stringMatching(/batches need compression workers/));
    expect(combinePipeline('batch:4', 8)).toHaveProperty('reason', expect.stringMatching(/names its batch size/));
    expect(combinePipeline('batch:4', 1)).toEqual({ pipeline: 'batch:4' });
  });

  it("expands the issue's grid: inline only unbatched and without zstd, every other combination once, in a stable order", () => {
    const { points, skipped } = expandGrid(ISSUE_GRID, zstdInline);
    // inline: 1 batch × lz4 × 2 rams; kcompressd and padata:2: 3 batches × 2 codecs × 2 rams each.
    expect(points).toHaveLength(2 + 12 + 12);
    expect(skipped).toHaveLength(ISSUE_GRID.pipeline.length * 3 * 2 * 2 - points.length);
    expect(new Set(points.map((p) => p.key)).size).toBe(points.length);
    // The order is a hash of the key: it does not follow any one axis, so a shard gets a mix.
    expect(points.map((p) => p.key)).not.toEqual([...points.map((p) => p.key)].sort());
    const half = shardPoints(points, { index: 1, count: 2 });
    for (const axis of ['pipeline', 'codec', 'ram'] as const) expect(new Set(half.map((p) => p.params[axis])).size, axis).toBeGreaterThan(1);
    expect(points.find((p) => p.params.pipeline === 'padata:2' && p.params.batch === 8)?.pipeline).toBe('padata:2+batch:8');
    expect(points.find((p) => p.params.pipeline === 'kcompressd' && p.params.batch === 32 && p.params.codec === 'lz4' && p.params.ram === '50%')?.key).toBe('pipeline=batch:32 codec=lz4 ram=50%');
    expect(points.some((p) => p.pipeline === 'inline' && p.params.codec === 'zstd')).toBe(false);
    // Each reason once, with the combinations it covers.
    const lines = describeSkipped(skipped);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/skipped 8 points \(inline × batch 8, inline × batch 32\): inline compresses in kswapd itself/);
    expect(lines.join('\n')).toMatch(/skipped 2 points \(inline × zstd\): zstd needs compression workers/);
  });

  it('does not list a point twice when two coordinates name the same run', () => {
    const { points, skipped } = expandGrid({ pipeline: ['batch:8', 'kcompressd'], batch: [1], codec: ['lz4'], ram: ['50%'] });
    expect(points.map((p) => p.pipeline)).toEqual(['batch:8', 'kcompressd']);
    expect(skipped).toEqual([]);
  });

  it('shards partition the grid exactly: the union is the grid, no point in two shards, sizes within one', () => {
    const axes = fc.record({
      pipeline: fc.uniqueArray(fc.constantFrom('inline', 'kcompressd', 'padata:2', 'padata:4', 'batch:8'), { minLength: 1 }),
      batch: fc.uniqueArray(fc.constantFrom(1, 4, 8, 32), { minLength: 1 }),
      codec: fc.uniqueArray(fc.constantFrom('lz4', 'lz4-native', 'zstd'), { minLength: 1 }),
      ram: fc.uniqueArray(fc.constantFrom('40%', '50%', '75%', '8192'), { minLength: 1 }),
    });
    fc.assert(
      fc.property(axes, fc.integer({ min: 1, max: 9 }), (a, n) => {
        const { points } = expandGrid(a, zstdInline);
        const shards = Array.from({ length: n }, (_, i) => shardPoints(points, { index: i + 1, count: n }));
        const keys = shards.flat().map((p) => p.key);
        expect(keys).toHaveLength(points.length);
        expect(new Set(keys)).toEqual(new Set(points.map((p) => p.key)));
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(shardPoints(points, undefined)).toEqual(points);
      }),
      { numRuns: 200, seed: 6 },
    );
  });

  it('a shard is the same whatever order the lists were typed in (every machine computes the same split)', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(ISSUE_GRID.pipeline, { minLength: 3, maxLength: 3 }), fc.shuffledSubarray(ISSUE_GRID.batch, { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 5 }), (pipeline, batch, n) => {
        const a = expandGrid(ISSUE_GRID, zstdInline).points;
        const b = expandGrid({ ...ISSUE_GRID, pipeline, batch, codec: ['zstd', 'lz4'], ram: ['75%', '50%'] }, zstdInline).points;
        for (let i = 1; i <= n; i++) expect(shardPoints(b, { index: i, count: n }).map((p) => p.key)).toEqual(shardPoints(a, { index: i, count: n }).map((p) => p.key));
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it('parses --shard i/n (1-based) and refuses anything else naming the flag', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const bad of ['0/2', '3/2', '1/0', '1', '1/2/3', 'a/b', '-1/2', ' 1/2']) {
      expect(() => parseShard(bad), bad).toThrow(UsageError);
      expect(() => parseShard(bad)).toThrow(/^--shard: expected i\/n/);
    }
  });

  it('reads the axes from flags, naming the flag and the value of a bad one', () => {
    expect(axesFromFlags({ pipeline: 'inline,kcompressd,padata:2', batch: '1,8,32', codec: 'lz4,zstd', ram: '50%,75%' })).toEqual(ISSUE_GRID);
    const cases: [Parameters<typeof axesFromFlags>[0], RegExp][] = [
      [{ pipeline: 'inline,pada:2' }, /^--pipeline: unknown pipeline "pada:2"/],
      [{ pipeline: 'inline,,kcompressd' }, /^--pipeline: empty value/],
      [{ batch: '1,0' }, /^--batch: expected batch sizes from 1 to 256, got "0"/],
      [{ batch: '8,x' }, /^--batch: .*got "x"/],
      [{ codec: 'lz5' }, /^--codec: unknown codec "lz5" \(choose from lz4, lz4-native, zstd\)/],
      [{ ram: '50%,half' }, /^--ram: expected RAM budgets .* got "half"/],
      [{ ram: '50%,50%' }, /^--ram: "50%" is listed twice/],
    ];
    for (const [flags, re] of cases) expect(() => axesFromFlags(flags), JSON.stringify(flags)).toThrow(re);
  });

  it('reads a --grid file and names the file and the field of a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zreclaim-grid-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, body: unknown) => {
      const f = join(dir, name);
      writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
      return f;
    };
    const good = file('good.json', { ...ISSUE_GRID, config: { pages: 4096, duration: 1, content: { kind: 'file', path: 'dump.raw' } } });
    const g = readGridFile(good);
    expect(g.axes).toEqual(ISSUE_GRID);
    expect(g.config).toMatchObject({ pages: 4096, duration: 1, content: { kind: 'file', path: join(dir, 'dump.raw') } });
    const cases: [string, RegExp][] = [
      [file('notjson.json', '{ "pipeline": '), /^--grid .*notjson\.json: not valid JSON/],
      [file('array.json', []), /^--grid .*array\.json: expected a JSON object/],
      [file('unknown.json', { pipelines: ['inline'] }), /^--grid .*unknown\.json: unknown field "pipelines"/],
      [file('scalar.json', { batch: 8 }), /^--grid .*scalar\.json: batch: expected a non-empty list such as \[1, 8, 32\], got 8/],
      [file('badcodec.json', { codec: ['lz4', 'brotli'] }), /^--grid .*badcodec\.json: codec: unknown codec "brotli"/],
      [file('axisinconfig.json', { config: { pipeline: 'inline' } }), /^--grid .*axisinconfig\.json: config\.pipeline: pipeline is an axis/],
      [join(dir, 'missing.json'), /^--grid .*missing\.json: cannot read the grid file: no such file/],
    ];
    for (const [f, re] of cases) expect(() => readGridFile(f), f).toThrow(re);
  });
});
