/**
 * A sweep's progress on stderr: a bar with the point, its run time and an ETA for a person at
 * a terminal; otherwise (CI logs, a pipe) one line per finished point with the ETA, since a
 * sweep can take hours; nothing with --quiet. The ETA is the wall time per finished point
 * (engine start-up included) times the points left; before the first point finishes it is
 * the run duration plus a second per point, marked ~.
 */
import type { Progress } from '@zreclaim/engine';
import { stderrBar } from '../progress.js';

export interface SweepProgress {
  /** Point `i` (0-based among the points to run) starts. */
  start(i: number, label: string): void;
  update(p: Progress): void;
  /** Point `i` finished (or failed): `summary` says how. */
  done(i: number, label: string, summary: string): void;
  stop(): void;
}

export function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const r = Math.round(s);
  if (r >= 3600) return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  if (r >= 60) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Seconds left: from the finished points' pace, or a guess from the duration before any. */
export function eta(elapsedS: number, finished: number, total: number, durationS: number): string {
  const left = total - finished;
  if (left <= 0) return '0s';
  if (finished === 0) return `~${formatEta(left * (durationS + 1))}`;
  return formatEta((elapsedS / finished) * left);
}

export function createSweepProgress(mode: 'bar' | 'lines' | 'none', total: number, durationS: number, log: (line: string) => void): SweepProgress {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let finished = 0;
  if (mode === 'none') return { start: () => undefined, update: () => undefined, done: () => void finished++, stop: () => undefined };
  if (mode === 'lines') {
    return {
      start: () => undefined,
      update: () => undefined,
      done(i, label, summary) {
        finished++;
        log(`point ${i + 1}/${total} ${label}: ${summary} · ETA ${eta(elapsed(), finished, total, durationS)}`);
      },
      stop: () => undefined,
    };
  }
  const perRun = Math.max(1, Math.round(durationS * 10));
  const bar = stderrBar(' {bar} point {point}/{points} · {label} {elapsed_s}/{duration_s}s · pgsteal_anon {pgsteal_anon} · ETA {eta_left}');
  let payload = { point: 1, points: total, label: '', elapsed_s: '0.0', duration_s: durationS, pgsteal_anon: 0, eta_left: eta(0, 0, total, durationS) };
  let index = 0;
  let started = false;
  let stopped = false;
  return {
    start(i, label) {
      if (stopped) return;
      index = i;
      payload = { ...payload, point: i + 1, label, elapsed_s: '0.0', pgsteal_anon: 0, eta_left: eta(elapsed(), finished, total, durationS) };
      if (!started) bar.start(perRun * total, perRun * i, payload);
      else bar.update(perRun * i, payload);
      started = true;
    },
    update(p) {
      if (stopped || !started) return;
      // Points left, counting the share of this one still to run, at the pace so far.
      const pace = finished > 0 ? elapsed() / finished : durationS + 1;
      const left = (total - index - Math.min(1, p.elapsedMs / 1000 / durationS)) * pace;
      payload = { ...payload, elapsed_s: (p.elapsedMs / 1000).toFixed(1), pgsteal_anon: p.pgsteal_anon, eta_left: `${finished > 0 ? '' : '~'}${formatEta(left)}` };
      bar.update(perRun * index + Math.min(perRun, Math.round(p.elapsedMs / 100)), payload);
    },
    done() {
      finished++;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  };
}
