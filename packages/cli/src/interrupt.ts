import { EXIT } from './errors.js';

/** The signals a long command stops cleanly on: Ctrl-C, and what `kill`, systemd and CI runners send. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 128 + the signal's number, as a shell reports a process the signal ended: 130, 143. */
export function exitForSignal(s: StopSignal): number {
  return s === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}

/**
 * SIGINT or SIGTERM: the first aborts the run through `ac` (the engines stop and close
 * cleanly; `ac.signal.reason` is the signal's name), a second of either exits at once.
 * Returns the function that removes the handlers.
 */
export function abortOnInterrupt(ac: AbortController): () => void {
  const on = (s: StopSignal) => {
    if (ac.signal.aborted) {
      process.stderr.write(`zreclaim: ${s} again; exiting without waiting for the engines to close\n`);
      process.exit(exitForSignal(s));
    }
    ac.abort(s);
  };
  const handlers = STOP_SIGNALS.map((s) => [s, () => on(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/**
 * After a run stopped by `abortOnInterrupt`: the one stderr line (what was stopped, `done`)
 * and the exit code, 130 for SIGINT and 143 for SIGTERM.
 */
export function interrupted(signal: AbortSignal, done: string): { line: string; code: number } {
  const s: StopSignal = signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
  return { line: `stopped by ${s}; ${done}`, code: exitForSignal(s) };
}
