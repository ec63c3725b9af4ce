/**
 * Keeps a thread's optimized reclaim code from one run to the next.
 *
 * Every run or drain builds a thread's attachment anew (Mm, store, codec, reclaimer,
 * kswapd or compressor over that run's SharedArrayBuffers), and the previous one becomes
 * garbage. V8 holds the maps (hidden classes) of objects only weakly: once every object of
 * a map is dead, a GC drops the map and deoptimizes all code that embedded it
 * ("marking dependent code ... reason: weak objects" under --trace-deopt). So each drain
 * started on deoptimized code — `shrink`, `swapOut`, `storeCompressed`, the pool's `alloc`
 * and `write` — and paid for TurboFan to optimize it all again, on the other core. Measured
 * here (16384-page inline drains with the codec call taken out): 5.3–5.6 µs a page of
 * engine work when every drain started cold, 1.7–2.1 µs when the maps stayed alive.
 *
 * A thread therefore keeps, for its life, one small template attachment of each shape it
 * has used: the same classes built the same way over a tiny run of its own (64 pages), so
 * every map the real attachments use stays alive. It pins no run's shared memory (holding
 * the previous real attachment instead would keep a whole arena and pool allocated while
 * an engine sits idle, in every warm worker thread).
 */
import type { Config } from './config.js';

const TEMPLATE_PAGES = 64;
const held = new Map<string, unknown>();

/**
 * Build this thread's template for `key` (the attachment's shape: which classes, which
 * codec) the first time the key is seen, and keep it.
 */
export function keepWarm(key: string, build: () => unknown): void {
  if (!held.has(key)) held.set(key, build());
}

/**
 * The config of a template attachment: `c`'s shape over TEMPLATE_PAGES pages. zswap
 * becomes zram (a template must not create a backing file); an Lru it then lacks costs one
 * map generalization, once.
 */
export function templateConfig(c: Config): Config {
  const pages = TEMPLATE_PAGES;
  return {
    ...c,
    pages,
    ramPages: pages,
    wmark: { min: 1, low: 2, high: 3 },
    store: { ...c.store, mode: 'zram', writebackFile: undefined, memLimit: 0 },
    inject: { ...c.inject, compressorExitAfter: 0, compressFailPage: -1 },
  };
}

/** The key of an attachment's shape: what changes which classes and codecs it is built from. */
export function shapeKey(role: string, c: Config): string {
  return `${role}/${c.codec}/${c.store.compact}/${c.gc.mode}`;
}
