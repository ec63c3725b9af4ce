/**
 * Where the engine's thread entry points are: `dist/threads/*.js` inside this package (built
 * from the repository's `workers/` folder into it), so an engine installed under node_modules
 * starts the scripts it ships. From the sources (vitest runs src/*.ts) the compiled scripts are
 * the same package's `dist/threads/`: Node 20 cannot start a worker from a .ts file.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type ThreadRole = 'app-worker' | 'compress-worker' | 'gc-worker';

const FROM_DIST = new URL('./threads/', import.meta.url);
const FROM_SRC = new URL('../dist/threads/', import.meta.url);

export function threadScript(role: ThreadRole): string {
  const built = fileURLToPath(new URL(`${role}.js`, FROM_DIST));
  if (existsSync(built)) return built;
  const fromSrc = fileURLToPath(new URL(`${role}.js`, FROM_SRC));
  if (existsSync(fromSrc)) return fromSrc;
  throw new Error(`@zreclaim/engine: thread script ${role}.js is missing (looked in ${built}); the package is incomplete, or the repository is not built (run \`pnpm build\`)`);
}
