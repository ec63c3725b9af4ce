// Test-only workload: unmaps and maps ranges back, faults and writes at random, pages ranges
// out, all at once in every application, so slot frees from unmap and from swap-in race the
// GC worker and reclaim; checks what unmapRange/kill return, and ends with a kill (params.exit
// 'kill') or one unmapRange over everything. It does params.ops operations (default 2 500), not
// as many as fit in the run's duration, so what a test sees does not depend on the host's speed.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload(async function churn(api, ctx) {
  const n = api.pages;
  const rnd = () => Math.floor(api.random() * n);
  const mappedIn = (start: number, len: number) => {
    let m = 0;
    for (let j = start; j < start + len; j++) if (api.isMapped(j)) m++;
    return m;
  };
  for (let i = 0; i < n; i++) {
    api.map(i);
    api.write(i);
    if ((i & 63) === 63) await api.checkpoint();
  }
  const target = Number(ctx.params.ops ?? 2_500);
  let ops = 0;
  while (ops < target && !api.shouldStop()) {
    const r = api.random();
    if (r < 0.7) {
      const i = rnd();
      if (api.isMapped(i)) {
        if (api.random() < 0.3) api.write(i);
        else api.read(i);
      }
    } else if (r < 0.9) {
      const start = rnd();
      const len = Math.min(n - start, 1 + Math.floor(api.random() * 48));
      const expected = mappedIn(start, len);
      const got = api.unmapRange(start, len);
      if (got !== expected) throw new Error(`unmapRange(${start}, ${len}) unmapped ${got} pages, ${expected} were mapped`);
      for (let j = start; j < start + len; j++) {
        if (api.isMapped(j)) throw new Error(`page ${j} still mapped after unmapRange`);
        if (api.random() < 0.8) {
          api.map(j);
          api.write(j);
        }
      }
    } else {
      const start = rnd();
      api.pageout(start, Math.min(n - start, 1 + Math.floor(api.random() * 32)));
    }
    if ((++ops & 63) === 0) await api.checkpoint();
  }
  const mapped = mappedIn(0, n);
  const got = ctx.params.exit === 'kill' ? api.kill() : api.unmapRange(0, n);
  if (got !== mapped) throw new Error(`the exit unmapped ${got} pages, ${mapped} were mapped`);
  if (mappedIn(0, n) !== 0) throw new Error('pages still mapped after the exit');
});
