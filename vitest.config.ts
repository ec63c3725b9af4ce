import { defineConfig } from 'vitest/config';

// One project per package. Tests sit beside the code they test (src/**/*.test.ts).
// Worker threads always run the compiled dist/*.js, so `pnpm test` builds first (tsc -b).
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
