/** Reading a file the user named: one UsageError for every way it cannot be read. */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/**
 * The file's text, or a UsageError at `where`: "cannot read <what>: <why> (<fix>)", where
 * why is "no such file", "is a directory" or the system's message.
 */
export function readUserFile(file: string, where: string, what: string, fix: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : ((e as Error).message ?? String(e));
    throw new UsageError(where, `cannot read ${what}: ${why} (${fix})`);
  }
}
