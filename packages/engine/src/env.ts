/** The environment block every result carries: what produced these figures. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Environment {
  node: string;
  v8: string;
  platform: string;
  kernel: string;
  arch: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  libuvThreadpoolSize: number;
  commit: string | null;
  configHash: string;
  startedAt: string;
}

let commit: string | null | undefined;

function gitCommit(): string | null {
  if (commit !== undefined) return commit;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    commit = dirty ? `${head}-dirty` : head;
  } catch {
    commit = null;
  }
  return commit;
}

export function environment(configHash: string): Environment {
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    kernel: os.release(),
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    libuvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    commit: gitCommit(),
    configHash,
    startedAt: new Date().toISOString(),
  };
}
