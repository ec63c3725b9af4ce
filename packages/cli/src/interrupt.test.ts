// abortOnInterrupt in this process: process.emit calls the handlers without a real signal.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from './errors.js';
import { abortOnInterrupt, exitForSignal, interrupted } from './interrupt.js';

afterEach(() => vi.restoreAllMocks());

describe('abortOnInterrupt', () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig}: the first aborts with the signal's name, a second exits at once with ${code}`, () => {
      const before = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
      const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
      const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const ac = new AbortController();
      const stop = abortOnInterrupt(ac);
      try {
        expect(process.listenerCount('SIGINT')).toBe(before.SIGINT + 1);
        expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM + 1);
        process.emit(sig, sig);
        expect(ac.signal.aborted).toBe(true);
        expect(ac.signal.reason).toBe(sig);
        expect(exit).not.toHaveBeenCalled();
        expect(interrupted(ac.signal, 'the run was stopped')).toEqual({ line: `stopped by ${sig}; the run was stopped`, code });
        process.emit(sig, sig);
        expect(exit).toHaveBeenCalledWith(code);
        expect(write).toHaveBeenCalledWith(`zreclaim: ${sig} again; exiting without waiting for the engines to close\n`);
      } finally {
        stop();
      }
      expect(process.listenerCount('SIGINT')).toBe(before.SIGINT);
      expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM);
    });
  }

  it('exit codes are 128 + the signal number, as EXIT says', () => {
    expect(exitForSignal('SIGINT')).toBe(EXIT.interrupted);
    expect(exitForSignal('SIGTERM')).toBe(EXIT.terminated);
    expect([EXIT.interrupted, EXIT.terminated]).toEqual([128 + 2, 128 + 15]);
  });
});
