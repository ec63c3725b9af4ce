/**
 * bench-ring: page indices from the main thread to one worker thread, five ways, in one run,
 * reported as ratios against ringbuf.js per item (so a slower machine is not a regression):
 *
 *   ring/item          our Ring, push() (stage + publish) per index
 *   ring/batch32       our Ring, tryPush() per index, publish() every 32
 *   ringbuf.js/item    ringbuf.js 0.4.0 RingBuffer.push of one element
 *   ringbuf.js/item+relax   the same, its consumer spacing its looks as ours does (so the
 *                      ratio to ring/item is the rings' own difference, not the consumers')
 *   ringbuf.js/batch32 ringbuf.js 0.4.0 RingBuffer.push of 32 elements
 *   piscina.run/item   one piscina.run() per index (what a per-page dispatch would cost)
 *
 * Both rings have 256 slots and a consumer that pops up to 256 at a time; ours waits with
 * waitForData (spaced looks, then sleep), ringbuf.js (which has no wake-up) spins on pop.
 * A producer that finds the ring full waits FULL_RELAX steps before it tries again. A round is timed from the
 * first push to the consumer's last pop (process.hrtime, one clock for all threads), after a
 * warm-up round on the same worker; each variant reports the median of `rounds` rounds.
 *
 *   node scripts/dist/bench-ring.js [--items N] [--piscina-items N] [--rounds N] [--json]
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { RingBuffer } from 'ringbuf.js';
import { cpuRelax, Ring, RING_DEFAULT_CAPACITY, RING_DEFAULT_SPINS } from '@zreclaim/shm';
import type { RingBenchReply, RingBenchRound } from './bench-ring-worker.js';

export type RingBenchVariant =
  | 'ring/item'
  | 'ring/batch32'
  | 'ringbuf.js/item'
  | 'ringbuf.js/item+relax'
  | 'ringbuf.js/batch32'
  | 'piscina.run/item';

export interface RingBenchOptions {
  /** Indices per round for the ring variants (default 10M). */
  items?: number;
  /** Indices for piscina, one run() each (default 20k; ~30–50 µs a call). */
  piscinaItems?: number;
  /** Measured rounds per ring variant; the median is reported (default 3). */
  rounds?: number;
  /** Ring capacity, both rings (default 256, KCOMPRESS_FIFO_SIZE). */
  capacity?: number;
  /** Our consumer's spins before it sleeps (default RING_DEFAULT_SPINS). */
  spins?: number;
}

export interface RingBenchResult {
  variant: RingBenchVariant;
  items: number;
  seconds: number;
  indicesPerSecond: number;
  /** indicesPerSecond over ringbuf.js/item's, measured in the same run. */
  ratioVsRingbufItem: number;
}

const BATCH = 32;
/** cpuRelax() steps a producer waits after finding the ring full. */
const FULL_RELAX = 256;
const PISCINA_WINDOW = 64;

type Producer = (sab: SharedArrayBuffer, capacity: number, items: number) => void;

function value(i: number): number {
  return i & 0x3fffffff;
}

function expectedSum(items: number): number {
  let s = 0;
  for (let i = 0; i < items; i++) s += value(i);
  return s;
}

function produceRingItem(sab: SharedArrayBuffer, capacity: number, items: number): void {
  const ring = new Ring(capacity, sab);
  for (let i = 0; i < items; i++) {
    const v = value(i);
    // Full: kswapd would compress this page inline; the bench waits, relaxing so that it
    // does not pull the consumer's line on every try (the same for every variant).
    while (!ring.push(v)) cpuRelax(FULL_RELAX);
  }
  ring.close();
}

function produceRingBatch(sab: SharedArrayBuffer, capacity: number, items: number): void {
  const ring = new Ring(capacity, sab);
  for (let i = 0; i < items; i++) {
    const v = value(i);
    while (!ring.tryPush(v)) {
      ring.publish();
      cpuRelax(FULL_RELAX);
    }
    if ((i & (BATCH - 1)) === BATCH - 1) ring.publish();
  }
  ring.close();
}

function produceRingbufItem(sab: SharedArrayBuffer, _capacity: number, items: number): void {
  const rb = new RingBuffer(sab, Int32Array);
  const one = new Int32Array(1);
  for (let i = 0; i < items; i++) {
    one[0] = value(i);
    while (rb.push(one, 1) === 0) cpuRelax(FULL_RELAX);
  }
}

