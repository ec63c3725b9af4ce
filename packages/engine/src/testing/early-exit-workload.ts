// Test-only workload: application 1 finishes at once, the others run for the duration.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload(async function earlyExit(api, ctx) {
  for (let i = 0; i < api.pages; i++) {
    api.map(i);
    api.write(i);
  }
  if (ctx.appId !== 1) while (await api.checkpoint()) api.read(Math.floor(api.random() * api.pages));
  for (let i = 0; i < api.pages; i++) api.unmap(i);
});
