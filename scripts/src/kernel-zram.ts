/**
 * The kernel's own zram store, measured beside the engine's drains on the same pages: the
 * pages are written to an unconfigured /dev/zram0 (lz4) by `dd` with 4 KiB direct writes,
 * from W writers at once, and the rate is pages ÷ the wall time from the first writer's
 * start to the last one's end. The device is reset after every measurement (and on any
 * failure), so it is left as it was found: unconfigured.
 *
 * Only an unconfigured device is used: a zram0 with a disksize may be someone's swap. Where
 * the device, the lz4 compressor, `dd` or root is missing, `kernelZramUnavailable` says why
 * and callers skip the measurement.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface ZramDevice {
  /** sysfs directory of the device, e.g. /sys/block/zram0. */
  sys: string;
  /** Its block device, e.g. /dev/zram0. */
  dev: string;
}

export const ZRAM0: ZramDevice = { sys: '/sys/block/zram0', dev: '/dev/zram0' };

/** Why the kernel's zram cannot be measured here, or null if it can. */
export function kernelZramUnavailable(d: ZramDevice = ZRAM0): string | null {
  if (process.getuid?.() !== 0) return 'not root: configuring zram needs root';
  if (!existsSync(d.sys) || !existsSync(d.dev)) return `${d.dev} is absent (modprobe zram creates it)`;
  const disksize = readFileSync(join(d.sys, 'disksize'), 'utf8').trim();
  if (disksize !== '0') return `${d.dev} is in use (disksize ${disksize}): only an unconfigured device is used`;
  const algos = readFileSync(join(d.sys, 'comp_algorithm'), 'utf8');
  if (!/(^|[\s[])lz4([\s\]]|$)/.test(algos)) return `${d.dev} has no lz4 compressor (comp_algorithm: ${algos.trim()})`;
  if (spawnSync('dd', ['--version'], { stdio: 'ignore' }).status !== 0) return 'dd is not installed';
  return null;
}

function sysWrite(d: ZramDevice, attr: string, value: string): void {
  writeFileSync(join(d.sys, attr), value);
}

/** Reset the device (it drops every stored page and its disksize). */
export function resetZram(d: ZramDevice = ZRAM0): void {
  sysWrite(d, 'reset', '1');
}

/** A file of `pages` pages, for the writers to read: in /dev/shm where there is one. */
export class PagesFile {
  readonly path: string;
  private readonly dir: string;

  constructor(
    readonly pages: number,
    readonly pageSize: number,
    fill: (buf: Buffer) => void,
  ) {
    this.dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'zreclaim-kernel-'));
    this.path = join(this.dir, 'pages');
    const buf = Buffer.alloc(pages * pageSize);
    fill(buf);
    writeFileSync(this.path, buf);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function dd(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('dd', [...args, 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dd ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

export interface KernelZramStore {
  pagesPerSec: number;
  /** mm_stat after the writes: orig_data_size, compr_data_size, mem_used_total, same_pages. */
  origDataSize: number;
  comprDataSize: number;
  memUsedTotal: number;
  samePages: number;
}

/**
 * Store every page of `file` in the kernel's zram (lz4) with `writers` dd processes at once,
 * each writing its share with direct 4 KiB-page writes; then read mm_stat and reset.
 * `verify`: read the pages back from the device first and compare them with the file.
 */
export async function measureKernelZram(file: PagesFile, writers = 2, d: ZramDevice = ZRAM0, verify = false): Promise<KernelZramStore> {
  const why = kernelZramUnavailable(d);
  if (why) throw new Error(`kernel zram: ${why}`);
  const { pages, pageSize } = file;
  try {
    sysWrite(d, 'comp_algorithm', 'lz4');
    // Room for every page uncompressed, rounded up to a MiB.
    sysWrite(d, 'disksize', String(Math.ceil((pages * pageSize) / 2 ** 20 + 1) * 2 ** 20));
    const per = Math.ceil(pages / writers);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, (_, w) => {
        const skip = w * per;
        const count = Math.min(per, pages - skip);
        return count > 0 ? dd([`if=${file.path}`, `of=${d.dev}`, `bs=${pageSize}`, `skip=${skip}`, `seek=${skip}`, `count=${count}`, 'oflag=direct']) : undefined;
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const mm = readFileSync(join(d.sys, 'mm_stat'), 'utf8').trim().split(/\s+/).map(Number);
    if (verify) {
      const back = `${file.path}.back`;
      await dd([`if=${d.dev}`, `of=${back}`, `bs=${pageSize}`, `count=${pages}`, 'iflag=direct']);
      const same = readFileSync(back).equals(readFileSync(file.path));
      rmSync(back, { force: true });
      if (!same) throw new Error(`kernel zram: the pages read back from ${d.dev} differ from those written`);
    }
    return { pagesPerSec: pages / secs, origDataSize: mm[0], comprDataSize: mm[1], memUsedTotal: mm[2], samePages: mm[5] };
  } finally {
    resetZram(d);
  }
}
