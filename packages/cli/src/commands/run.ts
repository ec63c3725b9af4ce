/** `zreclaim run`: one reclaim run on the engine; a human report or the RunResult as JSON. */
import { Command, Option } from 'commander';
import { CODECS, RESULT_SCHEMA, type RunResult } from '@zreclaim/engine';
import { EXIT } from '../errors.js';
import { checkLines, checksPassed, formatRun } from '../format/table.js';
import type { RunFlags } from '../options.js';
import { createProgress, progressWanted } from '../progress.js';
import { helpSuffix } from '../schema.js';
import { addConfigFlags, configInputFrom, createEngineFrom, PIPELINE_HELP, typedFlags } from './config-flags.js';
import { abortOnInterrupt, interrupted } from '../interrupt.js';

export interface Io {
  out: (s: string) => Promise<void>;
  err: (line: string) => void;
}

export function addRunCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const outp = 'Output:';
  const opt = (flags: string, desc: string, group: string) => new Option(flags, desc).helpGroup(group);
  const cmd = program
    .command('run')
    .description('run applications against a RAM budget; kswapd and direct reclaim compress their cold pages into a zram- or zswap-like store');
  return addConfigFlags(cmd, {
    pipeline: new Option('--pipeline <name>', `compression pipeline: ${PIPELINE_HELP}${helpSuffix('pipeline')}`),
    codec: new Option('--codec <name>', `compressor${helpSuffix('codec')}`).choices([...CODECS]),
  })
    .addOption(opt('--json', `print the result (schema ${RESULT_SCHEMA}) as JSON on stdout, nothing else`, outp))
    .addOption(opt('--quiet', 'no progress and no tables; failures still go to stderr and set the exit code', outp))
    .addHelpText(
      'after',
      `
Progress goes to stderr, only when stderr is a terminal, CI is not set, and neither --json nor --quiet.

Exit codes: 0 the run finished and its counters add up; 1 the run failed, its counters do not
add up or a read did not match what was written; 2 bad flag, config or file; 130 stopped by
SIGINT (Ctrl-C), 143 by SIGTERM (a second signal exits at once).

Examples:
  zreclaim run
  zreclaim run --pages 65536 --ram 40% --apps 2 --content mix --ratio 3 --duration 20
  zreclaim run --no-kswapd --json > result.json
  zreclaim run --config scenario.json --seed 7`,
    )
    .action(async (_opts: RunFlags, c: Command) => {
      done(await runCommand(typedFlags<RunFlags>(c), io));
    });
}

export async function runCommand(flags: RunFlags, io: Io): Promise<number> {
  const engine = createEngineFrom(configInputFrom(flags), flags);
  const ac = new AbortController();
  const stopInterrupts = abortOnInterrupt(ac);
  const progress = progressWanted(flags) ? createProgress(engine.config.duration) : undefined;
  let result: RunResult | undefined;
  let failure: unknown;
  try {
    result = await engine.run({ signal: ac.signal, onProgress: progress?.update, progressIntervalMs: 200 });
  } catch (e) {
    failure = e;
  } finally {
    progress?.stop();
    await engine.close();
    stopInterrupts();
  }
  if (ac.signal.aborted) {
    const stop = interrupted(ac.signal, 'the run was stopped and the engine closed');
    io.err(stop.line);
    return stop.code;
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
