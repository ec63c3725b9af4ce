/**
 * Test-only workload module: stores eight of its pages (pageout), then, behind the engine's
 * back, changes what is stored or counted for them through the shared memory, and reads
 * every page back; the end-of-run checks must see it. params.corrupt (default 'pool'):
 *   pool     one byte of page 0, stored uncompressed in the pool (a huge page)
 *   fill     the fill word of page 4, a same-filled page (kept in its slot)
 *   counter  pswpout one higher than the pages stored (a counter identity broken)
 *   none     nothing: the same run, whose checks pass
 */
import { defineWorkload } from '@zreclaim/workloads';
import type { Mm } from '../mm.js';

const MODES = ['pool', 'fill', 'counter', 'none'];
const PAGES = 8;

export default defineWorkload<{ corrupt?: string }>(async function corrupt(api, ctx) {
  const mode = String(ctx.params.corrupt ?? 'pool');
  if (!MODES.includes(mode)) throw new Error(`corrupt-workload: params.corrupt must be one of ${MODES.join(', ')} (got ${mode})`);
  // The engine's PageApi keeps its thread's attachment and its first arena page in private
  // fields: a test's way in to the shared memory, as a stray write would come in.
  const { mm, base } = api as unknown as { mm: Mm; base: number };
  const ps = api.pageSize;
  const rnd = new Uint8Array(ps);
  for (let i = 0; i < PAGES; i++) {
    api.map(i);
    if (i < PAGES / 2) {
      // Random bytes do not compress: zram keeps the page as it is (huge).
      for (let b = 0; b < ps; b++) rnd[b] = Math.floor(api.random() * 256);
      api.write(i, rnd);
    } else {
      api.write(i, new Uint8Array(ps).fill(i));
    }
  }
  const out = api.pageout(0, PAGES);
  if (out !== PAGES) throw new Error(`corrupt-workload: pageout stored ${out} of ${PAGES} pages`);
  if (mode === 'pool') {
    const page = base;
    const bytes = mm.slots.length[page] & 0xffffff;
    if (bytes !== ps) throw new Error(`corrupt-workload: page 0 was stored in ${bytes} bytes, not as a huge page`);
    const copy = new Uint8Array(ps);
    mm.pool.read(mm.slots.handle[page], copy, 0, ps);
    copy[123] ^= 0xff;
    mm.pool.write(mm.slots.handle[page], copy, 0, ps);
  } else if (mode === 'fill') {
    mm.slots.handle[base + PAGES / 2] ^= 1;
  } else if (mode === 'counter') {
    mm.vm.inc(mm.ev.pswpout);
  }
  for (let i = 0; i < PAGES; i++) api.read(i);
  for (let i = 0; i < PAGES; i++) api.unmap(i);
});
