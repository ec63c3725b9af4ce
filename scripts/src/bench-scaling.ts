/**
 * What a second thread buys on this machine, with nothing of zreclaim in the way: the bare
 * lz4-napi `compressSync` loop over the same `mix` pages in one worker thread, then in two
 * worker threads at once (each over its own half of the pages, so both compress the same
 * total), interleaved round by round. Aggregate pages/s of two threads ÷ one thread is the
 * ceiling for any two-worker pipeline's speed-up over one compressing thread here (padata:2
 * ÷ inline in bench:pipelines), whatever the engine does.
 *
 *   node --expose-gc scripts/dist/bench-scaling.js [--rounds R] [--codec lz4|lz4-native]
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createContentSource } from '@zreclaim/workloads';
import { machineLine, median } from './bench-drain.js';

const require = createRequire(import.meta.url);
const PAGE = 4096;
const PAGES = 16384;

interface Job {
  sab: SharedArrayBuffer;
  from: number;
  to: number;
  codec: 'lz4' | 'lz4-native';
  /** Both threads spin on this word, then start together. */
  go: SharedArrayBuffer;
}

function compressLoop(job: Job): number {
  const bytes = Buffer.from(job.sab);
  const views: Buffer[] = [];
  for (let p = job.from; p < job.to; p++) views.push(bytes.subarray(p * PAGE, (p + 1) * PAGE));
  const go = new Int32Array(job.go);
  Atomics.add(go, 1, 1);
  while (Atomics.load(go, 0) === 0);
  const t0 = performance.now();
  let sink = 0;
  if (job.codec === 'lz4') {
    const lz4 = require('lz4-napi') as { compressSync(b: Buffer): Buffer };
    for (const v of views) sink += lz4.compressSync(v).length;
  } else {
    const lz4 = require('lz4') as { encodeBlock(i: Buffer, o: Buffer, s?: number, e?: number): number };
    const out = Buffer.allocUnsafeSlow(PAGE);
    for (const v of views) sink += lz4.encodeBlock(v, out, 0, PAGE - 1);
  }
  const ms = performance.now() - t0;
  if (sink === 0) throw new Error('nothing compressed');
  return ms;
}

if (!isMainThread) {
  parentPort!.postMessage(compressLoop(workerData as Job));
}

async function round(sab: SharedArrayBuffer, threads: number, codec: Job['codec']): Promise<number> {
  const go = new SharedArrayBuffer(8);
  const g = new Int32Array(go);
  const per = PAGES / threads;
  const done = Array.from({ length: threads }, (_, i) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { sab, from: i * per, to: (i + 1) * per, codec, go } satisfies Job });
    return new Promise<number>((res, rej) => {
      w.once('message', (ms: number) => void w.terminate().then(() => res(ms)));
      w.once('error', rej);
    });
  });
  while (Atomics.load(g, 1) < threads) await new Promise((r) => setTimeout(r, 1));
  const t0 = performance.now();
  Atomics.store(g, 0, 1);
  await Promise.all(done);
  return PAGES / ((performance.now() - t0) / 1000);
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const rounds = Number(arg('--rounds') ?? 7);
  const codec = (arg('--codec') ?? 'lz4') as Job['codec'];
  const sab = new SharedArrayBuffer(PAGES * PAGE);
  const src = createContentSource({ kind: 'mix', ratio: 2.3, same: 0, zero: 0 }, PAGE, 11);
  const bytes = new Uint8Array(sab);
  for (let p = 0; p < PAGES; p++) src.fill(bytes, p * PAGE, PAGE, p, 1);
  await round(sab, 1, codec);
  await round(sab, 2, codec);
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const one = await round(sab, 1, codec);
    const two = await round(sab, 2, codec);
    ratios.push(two / one);
    console.log(`${codec}: 1 thread ${Math.round(one)} pages/s, 2 threads ${Math.round(two)} pages/s, ×${(two / one).toFixed(2)}`);
  }
  const s = [...ratios].sort((a, b) => a - b);
  console.log(`median 2 threads ÷ 1 thread ×${median(ratios).toFixed(2)} (${s[0].toFixed(2)}–${s[s.length - 1].toFixed(2)}, ${rounds} rounds) — ${machineLine()}`);
}
