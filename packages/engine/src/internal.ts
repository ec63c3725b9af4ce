/**
 * `@zreclaim/engine/internal`: what zreclaim's own CLI, benchmarks and thread entry points use
 * beside the public API (codecs, shared-memory setup, the reclaim path's classes, the control
 * plane). Not covered by semver: it changes with the engine.
 */
export * from './index.js';
export type { InternalRunOptions } from './engine.js';
export { configHash, ConfigSchema, parsePipeline, withEnvInjection, INJECT_COMPRESS_ENV, type PipelineSpec } from './config.js';
export { resultJsonSchema, type GcReport } from './result.js';
export { GcWorker, GC_BATCH, type GcTask, type GcStats, type GcControl } from './gc.js';
export { PROC_VMSTAT, ZRAM_MM_STAT_GAUGES } from './vmstat.js';
export { prepareApplication, type AppTask, type AppControl } from './app.js';
export { exposeControl } from './control.js';
export { Compressor, recoverInflight, type CompressorControl, type CompressorTask, type CompressorStats } from './compressor.js';
export { OffloadReclaimer } from './offload.js';
export { createCodec, type Codec } from './codec.js';
export { Mm, createSharedMm, type SharedMm } from './mm.js';
export { ZramStore, StoreResult, createStore } from './store.js';
export { Reclaimer } from './reclaim.js';
export { Kswapd, KSWAPD_RESCHED_MS } from './kswapd.js';
export { AppPages, type AppStats } from './page-api.js';
export { environment, type Environment } from './env.js';
export { settleHeap, canCollect, collectBeforeTask } from './settle.js';
