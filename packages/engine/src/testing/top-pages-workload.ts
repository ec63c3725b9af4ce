// Test-only workload: maps, writes and churns only the top `params.count` pages of its share
// (default 4096), so a test can run a 4 GiB arena while touching a few megabytes of it: the
// pages it uses sit past byte 2^31 of the arena. Every page is written and read back once
// whatever the run's duration (a checkpoint only yields there), then pages churn until the
// run stops.
import type { PageApi, WorkloadContext } from '@zreclaim/workloads';

export default async function topPages(api: PageApi, ctx: WorkloadContext): Promise<void> {
  const count = Math.min(api.pages, Number(ctx.params.count ?? 4096));
  const first = api.pages - count;
  for (let i = first; i < api.pages; i++) {
    api.map(i);
    api.write(i);
    if ((i & 31) === 0) await api.checkpoint();
  }
  // Every page read back once (faults bring the reclaimed ones in), then churn.
  for (let i = first; i < api.pages; i++) {
    api.read(i);
    if ((i & 31) === 0) await api.checkpoint();
  }
  while (await api.checkpoint()) {
    const i = first + Math.floor(api.random() * count);
    if (api.random() < 0.2) api.write(i);
    else api.read(i);
  }
}
