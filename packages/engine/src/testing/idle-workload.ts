// Test-only workload: maps a few pages and then only waits to be stopped, so nothing is
// ever reclaimed and compression workers only wait on their rings.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload(async function idle(api) {
  for (let i = 0; i < 8; i++) api.map(i);
  while (await api.checkpoint()) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 8; i++) api.unmap(i);
});
