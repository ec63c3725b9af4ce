import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, createEngine, type Progress, type RunResult, RunResultSchema } from './internal.js';
import { resolveConfig, type Config } from './config.js';
import { Kswapd } from './kswapd.js';
import { createSharedMm, Mm } from './mm.js';
import { Reclaimer } from './reclaim.js';
import { createStore } from './store.js';
import { mapAllPages } from './testing/mapped.js';
import { accesses, runUntil, UNTIL_STOPPED } from './testing/run-until.js';
import { trackEngines } from './testing/engines.js';

const newEngine = trackEngines();

async function run(config: Parameters<typeof createEngine>[0]): Promise<RunResult> {
  const engine = newEngine(config);
  return engine.run();
}

/** Run until `enough` (then stopped: see testing/run-until.ts); the run must say it was stopped. */
async function runFor(config: Parameters<typeof createEngine>[0], enough: Parameters<typeof runUntil>[1]): Promise<RunResult> {
  const engine = newEngine({ ...config, duration: UNTIL_STOPPED });
  const r = await runUntil(engine, enough);
  expect(r.ended).toBe('aborted');
  return r;
}

const reads = (p: Progress) => p.apps.reduce((s, a) => s + a.reads, 0);

function expectCountersAddUp(r: RunResult): void {
  const c = r.counters;
  expect(r.checks.problems).toEqual([]);
  expect(r.checks.counters_add_up).toBe(true);
  expect(c.pswpout - c.notify_free).toBe(r.checks.stored_pages);
  expect(c.orig_data_size).toBe(r.checks.stored_pages * r.config.pageSize);
  expect(r.mm_stat.mem_used_total).toBeGreaterThanOrEqual(r.mm_stat.compr_data_size);
  expect(c.pgsteal_anon).toBe(c.pgsteal_kswapd + c.pgsteal_direct);
}

// Small arenas and short runs: this machine has 2 cores. Runs whose checks need some work
// done are stopped once it is (runFor), not after a duration a loaded host may not fill;
// runs that must be stopped last UNTIL_STOPPED unless they are, so one that ignored its stop
// would time the test out and no test needs a bound in milliseconds to show a stop worked.
const small = { pages: 2048, ram: '60%', duration: 1.2, seed: 7 } as const;

describe('a reclaim run', () => {
  for (const apps of [1, 2]) {
    it(`loses and corrupts no page with ${apps} application(s), kswapd reclaiming and faults coming back`, async () => {
      const r = await runFor({ ...small, apps, workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.5, writeFraction: 0.2, unmap: true } }, (p) => reads(p) > 1500 && p.pswpin > 0);
      expect(RunResultSchema.safeParse(r).success).toBe(true);
      expect(r.counters.pgsteal_kswapd).toBeGreaterThan(0);
      expect(r.counters.pswpin).toBeGreaterThan(0);
      expect(r.checks.verified).toBeGreaterThan(1000);
      expect(r.checks.mismatches).toBe(0);
      // Everything was unmapped at the end: the store is empty again.
      expect(r.checks.stored_pages).toBe(0);
      expect(r.counters.compr_data_size).toBe(0);
      expectCountersAddUp(r);
    });

    it(`loses and corrupts no page with ${apps} application(s) when every reclaim is direct`, async () => {
      const r = await runFor({ ...small, apps, kswapd: { enabled: false }, workload: { kind: 'usemem', hot: 0.2, hotAccess: 0.5, writeFraction: 0.2, unmap: false } }, (p) => reads(p) > 1000 && p.pswpin > 0);
      expect(r.counters.pgsteal_kswapd).toBe(0);
      expect(r.counters.pgsteal_direct).toBeGreaterThan(0);
      expect(r.counters.allocstall).toBeGreaterThan(0);
      expect(r.latency.alloc_stall.count).toBe(r.counters.allocstall);
      expect(r.counters.pswpin).toBeGreaterThan(0);
      expect(r.checks.mismatches).toBe(0);
      // Pages left mapped: the store still holds the cold ones and the gauges match it.
      expect(r.checks.stored_pages).toBeGreaterThan(0);
      expect(r.counters.compr_data_size).toBeLessThanOrEqual(r.counters.orig_data_size);
      expectCountersAddUp(r);
    });
  }

  it('a user workload module runs on the PageApi, and its own bytes come back intact', async () => {
    const module = fileURLToPath(new URL('../dist/testing/writer-workload.js', import.meta.url));
    // RAM below one application's share (2 × 1024 pages, RAM 819): each must reclaim and
    // fault even if the other has finished before it starts (at 60 % a late-starting
    // second application found room for all its pages, and nothing was reclaimed).
    const r = await run({ ...small, ram: '40%', apps: 2, duration: 30, content: { kind: 'text' }, workload: { kind: 'module', module, params: { rounds: 2 } } });
    expect(r.apps.map((a) => a.reads)).toEqual(r.apps.map((a) => a.pages * 2));
    expect(r.counters.pswpin).toBeGreaterThan(0);
    expect(r.checks.mismatches).toBe(0);
    expectCountersAddUp(r);
  });

  it('same-filled pages store only their fill word and compressible pages compress', async () => {
    // Stopped once a few hundred pages have been reclaimed (and so stored).
    const stored = (p: Progress) => p.pgsteal_anon > 500;
    const same = await runFor({ ...small, apps: 1, content: { kind: 'same-filled' }, workload: { kind: 'usemem', hot: 0.1, hotAccess: 0.9, writeFraction: 0, unmap: false } }, stored);
    expect(same.checks.stored_pages).toBeGreaterThan(0);
    expect(same.counters.same_pages).toBe(same.checks.stored_pages);
    expect(same.counters.compr_data_size).toBe(0);
    const text = await runFor({ ...small, apps: 1, content: { kind: 'text' }, workload: { kind: 'usemem', hot: 0.1, hotAccess: 0.9, writeFraction: 0, unmap: false } }, stored);
    expect(text.counters.compr_data_size).toBeLessThan(text.counters.orig_data_size);
    expect(text.compression_ratio).toBeGreaterThan(1.2);
    expectCountersAddUp(text);
  });

  it('a run can be aborted and still releases its workers and adds up', async () => {
    // Aborted once the applications are running (their first progress report).
    const r = await runFor({ ...small, apps: 1 }, () => true);
    expect(r.elapsedMs).toBeLessThan(UNTIL_STOPPED * 1000);
    expectCountersAddUp(r);
  });

  it('reports progress with live application statistics while it runs', async () => {
    // Stopped once the reports have shown the applications' work growing: a run whose
    // reports stopped coming, or stood still, would time the test out.
    const seen: number[] = [];
    await runFor({ ...small, apps: 2 }, (p) => {
      seen.push(accesses(p));
      return seen.length >= 4 && seen[seen.length - 1] > seen[0];
    });
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen[seen.length - 1]).toBeGreaterThan(seen[0]);
  });
});

