/**
 * For tests on one thread: map every page of the arena for application 1, write it from
 * `content` (version 1) and leave it RESIDENT; returns each page's checksum.
 */
import { PageState } from '@zreclaim/shm';
import { createContentSource, type ContentSpec, pageChecksum } from '@zreclaim/workloads';
import type { Mm } from '../mm.js';

export function mapAllPages(mm: Mm, content: ContentSpec, seed: number): number[] {
  const ps = mm.pageSize;
  const src = createContentSource(content, ps, seed);
  const sums: number[] = [];
  for (let p = 0; p < mm.pages; p++) {
    mm.pt.map(p, 1);
    src.fill(mm.arena.bytes, mm.arena.offset(p), ps, p, 1);
    sums.push(pageChecksum(mm.arena.words, mm.arena.wordOffset(p), ps >> 2));
    mm.pt.release(p, PageState.RESIDENT, false);
  }
  mm.zone.addResident(mm.pages);
  return sums;
}
