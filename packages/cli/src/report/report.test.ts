/**
 * `zreclaim report` in a real browser: small real results (a run, a compare document, a
 * sweep in two shards, one shard given twice) made with the built CLI, the report opened from
 * disk in Debian's chromium through playwright-core, every chart checked for drawn data, and
 * a screenshot kept in test-artifacts/report.png. Chromium is required: without it this test
 * fails and says how to install it (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLine, zreclaim } from '../testing/spawn.js';

const CHROMIUM = process.env.ZRECLAIM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
const SMALL = ['--pages', '2048', '--apps', '1'];

interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

interface DrawnChart {
  id: string;
  title: string;
  width: number;
  height: number;
  series: { label: string; color: string; points: number }[];
}

const dir = mkdtempSync(join(tmpdir(), 'zreclaim-report-'));
const f = (name: string) => join(dir, name);

async function make(args: string[], out?: string): Promise<void> {
  const r = await zreclaim(args, 120_000);
  expect(r.code, `zreclaim ${args.join(' ')}: ${r.stderr}`).toBe(0);
  if (out) writeFileSync(out, r.stdout);
}

describe('zreclaim report', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    await make(['run', ...SMALL, '--ram', '50%', '--duration', '1', '--pipeline', 'padata:2', '--json'], f('run.json'));
    await make(['compare', ...SMALL, '--ram', '50%', '--duration', '0.5', '--pipeline', 'inline,kcompressd', '--repeat', '2', '--json'], f('compare.json'));
    const grid = ['sweep', ...SMALL, '--duration', '0.5', '--pipeline', 'inline,kcompressd', '--ram', '50%,60%', '--quiet'];
    await make([...grid, '--shard', '1/2', '--out', f('sweep-1.jsonl')]);
    await make([...grid, '--shard', '2/2', '--out', f('sweep-2.jsonl')]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart from real results in chromium, offline, without a console error', async () => {
    const html = f('report.html');
    const r = await zreclaim(['report', f('run.json'), f('compare.json'), f('sweep-1.jsonl'), f('sweep-2.jsonl'), f('sweep-1.jsonl'), '-o', html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*report\.html \(\d+ KiB\): 1 run, 1 compare document, sweep [0-9a-f]+: 4 points from 2 files/);
    // The shard given twice: its points are kept once and said once.
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/2 points were found more than once \(kept the first\)/);
    const page0 = readFileSync(html, 'utf8');
    expect(page0).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya)/);

    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (as root; .ci/run does), or set ZRECLAIM_CHROMIUM to a Chromium binary`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (q) => {
      if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) problems.push(`network request: ${q.url()}`);
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 }).catch((e: unknown) => {
      throw new Error(`the page did not finish drawing: ${problems.join('; ') || String(e)}`);
    });
    const report = (await page.evaluate('window.zreclaimReport')) as { errors: string[]; charts: DrawnChart[] };
    expect(report.errors).toEqual([]);

    const ids = report.charts.map((c) => c.id);
    const expected = [
      'chart-throughput',
      'chart-free',
      'chart-ring',
      'chart-latency-alloc_stall',
      'chart-latency-compress',
      'chart-latency-swapin',
      'chart-latency-ring_wait',
      'chart-bars-0-pgsteal_anon_per_s',
      'chart-bars-0-allocstall',
      'chart-bars-0-alloc_stall_p99_us',
      'chart-bars-0-kswapd_busy_ms',
    ];
    for (const id of expected) expect(ids, id).toContain(id);
    // 1 run + 4 sweep points over time; the ring chart offers the 3 with compression workers.
    expect(report.charts.find((c) => c.id === 'chart-throughput')!.series).toHaveLength(5);
    expect(await page.locator('#ring-run option').count()).toBe(3);
    expect(report.charts.find((c) => c.id === 'chart-ring')!.series.map((s) => s.label)).toEqual(['ring depth (sum over the rings)', expect.stringMatching(/^capacity \(\d ring/)]);
    for (const c of report.charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.height, c.id).toBeGreaterThan(100);
      // A latency that these short runs may never record on a busy host (a page faulted while
      // in flight, a writeback, ...) leaves its chart empty; the ones every run records must draw.
      const mayBeEmpty = c.id.startsWith('chart-latency-') && !/-(alloc_stall|compress|swapin)$/.test(c.id);
      if (mayBeEmpty && c.series.every((s) => s.points < 2)) continue;
      expect(Math.max(...c.series.map((s) => s.points)), `${c.id}: a series with data`).toBeGreaterThanOrEqual(2);
      // A series' colour is on the canvas: its line (or bar outline) was drawn. Not always the
      // first series: what a short run records (a latency with a handful of samples, all in one
      // bucket) can put a series' whole line on an axis, so the best-drawn series with data counts.
      const pixels = (hex: string) => page.evaluate(
        ([id, hex]) => {
          // In the page (this project has no DOM types).
          const canvas = (globalThis as unknown as { document: { querySelector(s: string): Canvas | null } }).document.querySelector(`#${id} canvas`);
          if (!canvas || canvas.width === 0 || canvas.height === 0) return -1;
          const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
          const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < px.length; i += 4) {
            if (px[i + 3] > 200 && Math.abs(px[i] - want[0]) < 40 && Math.abs(px[i + 1] - want[1]) < 40 && Math.abs(px[i + 2] - want[2]) < 40) n++;
          }
          return n;
        },
        [c.id, hex] as const,
      );
      const withData = c.series.filter((s) => s.points >= 2);
      const counts = await Promise.all(withData.map((s) => pixels(s.color)));
      const drawn = Math.max(...counts);
      expect(drawn, `${c.id}: pixels of ${withData.map((s, i) => `${s.label} (${s.color}): ${counts[i]}`).join(', ')}`).toBeGreaterThan(20);
    }

    // The sweep's heat-maps: 4 points in 2 panels (lz4 × ram 50 %, 60 %), one metric shown at a time.
    const visibleCells = () => page.locator('#sweep .heatmaps:not([hidden]) td.cell').count();
    expect(await visibleCells()).toBe(4);
    expect(await page.locator('#sweep .heatmaps:not([hidden])').getAttribute('data-metric')).toBe('pgsteal_anon_per_s');
    await page.selectOption('#sweep select.heat-metric', 'allocstall');
    expect(await page.locator('#sweep .heatmaps:not([hidden])').getAttribute('data-metric')).toBe('allocstall');
    expect(await visibleCells()).toBe(4);
    await page.selectOption('#sweep select.heat-metric', 'pgsteal_anon_per_s');

    // Another run in the free-memory chart.
    const options = await page.locator('#free-run option').allTextContents();
    expect(options).toHaveLength(5);
    await page.selectOption('#free-run', '1');
    expect(await page.locator('#chart-free .u-title').textContent()).toContain(options[1]);

    // The environment block and the table of contents.
    const env = await page.locator('#environment').textContent();
    for (const s of ['machine (CPU model)', 'cores', 'Node.js', process.version, 'commit']) expect(env).toContain(s);
    expect(await page.locator('#toc a').count()).toBe(8);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);

  it('reads a result written before a histogram existed, as empty, and says so', async () => {
    const run = JSON.parse(readFileSync(f('run.json'), 'utf8'));
    delete run.latency.gc_free;
    delete run.timeseries.ring_depth;
    const older = f('older-run.json');
    writeFileSync(older, JSON.stringify(run));
    const r = await zreclaim(['report', older, '-o', f('older.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe(`zreclaim: ${older}: written before latency gc_free existed; read as empty`);
    // No ring_depth: the page says so instead of drawing zeros.
    expect(readFileSync(f('older.html'), 'utf8')).toContain('"ring":null');
  });

  it('a file that is not a zreclaim result exits 2 naming the file and what was expected, and writes nothing', async () => {
    const out = f('bad.html');
    const other = f('other.json');
    writeFileSync(other, JSON.stringify({ hello: 'world' }));
    const text = f('notes.txt');
    writeFileSync(text, 'not json at all\n');
    const broken = f('broken-run.json');
    const run = JSON.parse(readFileSync(f('run.json'), 'utf8'));
    writeFileSync(broken, JSON.stringify({ ...run, counters: { ...run.counters, pgsteal_anon: 'many' } }));
    const cases: [string, string[]][] = [
      [other, [other, 'not a zreclaim result', 'no "schema" field', 'zreclaim.result/v1', 'zreclaim.compare/v1', 'zreclaim.sweep/v1']],
      [text, [text, 'not a zreclaim result: not JSON']],
      [f('missing.json'), [f('missing.json'), 'no such file']],
      [broken, [broken, 'not a valid zreclaim.result/v1 document', 'counters.pgsteal_anon']],
    ];
    for (const [file, mentions] of cases) {
      const r = await zreclaim(['report', f('run.json'), file, '-o', out]);
      expect(r.code, file).toBe(2);
      expectOneLine(r, ...mentions);
      expect(existsSync(out)).toBe(false);
    }
  });
});
