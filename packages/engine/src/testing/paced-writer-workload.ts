// Test-only workload module: as writer-workload (maps its pages, writes each with its own
// bytes, reads them all back, unmaps), but it leaves reclaim to kswapd. Before each page it
// may allocate (a map, or a read that faults) it waits while free memory is under the low
// watermark (params.low, pages): the allocation that took free memory to it woke kswapd, and
// waiting for kswapd keeps every allocation above the min watermark, so none reclaims
// directly. Whatever the host's speed, every page reclaimed goes kswapd's way — through the
// pipeline's compression workers when there are some.
import { defineWorkload, type PageApi } from '@zreclaim/workloads';

async function aboveLow(api: PageApi, low: number): Promise<void> {
  while (api.meminfo().freePages < low && !api.shouldStop()) await new Promise((r) => setTimeout(r, 1));
}

export default defineWorkload<{ low: number }>(async function pacedWriter(api, ctx) {
  const low = Number(ctx.params.low);
  if (!Number.isInteger(low) || low < 1) throw new Error(`paced-writer-workload: params.low must be the low watermark in pages (got ${String(ctx.params.low)})`);
  const page = new Uint8Array(api.pageSize);
  for (let i = 0; i < api.pages; i++) {
    await aboveLow(api, low);
    api.map(i);
    for (let b = 0; b < page.length; b += 97) page[b] = (i * 31 + b + ctx.appId) & 0xff;
    api.write(i, page);
  }
  for (let i = 0; i < api.pages; i++) {
    await aboveLow(api, low);
    api.read(i);
  }
  for (let i = 0; i < api.pages; i++) api.unmap(i);
});
