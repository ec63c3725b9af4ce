/**
 * usemem, as in the kernel's mm tests and the kcompressd thread's pressure runs: each
 * application maps its share and writes every page, then keeps touching its pages with a
 * hot/cold pattern until the run's duration is over, then unmaps everything (exits):
 * page by page (exit 'unmap', munmap of each page in turn) or all at once (exit 'kill', the
 * low-memory killer taking the process down).
 */
import type { PageApi, Workload } from './api.js';

export interface UsememOptions {
  /** Share of the pages that is hot. */
  hot: number;
  /** Share of accesses that go to the hot set. */
  hotAccess: number;
  /** Share of accesses that write a new version instead of reading. */
  writeFraction: number;
  /** Unmap every page at the end. */
  unmap: boolean;
  /** How the pages go at the end: one unmap per page ('unmap', the default) or one kill. */
  exit?: 'unmap' | 'kill';
}

export function usemem(opts: UsememOptions): Workload {
  return async (api: PageApi) => {
    const n = api.pages;
    for (let i = 0; i < n; i++) {
      api.map(i);
      api.write(i);
      if ((i & 63) === 63 && !(await api.checkpoint())) break;
    }
    const hotN = Math.max(1, Math.min(n, Math.round(n * opts.hot)));
    const coldN = n - hotN;
    let ops = 0;
    while (!api.shouldStop()) {
      const r = api.random();
      const i = coldN === 0 || r < opts.hotAccess ? Math.floor(api.random() * hotN) : hotN + Math.floor(api.random() * coldN);
      if (!api.isMapped(i)) continue;
      if (api.random() < opts.writeFraction) api.write(i);
      else api.read(i);
      if ((++ops & 255) === 0 && !(await api.checkpoint())) break;
    }
    if (opts.unmap && opts.exit === 'kill') {
      api.kill();
    } else if (opts.unmap) {
      for (let i = 0; i < n; i++) {
        if (api.isMapped(i)) api.unmap(i);
        if ((i & 255) === 255) await api.checkpoint();
      }
    }
  };
}
