/**
 * The flags that set engine config, shared by `run` and `compare` (they differ only in
 * --pipeline and --codec, which compare takes as lists), and the engine made from them.
 */
import { Command, Option } from 'commander';
import { ConfigError, createEngine, PIPELINES, type ConfigInput, type Engine } from '@zreclaim/engine';
import { readConfigFile } from '../config-file.js';
import { SourcedConfigError } from '../errors.js';
import { flagFor, toConfigInput, type RunFlags } from '../options.js';
import { defaultOf, helpSuffix, kindsOf } from '../schema.js';

const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);

/** How pipelines are spelled, with the ranges the engine accepts (config.ts). */
export const PIPELINE_HELP = `${PIPELINES.join(', ')} (N 1..16 workers, B 1..256 pages a request)`;

/** Add the config flags; `pipeline` and `codec` are the command's own options for those two. */
export function addConfigFlags(cmd: Command, own: { pipeline: Option; codec: Option }): Command {
  const contentKinds = kindsOf('content')
    .filter((k) => k !== 'file')
    .concat('file:PATH');
  const def = defaultOf('content') as { kind: string; ratio?: number };
  const contentDefault = def.kind === 'mix' ? `mix, --ratio ${def.ratio}` : def.kind;
  // Groups as a user reads them: where the config comes from, then memory, what the
  // applications do, how kswapd reclaims, where pages are stored. Output flags are each command's own.
  const conf = 'Config:';
  const mem = 'Memory:';
  const load = 'Workload:';
  const rec = 'Reclaim:';
  const store = 'Store:';
  return cmd
    .addOption(opt('--config <file>', "a JSON file of engine config fields (the API's createEngine config); the flags below override it field by field", conf))
    .addOption(opt('--pages <n>', `pages in the arena (the applications' virtual memory)${helpSuffix('pages')}`, mem))
    .addOption(opt('--page-size <bytes>', `page size, a power of two from 512 to 65536${helpSuffix('pageSize')}`, mem))
    .addOption(opt('--ram <pages|N%>', `RAM budget (resident pages + compressed pool), in pages or a share of --pages; at least 32 pages and fewer than --pages${helpSuffix('ram')}`, mem))
    .addOption(opt('--apps <n>', `application worker threads, each with an equal share of the pages (at least 16 pages each)${helpSuffix('apps')}`, load))
    .addOption(opt('--workload <usemem|kill|PATH>', `usemem; kill (usemem whose exit unmaps all its pages at once, like the low-memory killer); or the path of an ES module that default-exports a workload (default: ${String(defaultOf('workload.kind'))})`, load))
    .addOption(opt('--hot <fraction>', `usemem: share of each application's pages that is hot${helpSuffix('workload.hot')}`, load))
    .addOption(opt('--hot-access <fraction>', `usemem: share of accesses that go to the hot set${helpSuffix('workload.hotAccess')}`, load))
    .addOption(opt('--write-fraction <fraction>', `usemem: share of accesses that write a new version of the page${helpSuffix('workload.writeFraction')}`, load))
    .addOption(opt('--content <kind>', `page content: ${contentKinds.join(', ')} (default: ${contentDefault})`, load))
    .addOption(opt('--ratio <r>', `target compression ratio for --content mix${helpSuffix('content.ratio', def.ratio === undefined ? undefined : String(def.ratio))}`, load))
    .addOption(opt('--duration <s>', `seconds the applications run their access phase${helpSuffix('duration')}`, load))
    .addOption(opt('--seed <n>', `seed for the access pattern and content${helpSuffix('seed')}`, load))
    .addOption(opt('--no-verify', 'applications do not checksum pages (faster; no mismatch check)', load))
    .addOption(own.pipeline.helpGroup(rec))
    .addOption(opt('--ring-capacity <n>', `capacity of each kswapd → worker ring, a power of two from 2 to 65536${helpSuffix('ringCapacity')}`, rec))
    .addOption(own.codec.helpGroup(rec))
    .addOption(opt('--no-kswapd', 'no kswapd: every reclaim is direct, in the allocating application (allocstall)', rec))
    .addOption(opt('--slice <pages>', `pages kswapd reclaims before it yields the event loop${helpSuffix('kswapd.slice')}`, rec))
    .addOption(opt('--on-full <inline|wait>', `when every ring is full: kswapd compresses inline (kcompressd_fifo_full) or waits for room${helpSuffix('kswapd.onFull')}`, rec))
    .addOption(opt('--unmap-cost <ns>', `model: busy work per reclaimed page in kswapd or a direct reclaimer (the kernel's try_to_unmap: rmap walk, PTE clears, TLB flush), never in compression workers; 0 = off${helpSuffix('unmapCostNs')}`, rec))
    .addOption(opt('--store <zram|zswap>', `zram: huge pages stored as is; zswap: huge pages rejected (reject_compress_poor), pool capped at --max-pool-percent, oldest entries written back to a file${helpSuffix('store.mode')}`, store))
    .addOption(opt('--huge-threshold <fraction>', `a page compressing above this share of a page is huge: stored as is (zram, huge_pages) or rejected (zswap)${helpSuffix('store.hugeThreshold')}`, store))
    .addOption(opt('--mem-limit <pages>', `zram mem_limit in pool pages, 0 = none; a store past it fails and the page stays resident${helpSuffix('store.memLimit')}`, store))
    .addOption(opt('--max-pool-percent <n>', `zswap: the pool's cap as a percentage of the RAM budget${helpSuffix('store.maxPoolPercent')}`, store))
    .addOption(opt('--writeback-file <path>', 'zswap: where the backing file written-back pages go to is made (which file system); must not exist; its name is removed as soon as it is opened, so nothing is left behind (default: an unnamed file in the OS temp directory)', store))
    .addOption(opt('--no-compact', 'kswapd does not compact the pool (zsmalloc shrinker) at each balance pass', store))
    .addOption(opt('--gc <sync|async>', `freeing the slots of unmapped and swapped-in pages: in the unmapping thread, or queued to the GC worker${helpSuffix('gc.mode')}`, store))
    .addOption(opt('--gc-cap <bytes>', `gc async: most compressed bytes queued for freeing, in bytes or with B, KiB, MiB, GiB; 0 = no cap; past it slots are freed synchronously${helpSuffix('gc.capBytes', bytesShown(defaultOf('gc.capBytes')))}`, store));
}

