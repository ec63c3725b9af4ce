// Test-only workload module that fails to load in one of two application workers (the one
// with an odd thread id) and loads fine on the main thread: a start-up failure in one app.
import { isMainThread, threadId } from 'node:worker_threads';
import { defineWorkload } from '@zreclaim/workloads';

if (!isMainThread && threadId % 2 === 1) throw new Error('injected load failure');

export default defineWorkload(async function idle(api) {
  while (await api.checkpoint()) {
    // wait to be stopped
  }
});
