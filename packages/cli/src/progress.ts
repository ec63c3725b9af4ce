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

export function createProgress(durationS: number): ProgressSink {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {elapsed_s}/{duration_s}s | pgsteal_anon {pgsteal_anon} | pswpin {pswpin} | allocstall {allocstall} | free {free} pages',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
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
