/**
 * The human report of a run: a header (machine, config), then vmstat, zram mm_stat, rates,
 * latency, per-application and check sections, each under the kernel's own names. Empty
 * sections are left out.
 */
import Table from 'cli-table3';
import { LATENCIES, PROC_VMSTAT, VMSTAT, ZRAM_MM_STAT_GAUGES, type Config, type RunResult } from '@zreclaim/engine/internal';
import { bytes, int, num, secs, us } from './units.js';

/** /proc/vmstat counters, always shown (in this order). */
const VMSTAT_CORE = PROC_VMSTAT;

/** Gauges reported in the mm_stat section instead. */
const MM_STAT_GAUGES = new Set<string>(ZRAM_MM_STAT_GAUGES);

interface Hist {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const BYTE_FIELDS = new Set(['orig_data_size', 'compr_data_size', 'mem_used_total', 'mem_limit', 'mem_used_max']);

function table(head: string[], align: ('left' | 'right')[]): Table.Table {
  return new Table({ head, colAligns: align, style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 } });
}

export function header(r: RunResult): string {
  const e = r.environment;
  const c = r.config as unknown as Config;
  const commit = e.commit ? ` · commit ${e.commit.slice(0, 12)}${e.commit.endsWith('-dirty') ? '-dirty' : ''}` : '';
  const machine = `zreclaim run · ${e.cpuModel.trim()} · ${e.cores} cores · node ${e.node} · ${e.platform} ${e.kernel}${commit}`;
  return `${machine}\n${configSummary(c)}`;
}

/** The config in one line; compare leaves out the pipeline and codec (they are its columns). */
export function configSummary(c: Config, opts: { pipeline?: boolean } = {}): string {
  const w = c.workload;
  const workload =
    w.kind === 'usemem' ? `usemem (hot ${w.hot}, hotAccess ${w.hotAccess}, writeFraction ${w.writeFraction}${w.unmap ? (w.exit === 'kill' ? ', kill' : ', unmap') : ''})` : `module ${w.module}`;
  const ct = c.content;
  const content = ct.kind === 'mix' ? `mix (ratio ${ct.ratio}, same ${ct.same}, zero ${ct.zero})` : ct.kind === 'file' ? `file ${ct.path}` : ct.kind;
  const ram = typeof c.ram === 'string' ? `${c.ramPages} pages (${c.ram})` : `${c.ramPages} pages`;
  const parts = [
    `pages ${c.pages} × ${bytes(c.pageSize)} = ${bytes(c.pages * c.pageSize)}`,
    `ram ${ram}`,
    `wmark min/low/high ${c.wmark.min}/${c.wmark.low}/${c.wmark.high}`,
    `apps ${c.apps}`,
    workload,
    `content ${content}`,
    `duration ${c.duration}s`,
    `seed ${c.seed}`,
    ...(opts.pipeline === false ? [] : [`${c.pipeline}/${c.codec}`]),
    ...(opts.pipeline === false || c.pipe.workers > 0 ? [`ring capacity ${c.ringCapacity}`] : []),
    c.kswapd.enabled ? `kswapd slice ${c.kswapd.slice}` : 'no kswapd (all reclaim direct)',
    `unmap cost ${c.unmapCostNs} ns/page${c.unmapCostNs ? ' (modelled)' : ''}`,
    c.store.mode === 'zswap'
      ? `zswap (max_pool_percent ${c.store.maxPoolPercent}, rejects above ${c.store.hugeThreshold} of a page${c.store.compact ? '' : ', no compaction'})`
      : `zram (hugeThreshold ${c.store.hugeThreshold}, ${c.store.memLimit ? `mem_limit ${c.store.memLimit} pages` : 'no mem_limit'}${c.store.compact ? '' : ', no compaction'})`,
    c.gc.mode === 'async' ? `gc async (cap ${c.gc.capBytes ? bytes(c.gc.capBytes) : 'none'})` : 'gc sync',
    c.verify ? 'verify' : 'no verify',
  ];
  return `config: ${parts.join(' · ')}`;
}

function section(title: string, body: string): string {
  return `\n${title}\n${body}`;
}

