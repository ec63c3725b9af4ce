import { defineConfig } from 'vitest/config';

// One project per package. Tests sit beside the code they test (src/**/*.test.ts).
// Worker threads and spawned CLIs run the compiled dist/*.js: the global setup builds
// (tsc -b, incremental) before any test, so `vitest run` never tests a stale dist/.
// The caller's ZRECLAIM_* variables (a compression slowdown to inject, debug output) would
// change what in-process engines do; a test that wants one sets it itself.
for (const k of Object.keys(process.env)) if (k.startsWith('ZRECLAIM_')) delete process.env[k];

const project = (name: string, dir: string) => ({
  test: {
    name,
    root: dir,
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    globalSetup: ['./vitest.build.ts'],
    // 2-core machines: test files that start threads must not oversubscribe the CPU.
    fileParallelism: false,
    projects: [
      project('shm', 'packages/shm'),
      project('workloads', 'packages/workloads'),
      project('engine', 'packages/engine'),
      project('workers', 'workers'),
      project('cli', 'packages/cli'),
      project('scripts', 'scripts'),
    ],
  },
});
