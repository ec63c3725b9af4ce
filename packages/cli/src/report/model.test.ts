import { describe, expect, it } from 'vitest';
import { Histogram } from '@zreclaim/shm';
import { gaugeOnGrid, percentileAxis, percentileCurve, rateOnGrid, stepFor } from './model.js';

describe('report data', () => {
  it('percentile curves from the buckets agree with the histogram summary at p50, p90, p99 and p99.9', () => {
    const h = new Histogram();
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // A long-tailed latency: mostly ~2 µs, a tail to ~10 ms.
    for (let i = 0; i < 20_000; i++) h.record(Math.round(1500 + 1000 * rand() + (rand() < 0.02 ? 10_000_000 * rand() : 0)));
    const s = h.toJSON();
    const x = percentileAxis();
    const curve = percentileCurve(s.buckets, x);
    expect(curve[x.indexOf(2)]).toBe(s.p50 / 1000);
    expect(curve[x.indexOf(10)]).toBe(s.p90 / 1000);
    expect(curve[x.indexOf(100)]).toBe(s.p99 / 1000);
    expect(curve[x.indexOf(1000)]).toBe(s.p999 / 1000);
    // Monotone, and cut where 20000 records cannot tell the percentile (x > count).
    const known = curve.filter((v): v is number => v !== null);
    expect(known).toEqual([...known].sort((a, b) => a - b));
    expect(curve[x.indexOf(10_000)]).not.toBeNull();
    expect(curve[x.length - 1]).toBeNull();
    expect(percentileCurve([], x).every((v) => v === null)).toBe(true);
  });

  it('the x axis runs from p0 to p99.999, ten steps a decade, with p50 exactly', () => {
    const x = percentileAxis();
    expect(x[0]).toBe(1);
    expect(x.at(-1)).toBe(100_000);
    for (const v of [2, 10, 100, 1000, 10_000]) expect(x).toContain(v);
    expect(x).toEqual([...x].sort((a, b) => a - b));
  });

  it('a cumulative counter becomes a per-second rate on the grid; gauges are averaged over each step; outside the run, null', () => {
    const t = [0, 100, 200, 300, 400];
    const pgsteal = [0, 500, 1000, 1500, 2000]; // 5000 pages/s
    const grid = [0, 100, 200, 300, 400, 500];
    expect(rateOnGrid(t, pgsteal, grid)).toEqual([null, 5000, 5000, 5000, 5000, null]);
    const tt = [0, 50, 100, 150, 200];
    expect(gaugeOnGrid(tt, [10, 20, 30, 40, 50], [0, 100, 200])).toEqual([10, 25, 45]);
    expect(gaugeOnGrid([0, 100], [1, 2], [0, 100, 200, 300])).toEqual([1, 2, 2, null]);
    expect(stepFor(3_000)).toBe(100);
    expect(stepFor(60_000)).toBe(250);
    expect(stepFor(600_000)).toBe(2500);
  });
});
