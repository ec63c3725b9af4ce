/**
 * `p`, or `onTimeout` if `ms` pass first; the timer is cleared as soon as the race is
 * decided. A timer left pending keeps what its closure reaches alive until it fires: the
 * 60 s drain timer of every pipeline drain used to keep that drain's arena and pool
 * (~270 MiB for 32768 pages) allocated for a minute after it.
 */
export async function raceTimeout<T, U>(p: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<U>((resolve) => {
    timer = setTimeout(resolve, ms, onTimeout);
    timer.unref();
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}
