// Test-only custom workload module: written with defineWorkload on the public PageApi alone, as
// a user's would be (params typed through defineWorkload's type argument).
// Maps its pages, writes each with its own bytes, reads them all back twice, unmaps.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload<{ rounds?: number }>(async function writer(api, ctx) {
  const page = new Uint8Array(api.pageSize);
  const rounds = Number(ctx.params.rounds ?? 2);
  for (let i = 0; i < api.pages; i++) {
    api.map(i);
    for (let b = 0; b < page.length; b += 97) page[b] = (i * 31 + b + ctx.appId) & 0xff;
    api.write(i, page);
    if ((i & 63) === 0) await api.checkpoint();
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < api.pages; i++) {
      api.read(i);
      if ((i & 63) === 0) await api.checkpoint();
    }
  }
  for (let i = 0; i < api.pages; i++) api.unmap(i);
});
