// Test helpers: run the built CLI as a user would, and check its one-line errors.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a spawned CLI gets: the caller's, under CI=true, without any ZRECLAIM_*
 * variable (ZRECLAIM_INJECT_COMPRESS_NS would slow every engine down, ZRECLAIM_DEBUG add
 * stack traces to the one-line errors the tests check) nor GITHUB_STEP_SUMMARY (the gate
 * appends to it); then `env`, which a test sets on purpose.
 */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const k of Object.keys(out)) if (k.startsWith('ZRECLAIM_') || k === 'GITHUB_STEP_SUMMARY') delete out[k];
  return { ...out, ...env };
}

/** Run `zreclaim ARGS` (see cliEnv for its environment); never rejects. */
export function zreclaim(args: string[], timeout = 60_000, env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout, env: cliEnv(env), maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start `zreclaim ARGS` without waiting for it (see cliEnv), its output piped. */
export function startZreclaim(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** One line on stderr, prefixed, with no stack trace, nothing on stdout. */
export function expectOneLine(r: Ran, ...mentions: string[]): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^zreclaim: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const m of mentions) expect(lines[0]).toContain(m);
  expect(r.stdout).toBe('');
}
