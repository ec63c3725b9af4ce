/**
 * One application thread's run: attach to the shared memory, build this thread's codec,
 * store and reclaimer (for direct reclaim), load the workload and run it on a PageApi.
 * Called by workers/app-worker.ts; everything per page stays in this thread.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createContentSource, usemem, type Workload } from '@zreclaim/workloads';
import type { Config } from './config.js';
import { createSharedMm, Mm, type SharedMm } from './mm.js';
import { AppPages, type AppStats } from './page-api.js';
import { Reclaimer } from './reclaim.js';
import { createStore } from './store.js';
import { keepWarm, shapeKey, templateConfig } from './warm.js';

export interface AppTask {
  appId: number;
  apps: number;
  base: number;
  count: number;
  config: Config;
  shared: SharedMm;
}

/**
 * An application's control plane (comlink): live stats. Stopping is shared memory's: the
 * engine sets the zone's stop flag, which every application checks at its checkpoints.
 */
export interface AppControl {
  stats(): AppStats;
}

export async function loadWorkload(c: Config): Promise<Workload> {
  const w = c.workload;
  if (w.kind === 'usemem') return usemem(w);
  const url = w.module.startsWith('file:') ? w.module : pathToFileURL(resolve(w.module)).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new Error(`workload.module: cannot load ${w.module}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof mod.default !== 'function') {
    throw new Error(`workload.module: ${w.module} must default-export a function (api, ctx) => Promise<void>`);
  }
  return mod.default as Workload;
}

/** Set up an application thread; `run()` then runs its workload to the end. */
export async function prepareApplication(task: AppTask): Promise<{ control: AppControl; run: () => Promise<AppStats> }> {
  const c = task.config;
  const mm = new Mm(task.shared);
  const store = createStore(mm, c);
  const reclaimer = new Reclaimer(mm, store, c.unmapCostNs);
  keepWarm(shapeKey('app', c), () => {
    const t = templateConfig(c);
    const tm = new Mm(createSharedMm(t));
    const ts = createStore(tm, t);
    return { mm: tm, store: ts, reclaimer: new Reclaimer(tm, ts, t.unmapCostNs) };
  });
  const content = createContentSource(c.content, c.pageSize, (c.seed * 7919 + task.appId) >>> 0);
  const workload = await loadWorkload(c);
  const api = new AppPages(mm, reclaimer, store, content, {
    appId: task.appId,
    base: task.base,
    count: task.count,
    verify: c.verify,
    directReclaimBatch: c.directReclaimBatch,
    durationMs: c.duration * 1000,
    seed: (c.seed * 1_000_003 + task.appId) >>> 0,
  });
  const params = c.workload.kind === 'module' ? c.workload.params : {};
  return {
    control: { stats: () => ({ ...api.stats, mismatchPages: [...api.stats.mismatchPages] }) },
    run: async () => {
      api.start();
      try {
        await workload(api, { appId: task.appId, apps: task.apps, seed: c.seed, durationMs: c.duration * 1000, params });
      } finally {
        store.close();
      }
      return api.stats;
    },
  };
}
