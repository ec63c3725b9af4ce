// Test-only workload: application 2 throws at once; the others would run until stopped.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload(async function failInOne(api, ctx) {
  if (ctx.appId === 2) throw new Error('injected failure in app 2');
  for (let i = 0; i < api.pages; i++) api.map(i);
  while (await api.checkpoint()) api.read(Math.floor(api.random() * api.pages));
});
