/**
 * Keeps a thread's optimized code from one run to the next.
 *
 * Every run or drain builds a thread's attachment anew (Mm, store, codec, reclaimer,
 * kswapd over that run's SharedArrayBuffers). V8 keeps the maps (hidden classes) of those
 * objects only weakly: once every object that had a map is dead, a GC drops the map and
 * throws away all optimized code that embedded it ("marking dependent code ... reason: weak
 * objects" under --trace-deopt). Between two drains the previous attachment is garbage, so
 * each drain started on deoptimized code and paid for TurboFan to optimize the whole reclaim
 * path again, on the other core. Measured here (16384-page inline drains with the codec call
 * taken out): 5.3–5.6 µs a page of engine work when each drain built its attachment from
 * nothing, 1.7–2.1 µs when the previous one was still alive while the next was built.
 *
 * So the main thread holds on to its latest kswapd attachment per role (inline, offload)
 * until the next one replaces it: the new objects then find the same maps, and the code
 * stays optimized. The cost: the previous run's shared memory stays allocated until the
 * next run's attachment is built (two runs' worth while one starts), and until the engine
 * closes (releaseWarm). Worker threads do not hold theirs: a warm pool's threads would each
 * keep their last run's shared memory while their engine sits idle (bench:pipelines keeps a
 * dozen engines open and grew to 11 GiB that way), and their runs are long enough that
 * optimizing again is a small share of them.
 */
const held = new Map<string, unknown>();

/** Hold `attachment` as this thread's latest for `role`, releasing the previous one. */
export function holdWarm(role: string, attachment: unknown): void {
  held.set(role, attachment);
}

/** Release every attachment this thread holds (the engine is closing). */
export function releaseWarm(): void {
  held.clear();
}