function produceRingbufBatch(sab: SharedArrayBuffer, _capacity: number, items: number): void {
  const rb = new RingBuffer(sab, Int32Array);
  const buf = new Int32Array(BATCH);
  for (let i = 0; i < items; ) {
    const n = Math.min(BATCH, items - i);
    for (let j = 0; j < n; j++) buf[j] = value(i + j);
    for (let off = 0; off < n; ) {
      const k = rb.push(buf, n - off, off);
      if (k === 0) cpuRelax(FULL_RELAX);
      off += k;
    }
    i += n;
  }
}

/** Messages from a worker, in order, whether or not someone is waiting yet. */
function mailbox(worker: Worker): () => Promise<unknown> {
  const queued: unknown[] = [];
  const waiting: { resolve: (m: unknown) => void; reject: (e: unknown) => void }[] = [];
  let failed: unknown;
  worker.on('message', (m: unknown) => {
    const w = waiting.shift();
    if (w) w.resolve(m);
    else queued.push(m);
  });
  const fail = (e: unknown) => {
    failed = e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`bench-ring-worker exited (${code})`)));
  return () => {
    if (queued.length > 0) return Promise.resolve(queued.shift());
    if (failed !== undefined) return Promise.reject(failed);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeRingVariant(
  kind: RingBenchRound['kind'],
  produce: Producer,
  items: number,
  rounds: number,
  capacity: number,
  spins: number,
): Promise<number> {
  const worker = new Worker(new URL('./bench-ring-worker.js', import.meta.url));
  const next = mailbox(worker);
  try {
    const times: number[] = [];
    const warmup = Math.min(items, 500_000);
    for (let round = 0; round <= rounds; round++) {
      const n = round === 0 ? warmup : items;
      const sab =
        kind === 'ring' ? new SharedArrayBuffer(Ring.bytesFor(capacity)) : RingBuffer.getStorageForCapacity(capacity, Int32Array);
      const msg: RingBenchRound = { kind, sab, capacity, items: n, spins };
      worker.postMessage(msg);
      await next(); // 'started': the consumer is in its loop
      const t0 = Number(process.hrtime.bigint());
      produce(sab, capacity, n);
      const reply = (await next()) as RingBenchReply;
      if (reply.count !== n || reply.sum !== expectedSum(n)) {
        throw new Error(`${kind}: consumer saw ${reply.count} indices summing to ${reply.sum}, expected ${n} / ${expectedSum(n)}`);
      }
      if (round > 0) times.push((reply.endNs - t0) / 1e9);
    }
    return median(times);
  } finally {
    await worker.terminate();
  }
}

async function timePiscina(items: number): Promise<number> {
  const pool = new Piscina({
    filename: new URL('./bench-ring-piscina.js', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
  });
  try {
    const run = async (n: number): Promise<void> => {
      let sent = 0;
      let sum = 0;
      const lane = async () => {
        while (sent < n) {
          const r = (await pool.run(sent++)) as number; // not `sum += await …`: that reads sum before the await
          sum += r;
        }
      };
      await Promise.all(Array.from({ length: PISCINA_WINDOW }, lane));
      if (sum !== expectedSum(n)) throw new Error(`piscina: results sum to ${sum}, expected ${expectedSum(n)}`);
    };
    await run(Math.min(items, 2_000));
    const t0 = performance.now();
    await run(items);
    return (performance.now() - t0) / 1000;
  } finally {
    await pool.destroy();
  }
}

export async function benchRing(opts: RingBenchOptions = {}): Promise<RingBenchResult[]> {
  const items = opts.items ?? 10_000_000;
  const piscinaItems = opts.piscinaItems ?? 20_000;
  const rounds = opts.rounds ?? 3;
  const capacity = opts.capacity ?? RING_DEFAULT_CAPACITY;
  const spins = opts.spins ?? RING_DEFAULT_SPINS;
  if (!(Number.isInteger(items) && items > 0 && items <= 0x40000000)) throw new RangeError(`items: want 1..2^30, got ${items}`);
  if (!(Number.isInteger(piscinaItems) && piscinaItems > 0)) throw new RangeError(`piscinaItems: want > 0, got ${piscinaItems}`);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new RangeError(`rounds: want > 0, got ${rounds}`);
  Ring.bytesFor(capacity); // validates

  const timed: [RingBenchVariant, number, number][] = [];
  const ringVariants: [RingBenchVariant, RingBenchRound['kind'], Producer][] = [
    ['ringbuf.js/item', 'ringbuf', produceRingbufItem],
    ['ring/item', 'ring', produceRingItem],
    ['ringbuf.js/item+relax', 'ringbuf-relax', produceRingbufItem],
    ['ringbuf.js/batch32', 'ringbuf', produceRingbufBatch],
    ['ring/batch32', 'ring', produceRingBatch],
  ];
  for (const [variant, kind, produce] of ringVariants) {
    timed.push([variant, items, await timeRingVariant(kind, produce, items, rounds, capacity, spins)]);
  }
  timed.push(['piscina.run/item', piscinaItems, await timePiscina(piscinaItems)]);

  const base = items / timed[0][2];
  return timed.map(([variant, n, seconds]) => ({
    variant,
    items: n,
    seconds,
    indicesPerSecond: n / seconds,
    ratioVsRingbufItem: n / seconds / base,
  }));
}

function rate(results: RingBenchResult[], v: RingBenchVariant): number {
  const r = results.find((x) => x.variant === v);
  if (!r) throw new Error(`no result for ${v}`);
  return r.indicesPerSecond;
}

/** The goals as ratios of the same run. */
export function ringBenchGoals(results: RingBenchResult[]): { goal: string; ratio: number; want: number }[] {
  return [
    { goal: 'ring/item ÷ ringbuf.js/item', ratio: rate(results, 'ring/item') / rate(results, 'ringbuf.js/item'), want: 2 },
    { goal: 'ring/batch32 ÷ ringbuf.js/batch32', ratio: rate(results, 'ring/batch32') / rate(results, 'ringbuf.js/batch32'), want: 1 },
    { goal: 'ring/item ÷ piscina.run/item', ratio: rate(results, 'ring/item') / rate(results, 'piscina.run/item'), want: 100 },
    // Not a goal of the issue: the same consumer policy on both sides (informational, want 1).
    { goal: 'ring/item ÷ ringbuf.js/item+relax', ratio: rate(results, 'ring/item') / rate(results, 'ringbuf.js/item+relax'), want: 1 },
  ];
}

export function machineLine(): string {
  const cpus = os.cpus();
  return `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, node ${process.version}`;
}

function formatTable(results: RingBenchResult[]): string {
  const rows = [
    ['variant', 'items', 'seconds', 'indices/s', 'ratio vs ringbuf.js/item'],
    ...results.map((r) => [
      r.variant,
      String(r.items),
      r.seconds.toFixed(4),
      Math.round(r.indicesPerSecond).toLocaleString('en-US'),
      r.ratioVsRingbufItem.toFixed(r.ratioVsRingbufItem < 0.1 ? 4 : 2),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

function parseArgs(argv: string[]): RingBenchOptions & { json: boolean } {
  const out: RingBenchOptions & { json: boolean } = { json: false };
  const num = (flag: string, s: string | undefined): number => {
    const n = Number(s);
    if (s === undefined || !Number.isInteger(n) || n <= 0) throw new RangeError(`${flag}: want a positive integer, got ${s ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--items') out.items = num(a, argv[++i]);
    else if (a === '--piscina-items') out.piscinaItems = num(a, argv[++i]);
    else if (a === '--rounds') out.rounds = num(a, argv[++i]);
    else if (a === '--json') out.json = true;
    else throw new RangeError(`unknown flag ${a} (flags: --items N, --piscina-items N, --rounds N, --json)`);
  }
  return out;
}

async function main(): Promise<void> {
  const { json, ...opts } = parseArgs(process.argv.slice(2));
  const results = await benchRing(opts);
  if (json) {
    console.log(JSON.stringify({ results, goals: ringBenchGoals(results), machine: machineLine() }, null, 2));
    return;
  }
  console.log(formatTable(results));
  console.log();
  for (const g of ringBenchGoals(results)) {
    console.log(`${g.goal}: ${g.ratio.toFixed(2)} (goal ≥ ${g.want}) ${g.ratio >= g.want ? 'ok' : 'MISSED'}`);
  }
  console.log(machineLine());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`bench-ring: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
