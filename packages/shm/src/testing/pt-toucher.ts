// Test-only worker: touches one page the way an application does (page-api.ts): waits while
// the page is ISOLATED, then takes it LOCKED, reads its first word, and reports.
import { workerData, parentPort } from 'node:worker_threads';
import { PageArena, PageState, PageTable, STATE_MASK } from '../index.js';

const { pt: ptSab, arena: arenaSab, page, pages, pageSize } = workerData as {
  pt: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  page: number;
  pages: number;
  pageSize: number;
};
const pt = new PageTable(pages, ptSab);
const arena = new PageArena(pages, pageSize, arenaSab);
let waits = 0;
for (;;) {
  const w = pt.load(page);
  if ((w & STATE_MASK) === PageState.RESIDENT) {
    if (!pt.cas(page, w, PageState.LOCKED)) continue;
    const first = arena.words[arena.wordOffset(page)];
    pt.release(page, PageState.RESIDENT, true);
    parentPort!.postMessage({ waits, first });
    break;
  }
  parentPort!.postMessage({ waiting: true });
  pt.waitChange(page, w, 5000);
  waits++;
}
