/** `--config FILE`: a JSON config object; paths inside it are relative to the file. */
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { readUserFile } from './read-file.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export function readConfigFile(file: string): Obj {
  const where = `--config ${file}`;
  const text = readUserFile(file, where, 'the config file', 'give the path of a JSON config file');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(where, `not valid JSON: ${(e as Error).message} (fix the file; it must hold one JSON object)`);
  }
  if (!isObj(data)) {
    throw new UsageError(where, `expected a JSON object such as {"pages": 16384, "ram": "50%"}, got ${Array.isArray(data) ? 'an array' : JSON.stringify(data)}`);
  }
  const base = dirname(resolve(file));
  const rel = (p: unknown) => (typeof p === 'string' && p && !isAbsolute(p) && !p.startsWith('file:') ? resolve(base, p) : p);
  if (isObj(data.content) && data.content.kind === 'file') data.content = { ...data.content, path: rel(data.content.path) };
  if (isObj(data.workload) && data.workload.kind === 'module') data.workload = { ...data.workload, module: rel(data.workload.module) };
  return data;
}
