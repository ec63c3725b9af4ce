/**
 * bench:gc's workload (one application): map and write `region` pages, page them all out
 * (MADV_PAGEOUT, so every page is in the store and none is resident), let the machine go
 * quiet, then time one thing with performance.now() in this thread:
 *   kill    one api.kill() (the seed's "unmap a 256 MB swap-filled VMA"), then how long until
 *           the pool has given back all its pages (the GC worker's part, with gc: async);
 *   swapin  reading every page once (each read faults its page back in: the seed's swap-in
 *           of 256 MB), then an untimed kill.
 * The figures go back to the bench over a BroadcastChannel (workloads have no other way out).
 *
 * Content: `pattern` pages repeat "1024 one", "1024 two", "1024 three" or "1024 four" (page i
 * takes pattern i mod 4), as the seed's swap-in test; otherwise the run's content source.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { PageApi, WorkloadContext } from '@zreclaim/workloads';

export interface GcBenchParams {
  region: number;
  measure: 'kill' | 'swapin';
  pattern: boolean;
  channel: string;
  runId: number;
}

export interface GcBenchReport {
  runId: number;
  /** Pages in the store before the timed part (all of the region). */
  swappedOut: number;
  residentBefore: number;
  poolPagesBefore: number;
  /** kill: the kill() call; swapin: the read loop. */
  ms: number;
  /** kill: pool pages and gc_bytes_pending when kill() returned, and ms until the pool was empty. */
  poolPagesAtReturn: number;
  pendingAtReturn: number;
  returnedMs: number;
}

export const PATTERNS = ['1024 one', '1024 two', '1024 three', '1024 four'];

function patternPage(s: string, size: number): Uint8Array {
  const page = new Uint8Array(size);
  const b = Buffer.from(s, 'latin1');
  for (let i = 0; i < size; i++) page[i] = b[i % b.length];
  return page;
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number) => Atomics.wait(pause, 0, 0, ms);

export default async function gcBench(api: PageApi, ctx: WorkloadContext): Promise<void> {
  const p = ctx.params as unknown as GcBenchParams;
  const n = p.region;
  if (n > api.pages) throw new Error(`region ${n} > the application's ${api.pages} pages`);
  const pages = PATTERNS.map((s) => patternPage(s, api.pageSize));
  for (let i = 0; i < n; i++) {
    api.map(i);
    if (p.pattern) api.write(i, pages[i & 3]);
    else api.write(i);
    if ((i & 1023) === 1023) await api.checkpoint();
  }
  let swappedOut = 0;
  for (let i = 0; i < n; i += 4096) {
    swappedOut += api.pageout(i, Math.min(4096, n - i));
    await api.checkpoint();
  }
  // Quiet: kswapd asleep, the GC worker idle (the pageout freed nothing), and this thread's
  // garbage collected now (node --expose-gc reaches workers), not during the timed part.
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 100));
  const before = api.meminfo();
  const report: GcBenchReport = {
    runId: p.runId,
    swappedOut,
    residentBefore: before.residentPages,
    poolPagesBefore: before.poolPages,
    ms: 0,
    poolPagesAtReturn: 0,
    pendingAtReturn: 0,
    returnedMs: 0,
  };
  if (p.measure === 'kill') {
    const t0 = performance.now();
    api.kill();
    const t1 = performance.now();
    const at = api.meminfo();
    report.ms = t1 - t0;
    report.poolPagesAtReturn = at.poolPages;
    report.pendingAtReturn = at.gcPendingBytes;
    // Until the GC worker has freed everything (polled gently: 0.2 ms sleeps, not a spin).
    let m = at;
    while (m.poolPages > 0 || m.gcPendingBytes > 0) {
      sleepMs(0.2);
      m = api.meminfo();
      if (performance.now() - t0 > 30_000) throw new Error(`the pool still holds ${m.poolPages} pages 30 s after the kill`);
    }
    report.returnedMs = performance.now() - t0;
  } else {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) api.read(i);
    report.ms = performance.now() - t0;
    api.kill();
  }
  const ch = new BroadcastChannel(p.channel);
  ch.postMessage(report);
  ch.close();
}
