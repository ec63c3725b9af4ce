/**
 * The gate's rule: a metric regresses only when its median over the rounds is worse than the
 * baseline by more than its threshold AND the baseline lies outside this run's noise band
 * (the min–max of the per-round ratios) on the good side, i.e. not one round reached it.
 *
 * verdicts: fail (worse than `fail` and outside the band: exit 1), warn (worse than `warn`
 * and outside the band), noise (worse than `warn` but a round reached the baseline), better
 * (better than `warn` and every round better than the baseline: consider --update), ok.
 */
import { median } from '../compare-stats.js';
import type { Verdict } from './schema.js';

export interface Judged {
  now: number;
  band: [number, number];
  change: number | null;
  worse: number | null;
  verdict: Verdict;
}

export function judge(better: 'bigger' | 'smaller', baseline: number | null, rounds: number[], warn: number, fail: number): Judged {
  const now = median(rounds);
  const band: [number, number] = [Math.min(...rounds), Math.max(...rounds)];
  if (baseline === null) return { now, band, change: null, worse: null, verdict: 'ok' };
  const change = now / baseline - 1;
  const worse = better === 'bigger' ? 1 - now / baseline : now / baseline - 1;
  // Outside the band on the bad side: even the best round is worse than the baseline.
  const allWorse = better === 'bigger' ? band[1] < baseline : band[0] > baseline;
  const allBetter = better === 'bigger' ? band[0] > baseline : band[1] < baseline;
  let verdict: Verdict = 'ok';
  if (worse > fail && allWorse) verdict = 'fail';
  else if (worse > warn && allWorse) verdict = 'warn';
  else if (worse > warn) verdict = 'noise';
  else if (-worse > warn && allBetter) verdict = 'better';
  return { now, band, change, worse, verdict };
}
