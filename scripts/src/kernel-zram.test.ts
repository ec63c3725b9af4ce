// The kernel's zram beside the engine (kernel-zram.ts): it uses only an unconfigured
// device, stores the very pages it is given, and leaves the device reset.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createContentSource } from '@zreclaim/workloads';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelZramUnavailable, measureKernelZram, PagesFile, ZRAM0 } from './kernel-zram.js';

const scratch = mkdtempSync(join(os.tmpdir(), 'zreclaim-zram-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fake sysfs directory for a zram device, with the given attributes. */
function fakeDevice(name: string, attrs: Record<string, string>) {
  const sys = join(scratch, name);
  mkdirSync(sys, { recursive: true });
  for (const [k, v] of Object.entries(attrs)) writeFileSync(join(sys, k), v);
  const dev = join(scratch, `${name}.dev`);
  writeFileSync(dev, '');
  return { sys, dev };
}

describe('kernel zram availability', () => {
  it('refuses a device that is configured (it may be swap), one without lz4, and one that is absent, saying which', () => {
    if (process.getuid?.() !== 0) {
      expect(kernelZramUnavailable(ZRAM0)).toMatch(/not root/);
      return;
    }
    expect(kernelZramUnavailable(fakeDevice('inuse', { disksize: '1073741824\n', comp_algorithm: '[lzo-rle] lz4\n' }))).toMatch(/in use \(disksize 1073741824\)/);
    expect(kernelZramUnavailable(fakeDevice('nolz4', { disksize: '0\n', comp_algorithm: '[lzo-rle] zstd\n' }))).toMatch(/no lz4 compressor/);
    expect(kernelZramUnavailable({ sys: join(scratch, 'nothing'), dev: join(scratch, 'nothing.dev') })).toMatch(/is absent/);
    expect(kernelZramUnavailable(fakeDevice('free', { disksize: '0\n', comp_algorithm: 'lzo-rle [lz4] zstd\n' }))).toBeNull();
  });
});

const why = kernelZramUnavailable();

describe('the kernel zram store', () => {
  it.skipIf(why !== null)(`stores every page given, reads them back intact, and leaves ${ZRAM0.dev} reset${why ? ` (skipped: ${why})` : ''}`, async () => {
    const pages = 2048;
    const ps = 4096;
    const file = new PagesFile(pages, ps, (buf) => {
      const content = createContentSource({ kind: 'mix', ratio: 2.3, same: 0.1, zero: 0 }, ps, 5);
      for (let p = 0; p < pages; p++) content.fill(buf, p * ps, ps, p, 1);
    });
    try {
      const r = await measureKernelZram(file, 2, ZRAM0, true);
      expect(r.pagesPerSec).toBeGreaterThan(0);
      expect(r.origDataSize).toBe(pages * ps);
      expect(r.samePages).toBeGreaterThan(0);
      expect(r.comprDataSize).toBeLessThan(r.origDataSize / 1.5);
      expect(readFileSync(join(ZRAM0.sys, 'disksize'), 'utf8').trim()).toBe('0');
    } finally {
      file.remove();
    }
  });
});
