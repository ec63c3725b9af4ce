/** `zreclaim run`: one reclaim run on the engine; a human report or the RunResult as JSON. */
import { Command, Option } from 'commander';
import { ConfigError, createEngine, PIPELINES, CODECS, RESULT_SCHEMA, type Engine, type RunResult } from '@zreclaim/engine';
import { readConfigFile } from '../config-file.js';
import { EXIT, SourcedConfigError } from '../errors.js';
import { checkLines, checksPassed, formatRun } from '../format/table.js';
import { flagFor, toConfigInput, type RunFlags } from '../options.js';
import { createProgress, progressWanted } from '../progress.js';
import { defaultOf, helpSuffix, kindsOf } from '../schema.js';

export interface Io {
  out: (s: string) => Promise<void>;
  err: (line: string) => void;
}

export function addRunCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const contentKinds = kindsOf('content')
    .filter((k) => k !== 'file')
    .concat('file:PATH');
  const def = defaultOf('content') as { kind: string; ratio?: number };
  const contentDefault = def.kind === 'mix' ? `mix, --ratio ${def.ratio}` : def.kind;
  const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);
  const mem = 'Memory:';
  const load = 'Workload:';
  const rec = 'Reclaim:';
  const outp = 'Output:';
  return program
    .command('run')
    .description('run applications against a RAM budget; kswapd and direct reclaim compress their cold pages into a zram-like store')
    .addOption(opt('--pages <n>', `pages in the arena (the applications' virtual memory)${helpSuffix('pages')}`, mem))
    .addOption(opt('--page-size <bytes>', `page size, a power of two from 512 to 65536${helpSuffix('pageSize')}`, mem))
    .addOption(opt('--ram <pages|N%>', `RAM budget (resident pages + compressed pool), in pages or a share of --pages${helpSuffix('ram')}`, mem))
    .addOption(opt('--apps <n>', `application worker threads, each with an equal share of the pages${helpSuffix('apps')}`, load))
    .addOption(opt('--workload <usemem|PATH>', `usemem, or the path of an ES module that default-exports a workload (default: ${String(defaultOf('workload.kind'))})`, load))
    .addOption(opt('--hot <fraction>', `usemem: share of each application's pages that is hot${helpSuffix('workload.hot')}`, load))
    .addOption(opt('--hot-access <fraction>', `usemem: share of accesses that go to the hot set${helpSuffix('workload.hotAccess')}`, load))
    .addOption(opt('--write-fraction <fraction>', `usemem: share of accesses that write a new version of the page${helpSuffix('workload.writeFraction')}`, load))
    .addOption(opt('--content <kind>', `page content: ${contentKinds.join(', ')} (default: ${contentDefault})`, load))
    .addOption(opt('--ratio <r>', `target compression ratio for --content mix${helpSuffix('content.ratio', def.ratio === undefined ? undefined : String(def.ratio))}`, load))
    .addOption(opt('--duration <s>', `seconds the applications run their access phase${helpSuffix('duration')}`, load))
    .addOption(opt('--seed <n>', `seed for the access pattern and content${helpSuffix('seed')}`, load))
    .addOption(opt('--pipeline <name>', `compression pipeline${helpSuffix('pipeline')}`, rec).choices([...PIPELINES]))
    .addOption(opt('--codec <name>', `compressor${helpSuffix('codec')}`, rec).choices([...CODECS]))
    .addOption(opt('--no-kswapd', 'no kswapd: every reclaim is direct, in the allocating application (allocstall)', rec))
    .addOption(opt('--slice <pages>', `pages kswapd reclaims before it yields the event loop${helpSuffix('kswapd.slice')}`, rec))
    .addOption(opt('--huge-threshold <fraction>', `a page compressing above this share of a page is stored as is (huge_pages)${helpSuffix('store.hugeThreshold')}`, rec))
    .addOption(opt('--mem-limit <pages>', `zram mem_limit in pool pages, 0 = none; a store past it fails and the page stays resident${helpSuffix('store.memLimit')}`, rec))
    .addOption(opt('--no-verify', 'applications do not checksum pages (faster; no mismatch check)', rec))
    .addOption(opt('--config <file>', 'a JSON config (the engine\'s config fields); flags override it', outp))
    .addOption(opt('--json', `print the result (schema ${RESULT_SCHEMA}) as JSON on stdout, nothing else`, outp))
    .addOption(opt('--quiet', 'no progress and no tables; failures still go to stderr and set the exit code', outp))
    .addHelpText(
      'after',
      `
Progress goes to stderr, only when stderr is a terminal, CI is not set, and neither --json nor --quiet.

Exit codes: 0 the run finished and its counters add up; 1 the run failed, its counters do not
add up or a read did not match what was written; 2 bad flag, config or file; 130 interrupted.

Examples:
  zreclaim run
  zreclaim run --pages 65536 --ram 40% --apps 2 --content mix --ratio 3 --duration 20
  zreclaim run --no-kswapd --json > result.json
  zreclaim run --config scenario.json --seed 7`,
    )
    .action(async (_opts: RunFlags, cmd: Command) => {
      // Only what the user typed (commander gives --no-x flags a default of true).
      const flags = Object.fromEntries(Object.entries(cmd.opts()).filter(([k]) => cmd.getOptionValueSource(k) === 'cli')) as RunFlags;
      done(await runCommand(flags, io));
    });
}

function makeEngine(flags: RunFlags): Engine {
  const base = flags.config !== undefined ? readConfigFile(flags.config) : {};
  const input = toConfigInput(flags, base);
  try {
    return createEngine(input);
  } catch (e) {
    if (e instanceof ConfigError) {
      const flag = flagFor(e.field, flags);
      throw new SourcedConfigError(e, flag ?? (flags.config !== undefined ? `--config ${flags.config}` : undefined));
    }
    throw e;
  }
}

export async function runCommand(flags: RunFlags, io: Io): Promise<number> {
  const engine = makeEngine(flags);
  const ac = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  const progress = progressWanted(flags) ? createProgress(engine.config.duration) : undefined;
  let result: RunResult | undefined;
  let failure: unknown;
  try {
    result = await engine.run(undefined, { signal: ac.signal, onProgress: progress?.update, progressIntervalMs: 200 });
  } catch (e) {
    failure = e;
  } finally {
    progress?.stop();
    await engine.close();
    process.off('SIGINT', onSigint);
  }
  if (ac.signal.aborted) {
    io.err('interrupted; the run was stopped and the engine closed');
    return EXIT.interrupted;
  }
  if (failure !== undefined || result === undefined) throw failure;

  if (flags.json) await io.out(`${JSON.stringify(result, null, 2)}\n`);
  else if (!flags.quiet) await io.out(formatRun(result));
  if (!checksPassed(result)) {
    const problems = result.checks.problems.length > 0 ? result.checks.problems : checkLines(result);
    io.err(`checks failed: ${problems.join('; ')}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
