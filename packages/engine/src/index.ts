/**
 * `@zreclaim/engine`: the public API for load tests.
 *
 *   await using engine = createEngine({ pages: 16384, pipeline: 'kcompressd' });
 *   const result = await engine.run({ workload, signal, onProgress });
 *
 * Latencies in results are nanoseconds. Everything else the repository's own tools use is in
 * `@zreclaim/engine/internal`, which follows the engine rather than semver.
 */
export { createEngine, Engine, type DrainOptions, type DrainResult, type Progress, type RunOptions } from './engine.js';
export { EngineError } from './errors.js';
export { resolveConfig, ConfigError, type Config, type ConfigInput, PIPELINES, CODECS } from './config.js';
export { RunResultSchema, RESULT_SCHEMA, type RunResult, type LatencySummary } from './result.js';
export { VMSTAT, LATENCIES, type VmstatName, type LatencyName } from './vmstat.js';
export { defineWorkload, type PageApi, type Workload, type WorkloadContext } from '@zreclaim/workloads';
