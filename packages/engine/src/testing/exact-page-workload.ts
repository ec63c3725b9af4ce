// Test-only workload: every page holds 4049 random bytes then zeros, which lz4 compresses
// to exactly 4096 bytes (prefix included): with hugeThreshold 1 such a page is stored
// compressed at the length of a whole page, the case that must not be taken for a huge one.
import { defineWorkload } from '@zreclaim/workloads';

export default defineWorkload(async function exactPages(api) {
  let s = 12345;
  const page = new Uint8Array(api.pageSize);
  for (let i = 0; i < 4049; i++) page[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < api.pages; i++) {
    api.map(i);
    api.write(i, page);
    if ((i & 31) === 0) await api.checkpoint();
  }
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < api.pages; i++) {
      api.read(i);
      if ((i & 31) === 0) await api.checkpoint();
    }
  }
  for (let i = 0; i < api.pages; i++) api.unmap(i);
});
