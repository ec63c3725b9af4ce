/**
 * A sleeping mutex on one Int32 word (0 free, 1 locked, 2 locked with waiters), after
 * Drepper's "Futexes Are Tricky" (mutex 3). Used for the compressed pool's class locks.
 * Atomics.wait is not allowed on the main thread of a browser, but it is on Node's main
 * thread; callers on an event loop hold a lock only for a few microseconds.
 */
export function mutexLock(words: Int32Array, i: number): void {
  let c = Atomics.compareExchange(words, i, 0, 1);
  if (c === 0) return;
  // Spin briefly: holders keep the lock for a memcpy or a list update.
  for (let spin = 0; spin < 64; spin++) {
    c = Atomics.compareExchange(words, i, 0, 1);
    if (c === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(words, i, 2);
  while (c !== 0) {
    Atomics.wait(words, i, 2);
    c = Atomics.exchange(words, i, 2);
  }
}

export function mutexTryLock(words: Int32Array, i: number): boolean {
  return Atomics.compareExchange(words, i, 0, 1) === 0;
}

export function mutexUnlock(words: Int32Array, i: number): void {
  if (Atomics.sub(words, i, 1) !== 1) {
    Atomics.store(words, i, 0);
    Atomics.notify(words, i, 1);
  }
}
