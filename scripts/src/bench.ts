/**
 * `pnpm bench`: the foundation's benchmarks in one run, as ratios measured side by side.
 *   1. ring main→worker: per item and batched, against ringbuf.js and one piscina.run() per index
 *   2. inline kswapd drain against a bare lz4-napi compressSync loop on the same pages
 *   3. engine metadata bytes per page
 * Not a test: figures vary with the machine; quote medians with the machine line.
 */
import { canCollect, createSharedMm, KSWAPD_RESCHED_MS, resolveConfig } from '@zreclaim/engine/internal';
import { benchDrain, drainSummary, machineLine } from './bench-drain.js';
import { benchRing } from './bench-ring.js';

console.log(`zreclaim bench — ${machineLine()}${canCollect() ? '' : ' (V8 refused gc(): garbage may carry over between timed phases)'}`);

console.log('\n1. ring, main thread → one worker (median of 3 rounds)');
const ring = await benchRing({});
for (const r of ring) {
  console.log(`  ${r.variant.padEnd(24)} ${(r.indicesPerSecond / 1e6).toFixed(2).padStart(9)} M indices/s   ×${r.ratioVsRingbufItem.toFixed(2)} ringbuf.js/item`);
}
const rate = (v: string) => ring.find((r) => r.variant === v)?.indicesPerSecond ?? NaN;
console.log(`  ring/item ÷ ringbuf.js/item ${(rate('ring/item') / rate('ringbuf.js/item')).toFixed(2)} (goal ≥ 2)`);
console.log(`  ring/batch32 ÷ ringbuf.js/batch32 ${(rate('ring/batch32') / rate('ringbuf.js/batch32')).toFixed(2)} (goal ≥ 1)`);
console.log(`  ring/item ÷ piscina.run/item ${(rate('ring/item') / rate('piscina.run/item')).toFixed(0)} (goal ≥ 100)`);

console.log('\n2. inline kswapd drain vs bare codec loops, same pages, 9 pairs');
const drain = await benchDrain({ runs: 9 });
for (const p of drain) {
  console.log(
    `  engine ${Math.round(p.enginePagesPerSec)} pages/s   bare lz4-napi ${Math.round(p.rawPagesPerSec)}   floor ${Math.round(p.floorPagesPerSec)}   ratio ${p.ratio.toFixed(3)}`,
  );
}
const d = drainSummary(drain);
console.log(`  median engine ÷ bare lz4-napi loop ${d.overNapi.toFixed(3)} (goal ≥ 0.8)`);
console.log(`  median floor ÷ bare lz4-napi loop ${d.floorOverNapi.toFixed(3)} (the loop + a copy into shared memory + a yield every ${KSWAPD_RESCHED_MS} ms, as kswapd's: no engine of this shape can do better)`);
console.log(`  median engine ÷ floor ${d.overFloor.toFixed(3)} (the engine's own overhead)`);

console.log('\n2b. the same drain with the lz4-native codec (liblz4 into a reused buffer), 9 pairs');
const native = await benchDrain({ runs: 9, codec: 'lz4-native' });
for (const p of native) {
  console.log(
    `  engine/lz4-native ${Math.round(p.enginePagesPerSec)} pages/s   bare lz4-napi ${Math.round(p.rawPagesPerSec)}   bare liblz4 ${Math.round(p.rawNativePagesPerSec)}   floor ${Math.round(p.floorPagesPerSec)}`,
  );
}
const n = drainSummary(native);
console.log(`  median engine/lz4-native ÷ bare lz4-napi loop ${n.overNapi.toFixed(3)} (the goal's reference)`);
console.log(`  median engine/lz4-native ÷ bare liblz4 loop ${n.overNative.toFixed(3)}, ÷ its floor ${n.overFloor.toFixed(3)} (the engine's own overhead)`);

console.log('\n3. metadata per page');
const c = resolveConfig({});
const shm = createSharedMm(c);
const perPage = (shm.pageTable.byteLength + shm.slots.byteLength) / c.pages;
const poolMeta = shm.pool.meta.byteLength / shm.poolMaxPages;
console.log(`  page table + slot table (state, referenced, waiters, owner, generation, handle, length): ${perPage} B/page (goal ≤ 16)`);
console.log(`  pool metadata: ${poolMeta.toFixed(1)} B per pool page it can hold (${((poolMeta / c.pageSize) * 100).toFixed(2)} % of a pool page)`);
