/**
 * Live progress on stderr, only for a person watching: stderr is a TTY, not under CI, and
 * neither --json nor --quiet. Made with cli-progress.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '@zreclaim/engine';

export interface ProgressSink {
  update(p: Progress): void;
  stop(): void;
}

export function progressWanted(
  opts: { json?: boolean; quiet?: boolean },
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return Boolean(stream.isTTY) && !ci && !opts.json && !opts.quiet;
}

/** A progress bar on stderr that clears itself when done. */
export function stderrBar(format: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { stream: process.stderr, format, barsize: 24, hideCursor: true, clearOnComplete: true, stopOnComplete: false, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
}

export function createProgress(durationS: number): ProgressSink {
  const bar = stderrBar(' {bar} {elapsed_s}/{duration_s}s | pgsteal_anon {pgsteal_anon} | pswpin {pswpin} | allocstall {allocstall} | free {free} pages');
  const total = Math.max(1, Math.round(durationS * 10));
  const payload = (p?: Progress) => ({
    elapsed_s: p ? (p.elapsedMs / 1000).toFixed(1) : '0.0',
    duration_s: durationS,
    pgsteal_anon: p?.pgsteal_anon ?? 0,
    pswpin: p?.pswpin ?? 0,
    allocstall: p?.allocstall ?? 0,
    free: p?.free ?? '-',
  });
  bar.start(total, 0, payload());
  let stopped = false;
  return {
    update(p) {
      if (!stopped) bar.update(Math.min(total, Math.round(p.elapsedMs / 100)), payload(p));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

export interface CompareProgressSink extends ProgressSink {
  /** A run starts: `index` (0-based) of `runs` in the schedule. */
  startRun(variant: string, round: number, index: number): void;
}

/**
 * compare: which variant and round is running and an ETA, from the wall time spent so far
 * over the share of the run-seconds done (so thread start-up between runs is counted too).
 */
export function createCompareProgress(runs: number, rounds: number, durationS: number): CompareProgressSink {
  const bar = stderrBar(' {bar} run {run}/{runs} · round {round}/{rounds} · {variant} {elapsed_s}/{duration_s}s · pgsteal_anon {pgsteal_anon} · ETA {eta_s}');
  const perRun = Math.max(1, Math.round(durationS * 10));
  const total = perRun * runs;
  const t0 = performance.now();
  let index = 0;
  let payload = { run: 1, runs, round: 1, rounds, variant: '', elapsed_s: '0.0', duration_s: durationS, pgsteal_anon: 0, eta_s: '?' };
  const eta = (done: number) => {
    if (done <= 0) return '?';
    const s = ((performance.now() - t0) / 1000) * ((total - done) / done);
    return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
  };
  let started = false;
  let stopped = false;
  return {
    startRun(variant, round, i) {
      if (stopped) return;
      index = i;
      const done = perRun * i;
      payload = { ...payload, run: i + 1, round, variant, elapsed_s: '0.0', pgsteal_anon: 0, eta_s: eta(done) };
      if (!started) bar.start(total, done, payload);
      else bar.update(done, payload);
      started = true;
    },
    update(p) {
      if (stopped || !started) return;
      const done = perRun * index + Math.min(perRun, Math.round(p.elapsedMs / 100));
      payload = { ...payload, elapsed_s: (p.elapsedMs / 1000).toFixed(1), pgsteal_anon: p.pgsteal_anon, eta_s: eta(done) };
      bar.update(done, payload);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  };
}
