/**
 * For tests: run until the workload has done what the test looks at, then stop the run. How
 * much a run of a fixed duration does depends on the host's load; what a run has done when
 * it is stopped on its own progress does not. Create the engine with duration UNTIL_STOPPED:
 * a run that never has enough is ended by the test's timeout.
 */
import type { Engine, Progress } from '../engine.js';
import type { RunResult } from '../result.js';

/** Seconds: a duration no test run reaches. */
export const UNTIL_STOPPED = 3600;

/** Total reads and writes of every application so far. */
export function accesses(p: Progress): number {
  return p.apps.reduce((s, a) => s + a.reads + a.writes, 0);
}

export function runUntil(engine: Engine, enough: (p: Progress) => boolean): Promise<RunResult> {
  if (engine.config.duration < UNTIL_STOPPED) throw new Error(`runUntil: create the engine with duration UNTIL_STOPPED (got ${engine.config.duration} s)`);
  const ac = new AbortController();
  return engine.run({
    signal: ac.signal,
    progressIntervalMs: 50,
    onProgress: (p) => {
      if (enough(p)) ac.abort();
    },
  });
}
