// Test helper: engines a test file makes, each closed after the test that made it (their
// worker threads would otherwise outlive the test and hold the cores the next one needs).
import { afterEach } from 'vitest';
import { createEngine, type Engine } from '../index.js';

export function trackEngines(): (config?: Parameters<typeof createEngine>[0]) => Engine {
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  return (config) => {
    const e = createEngine(config);
    engines.push(e);
    return e;
  };
}