describe('kswapd on the main thread', () => {
  /**
   * A drain's kswapd (as Engine.drain builds it: the arena full of cold pages, RAM the arena,
   * high watermark at 49 %), with a setImmediate chain beside it that reads pgsteal_kswapd on
   * every event-loop turn it gets. Returns those readings and the pages reclaimed.
   */
  async function drainWatched(pages: number, seed: number): Promise<{ seen: number[]; reclaimed: number }> {
    const base = resolveConfig({ pages, content: { kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, poison: false, seed });
    const c: Config = { ...base, ramPages: pages, wmark: { min: 1, low: Math.floor(pages * 0.45), high: Math.floor(pages * 0.49) } };
    const mm = new Mm(createSharedMm(c));
    mapAllPages(mm, c.content, seed);
    const store = createStore(mm, c);
    const kswapd = new Kswapd(mm, new Reclaimer(mm, store), c.kswapd.slice);
    const seen: number[] = [];
    let watching = true;
    const turn = () => {
      seen.push(mm.vm.get(mm.ev.pgsteal_kswapd));
      if (watching) setImmediate(turn);
    };
    setImmediate(turn);
    const asleep = kswapd.nextSleep();
    kswapd.start();
    mm.zone.wakeKswapd();
    await asleep;
    watching = false;
    mm.zone.stop();
    await kswapd.stopped();
    store.close();
    if (kswapd.error) throw kswapd.error;
    return { seen, reclaimed: mm.vm.get(mm.ev.pgsteal_kswapd) };
  }

  it('gives the event loop a turn every few milliseconds while it drains, drain after drain', async () => {
    // No bound in milliseconds: what is counted is work. kswapd yields once it has run
    // KSWAPD_RESCHED_MS since its last turn, so a callback queued on the event loop runs
    // between every two stretches of reclaim. A loaded host makes each stretch reclaim fewer
    // pages (a preempted slice takes longer), never more. A kswapd that kept the loop for its
    // whole balance pass would let no turn see the pass in progress, and would reclaim every
    // page between two turns.
    for (let round = 0; round < 2; round++) {
      const { seen, reclaimed } = await drainWatched(16_384, 7 + round);
      // RAM is the arena: reaching 49 % free takes most of it (a page saves about half its size).
      expect(reclaimed).toBeGreaterThan(8192);
      const during = seen.filter((n) => n > 0 && n < reclaimed).length;
      // From kswapd's start (0 reclaimed) to its sleep, turn by turn.
      const steps = [0, ...seen, reclaimed];
      let most = 0;
      for (let i = 1; i < steps.length; i++) most = Math.max(most, steps[i] - steps[i - 1]);
      expect(during, `event-loop turns while kswapd reclaimed ${reclaimed} pages`).toBeGreaterThanOrEqual(4);
      expect(most, `most pages reclaimed between two event-loop turns (of ${reclaimed})`).toBeLessThanOrEqual(reclaimed / 4);
    }
  });
});

describe('failures end the run cleanly', () => {
  const mod = (name: string) => fileURLToPath(new URL(`../dist/testing/${name}.js`, import.meta.url));

  it('a page that compresses to exactly a page is not mistaken for a huge page (hugeThreshold 1)', async () => {
    // Such pages save no memory, so the budget stays overcommitted: check the pages and the
    // store's identities, not the overcommit verdict.
    const r = await run({ pages: 512, ram: '80%', apps: 1, duration: 30, store: { hugeThreshold: 1 }, workload: { kind: 'module', module: mod('exact-page-workload') } });
    expect(r.counters.pswpin).toBeGreaterThan(0);
    expect(r.mm_stat.huge_pages).toBeGreaterThan(0);
    expect(r.checks.mismatches).toBe(0);
    expect(r.counters.pswpout - r.counters.notify_free).toBe(r.checks.stored_pages);
    expect(r.counters.orig_data_size).toBe(r.checks.stored_pages * 4096);
  });

  // The other application would run UNTIL_STOPPED: the run settling shows it was stopped
  // (asked to stop, or terminated after a grace period).
  it('an application that throws fails the run with its message, and the others are stopped', async () => {
    await expect(run({ ...small, apps: 2, duration: UNTIL_STOPPED, workload: { kind: 'module', module: mod('fail-in-one-app') } })).rejects.toThrow(/application worker failed: injected failure in app 2/);
  });

  it('an application that fails to start does not leave the run waiting for ever', async () => {
    await expect(run({ ...small, apps: 2, duration: UNTIL_STOPPED, workload: { kind: 'module', module: mod('fail-on-load') } })).rejects.toThrow(/injected load failure/);
  });

  it('a workload module without a default function is a config error naming workload.module', async () => {
    await expect(run({ ...small, workload: { kind: 'module', module: mod('not-a-function') } })).rejects.toThrow(/^config\.workload\.module: .*default-export a function/);
  });

  it('a signal aborted before the run starts stops it at once and the result says so', async () => {
    const engine = newEngine({ ...small, apps: 1, duration: UNTIL_STOPPED });
    const r = await engine.run({ signal: AbortSignal.abort() });
    expect(r.ended).toBe('aborted');
    expectCountersAddUp(r);
  });

  it('progress keeps coming after one application has finished', async () => {
    // Application 1 has finished when it has unmapped all its pages; the run is stopped after
    // three reports from then on (reports that stopped with it would time the test out).
    let after = 0;
    await runFor({ ...small, apps: 2, workload: { kind: 'module', module: mod('early-exit-workload') } }, (p) => {
      const first = p.apps.find((a) => a.appId === 1);
      // Absent: it finished before it ever answered (its last statistics are kept otherwise).
      const finished = first === undefined || first.unmaps === first.pages;
      if (finished && p.apps.some((a) => a.appId === 2)) after++;
      return after >= 3;
    });
    expect(after).toBeGreaterThanOrEqual(3);
  });

  it('a RAM budget the content cannot fit in is reported as overcommitted, not as a good run', async () => {
    // Stopped once free memory is well below what the watermarks' raciness explains.
    const r = await runFor({ pages: 2048, ram: '30%', apps: 1, content: { kind: 'random' } }, (p) => p.free < -64);
    expect(r.counters.reject_alloc_fail).toBeGreaterThan(0);
    expect(r.checks.counters_add_up).toBe(false);
    expect(r.checks.problems.join('\n')).toMatch(/RAM budget overcommitted/);
  });
});

describe('config', () => {
  it('names the field, the value and the fix', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ram: '150%' }, /^config\.ram: .*smaller than the arena.*\(got "150%"\)/],
      [{ pages: 12.5 }, /^config\.pages: .*\(got 12\.5\)/],
      [{ pageSize: 3000 }, /^config\.pageSize: .*power of two.*\(got 3000\)/],
      [{ watermarks: { min: 0.2, low: 0.1 } }, /^config\.watermarks: .*min ≤ low ≤ high/],
      [{ bogus: 1 }, /^config\.\(root\): unknown field: remove bogus/],
      [{ content: { kind: 'mix', ratio: 0.5 } }, /^config\.content\.ratio: /],
    ];
    for (const [input, re] of cases) {
      let err: unknown;
      try {
        createEngine(input as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(input)).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
    }
  });
});