/** A byte count as --gc-cap takes it, e.g. 64MiB. */
function bytesShown(v: unknown): string | undefined {
  if (typeof v !== 'number') return undefined;
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (v > 0 && v % size === 0) return `${v / size}${unit}`;
  }
  return String(v);
}

/** Only the flags the user typed (commander gives --no-x flags a default of true). */
export function typedFlags<T>(cmd: Command): T {
  return Object.fromEntries(Object.entries(cmd.opts()).filter(([k]) => cmd.getOptionValueSource(k) === 'cli')) as T;
}

/** The --config file's config (or {}) with the flags applied. */
export function configInputFrom(flags: RunFlags): ConfigInput {
  const base = flags.config !== undefined ? readConfigFile(flags.config) : {};
  return toConfigInput(flags, base);
}

/** An engine for this config; a ConfigError says which flag (or the --config file) set the field. */
export function createEngineFrom(input: ConfigInput, flags: RunFlags): Engine {
  try {
    return createEngine(input);
  } catch (e) {
    if (e instanceof ConfigError) throw sourced(e, flags);
    throw e;
  }
}

export function sourced(e: ConfigError, flags: RunFlags): SourcedConfigError {
  const flag = flagFor(e.field, flags);
  return new SourcedConfigError(e, flag ?? (flags.config !== undefined ? `--config ${flags.config}` : undefined));
}
