/**
 * vitest globalSetup: build the workspace (tsc -b) before any test runs. Worker threads and
 * spawned CLIs run the compiled dist/*.js, so a test run on a stale build would test old
 * code; tsc -b is incremental and quick when nothing changed.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export default function build(): void {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || (r.error?.message ?? `exit ${r.status}`);
    const e = new Error(`the build (tsc -b) failed, so the tests would run stale dist/ files; fix this first:\n${out}`);
    e.stack = e.message; // the compiler's messages are the point, not this file's frames
    throw e;
  }
}