export function formatRun(r: RunResult): string {
  const out: string[] = [header(r), `elapsed ${secs(r.elapsedMs)}`];
  const k = r.counters as Record<string, number>;

  const vm = table(['vmstat', 'value'], ['left', 'right']);
  for (const name of VMSTAT_CORE) vm.push([name, int(k[name] ?? 0)]);
  out.push(section('/proc/vmstat', vm.toString()));

  const core = new Set<string>(VMSTAT_CORE);
  const others = VMSTAT.filter((n) => !core.has(n) && !MM_STAT_GAUGES.has(n) && (k[n] ?? 0) !== 0);
  if (others.length > 0) {
    const t = table(['counter', 'value'], ['left', 'right']);
    for (const n of others) t.push([n, int(k[n])]);
    out.push(section('other counters (non-zero)', t.toString()));
  }

  const mm = table(['mm_stat', 'value', 'human'], ['left', 'right', 'right']);
  for (const [name, v] of Object.entries(r.mm_stat)) {
    if (name === 'at_ms') continue;
    const human = BYTE_FIELDS.has(name) ? (name === 'mem_limit' && v === 0 ? 'none' : bytes(v)) : `${int(v)} pages`;
    mm.push([name, int(v), human]);
  }
  out.push(section(`${r.config.store.mode === 'zswap' ? 'zswap pool, by zram mm_stat names' : 'zram mm_stat'} (at t=${secs(r.mm_stat.at_ms)}, when orig_data_size peaked)`, mm.toString()));

  const rates = table(['rate', 'per second'], ['left', 'right']);
  const rt = r.rates;
  rates.push(
    ['pgsteal_anon/s', num(rt.pgsteal_anon_per_s)],
    ['pgscan/s', num(rt.pgscan_per_s)],
    ['pswpout/s', num(rt.pswpout_per_s)],
    ['pswpin/s', num(rt.pswpin_per_s)],
    ['allocstall/s', num(rt.allocstall_per_s)],
  );
  out.push(section('rates', rates.toString()));
  out.push(
    `compression ratio ${r.compression_ratio > 0 ? num(r.compression_ratio) : 'n/a (nothing compressed)'} (orig/compr, same-filled pages excluded)` +
      ` · kswapd busy ${int(r.kswapd.busy_ms)} ms, pageoutrun ${int(r.kswapd.pageoutrun)}`,
  );

  const pl = r.pipeline;
  if (pl.workers > 0) {
    const lines = [
      `${pl.name} · codec ${pl.codec} · ${pl.workers} compression worker${pl.workers > 1 ? 's' : ''} · batch ${pl.batch} · ring ${pl.ringCapacity} each · shard ${pl.shard}`,
      `kcompressd_enqueued ${int(k.kcompressd_enqueued ?? 0)} · kcompressd_fifo_full ${int(k.kcompressd_fifo_full ?? 0)} (compressed inline by kswapd) · batch_count ${int(k.batch_count ?? 0)}`,
    ];
    if (pl.crashes > 0) lines.push(`worker crashes ${pl.crashes}: ${pl.pages_returned} in-flight pages returned to RESIDENT, ${pl.pages_kept} kept stored`);
    const w = table(['worker', 'pages', 'batches', 'rejected', 'idle waits'], ['left', 'right', 'right', 'right', 'right']);
    for (const cw of pl.compressors) w.push([String(cw.workerId), int(cw.pages), int(cw.batches), int(cw.rejected), int(cw.idleWaits)]);
    out.push(section('pipeline', `${lines.join('\n')}\n${w.toString()}`));
  }

  const lat = table(['latency', 'count', 'p50 µs', 'p99 µs', 'max µs'], ['left', 'right', 'right', 'right', 'right']);
  let rows = 0;
  const latency = r.latency as unknown as Record<string, Hist | undefined>;
  for (const name of LATENCIES) {
    const h = latency[name];
    if (!h || h.count === 0) continue;
    lat.push([name, int(h.count), us(h.p50), us(h.p99), us(h.max)]);
    rows++;
  }
  if (rows > 0) out.push(section('latency', lat.toString()));

  if (r.gc?.mode === 'async') {
    const g = r.gc;
    const t = table(['gc (async)', 'value'], ['left', 'right']);
    t.push(
      ['cap', g.cap_bytes ? bytes(g.cap_bytes) : 'none'],
      ['slots queued / freed by the GC worker', `${int(g.slots_queued)} / ${int(g.slots_freed)}`],
      ['bulk frees (largest batch)', `${int(g.bulk_frees)} (${int(g.max_batch)})`],
      ['peak bytes queued / pending', `${bytes(g.peak_queued_bytes)} / ${bytes(g.peak_pending_bytes)}`],
      ['GC worker busy', `${g.busy_ms.toFixed(1)} ms`],
    );
    out.push(section('slot GC worker', t.toString()));
  }

  if (r.apps.length > 0) {
    const apps = table(['app', 'pages', 'reads', 'writes', 'faults', 'stalls', 'verified', 'mismatches'], ['left', ...Array<'right'>(7).fill('right')]);
    for (const a of r.apps) apps.push([String(a.appId), int(a.pages), int(a.reads), int(a.writes), int(a.faults), int(a.stalls), int(a.verified), int(a.mismatches)]);
    out.push(section('applications', apps.toString()));
  }

  out.push(section('checks', checkLines(r).join('\n')));
  return `${out.join('\n')}\n`;
}

export function checkLines(r: RunResult): string[] {
  const ch = r.checks;
  const lines = [
    ch.counters_add_up
      ? `counters add up: yes (pswpout − notify_free = ${ch.stored_by_counters} = pages stored)`
      : `counters add up: NO (pswpout − notify_free = ${ch.stored_by_counters}, pages stored ${ch.stored_pages})`,
    `reads verified: ${int(ch.verified)}, mismatches: ${int(ch.mismatches)}`,
  ];
  for (const p of ch.problems) lines.push(`  problem: ${p}`);
  return lines;
}

/** Whether a run's checks passed: counters add up and no read mismatched. */
export function checksPassed(r: RunResult): boolean {
  return r.checks.counters_add_up && r.checks.mismatches === 0;
}
