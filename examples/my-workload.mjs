// @ts-check
/**
 * A custom workload: an in-memory cache. Each application (a worker thread of its own)
 * fills its pages, then serves a fixed number of accesses from them, most to a hot set,
 * replacing a cold entry now and then; then it exits. A fixed amount of work, not a fixed
 * time, so a slow or busy machine runs the same test, only longer (the run's `duration`
 * still stops it early: `api.shouldStop()`).
 *
 * params (config `workload.params`; the engine does not check them, so they are checked here):
 *   hot       share of the pages that gets 90 % of the accesses (default 0.2)
 *   accesses  page accesses each application makes after the fill (default 20000)
 *
 * defineWorkload types `api` (PageApi) and `ctx` (WorkloadContext) for the editor; with
 * `// @ts-check` above, TypeScript-aware editors check this file too.
 */
import { defineWorkload } from '@zreclaim/engine';

export default defineWorkload(async (api, ctx) => {
  const hot = typeof ctx.params.hot === 'number' ? ctx.params.hot : 0.2;
  const accesses = typeof ctx.params.accesses === 'number' ? ctx.params.accesses : 20_000;
  const n = api.pages;
  const hotPages = Math.min(n - 1, Math.max(1, Math.floor(n * hot)));

  // Fill: map and write every page. RAM runs short here: kswapd wakes, and an allocation
  // that finds free memory under the min watermark reclaims directly (alloc_stall).
  for (let i = 0; i < n; i++) {
    api.map(i);
    api.write(i);
    if (i % 64 === 63 && !(await api.checkpoint())) break;
  }

  // Serve: reading a page that was reclaimed faults it back in (swapin).
  let ops = 0;
  while (ops < accesses && !api.shouldStop()) {
    const i = api.random() < 0.9 ? Math.floor(api.random() * hotPages) : hotPages + Math.floor(api.random() * (n - hotPages));
    if (++ops % 100 === 0 && i >= hotPages) {
      // Replace a cold entry: its old page (or compressed slot) is freed.
      api.unmap(i);
      api.map(i);
      api.write(i);
    } else {
      api.read(i);
    }
    // Let the engine's control calls through; false once the run should stop.
    if (ops % 256 === 0 && !(await api.checkpoint())) break;
  }

  // Exit: every page freed at once, as when a process ends.
  api.kill();
});
