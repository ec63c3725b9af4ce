// Test helpers: run the built CLI as a user would, and check its one-line errors.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `zreclaim ARGS` under CI=true; never rejects. */
export function zreclaim(args: string[], timeout = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout, env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
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
