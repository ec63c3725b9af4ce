// The config schema's refusals that need more than a field's own range: pipeline spellings
// the engine cannot run (the arena limit is in big-arena.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigSchema, parsePipeline, resolveConfig } from './internal.js';
import { pipelineProblem } from './config.js';

/** Every spelling the engine cannot run, with what the message must say. */
const REFUSED_PIPELINES: [string, RegExp][] = [
  ['padata:0', /padata:N, the number of compression workers, must be 1\.\.16 \(inline is the pipeline without workers\)/],
  ['padata:0+batch:8', /padata:N, the number of compression workers, must be 1\.\.16/],
  ['padata:17', /padata:N, the number of compression workers, must be 1\.\.16/],
  ['padata:99999999999999999999', /padata:N, the number of compression workers, must be 1\.\.16/],
  ['padata:02', /padata:N, the number of compression workers, is written without leading zeros/],
  ['batch:0', /batch:B, the pages a worker takes per request, must be 1\.\.256/],
  ['batch:257', /batch:B, the pages a worker takes per request, must be 1\.\.256/],
  ['padata:2+batch:0', /batch:B, the pages a worker takes per request, must be 1\.\.256/],
  ['padata:-1', /pipeline must be inline, kcompressd, padata:N/],
  ['padata:1.5', /pipeline must be inline, kcompressd, padata:N/],
  ['padata:', /pipeline must be inline, kcompressd, padata:N/],
  ['padata:two', /pipeline must be inline, kcompressd, padata:N/],
  ['kcompressd:3', /pipeline must be inline, kcompressd, padata:N/],
  ['batch:8+padata:2', /pipeline must be inline, kcompressd, padata:N/],
  ['Inline', /pipeline must be inline, kcompressd, padata:N/],
  [' inline', /pipeline must be inline, kcompressd, padata:N/],
  ['', /pipeline must be inline, kcompressd, padata:N/],
  ['garbage', /pipeline must be inline, kcompressd, padata:N/],
];

describe('pipeline spellings', () => {
  for (const [name, why] of REFUSED_PIPELINES) {
    it(`refuses ${JSON.stringify(name)}, naming the field and the value`, () => {
      expect(parsePipeline(name)).toBeUndefined();
      expect(pipelineProblem(name)).toMatch(why);
      expect(ConfigSchema.safeParse({ pipeline: name }).success).toBe(false);
      let err: unknown;
      try {
        resolveConfig({ pipeline: name });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('pipeline');
      expect((err as ConfigError).message).toMatch(why);
      expect((err as ConfigError).message).toContain(`(got ${JSON.stringify(name)})`);
    });
  }

  it('accepts every pipeline the engine runs, at the ends of each range', () => {
    const ok: [string, number, number][] = [
      ['inline', 0, 1],
      ['kcompressd', 1, 1],
      ['padata:1', 1, 1],
      ['padata:16', 16, 1],
      ['batch:1', 1, 1],
      ['batch:256', 1, 256],
      ['padata:2+batch:32', 2, 32],
      ['padata:16+batch:256', 16, 256],
    ];
    for (const [name, workers, batch] of ok) {
      expect(pipelineProblem(name), name).toBeUndefined();
      expect(parsePipeline(name)).toEqual({ name, workers, batch });
      expect(resolveConfig({ pipeline: name }).pipe).toEqual({ name, workers, batch });
    }
  });
});
