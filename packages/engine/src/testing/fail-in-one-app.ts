// Test-only workload: application 2 throws at once; the others would run until stopped.
import type { PageApi, WorkloadContext } from '@zreclaim/workloads';

export default async function failInOne(api: PageApi, ctx: WorkloadContext): Promise<void> {
  if (ctx.appId === 2) throw new Error('injected failure in app 2');
  for (let i = 0; i < api.pages; i++) api.map(i);
  while (await api.checkpoint()) api.read(Math.floor(api.random() * api.pages));
}
