/**
 * Every failure ends as one line on stderr and an exit code:
 * 2 for bad flags, bad config and bad files (the user can fix them), 1 for a run that failed
 * or whose checks failed, 130 for a run stopped by SIGINT (Ctrl-C) and 143 by SIGTERM (128 +
 * the signal's number, as a shell reports a process the signal ended). Never a stack trace, unless
 * ZRECLAIM_DEBUG=1 asks for one.
 */
import { CommanderError } from 'commander';
import type { ConfigError } from '@zreclaim/engine';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** A bad flag, flag value or file the user named: exit 2. `where` is the flag or file. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly where: string,
    why: string,
  ) {
    super(`${where}: ${why}`);
  }
}

/** A ConfigError with where its value came from (a flag or the --config file), when known. */
export class SourcedConfigError extends Error {
  override readonly name = 'SourcedConfigError';
  constructor(
    readonly error: ConfigError,
    source: string | undefined,
  ) {
    super(source ? `${error.message}; set by ${source}` : error.message);
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export interface Failure {
  /** The line for stderr (without the "zreclaim: " prefix); undefined when nothing is to be said. */
  line: string | undefined;
  code: number;
}

/** `command`: the subcommand being run, for the help hint of a flag error. */
export function describeFailure(e: unknown, command = 'run'): Failure {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return { line: undefined, code: EXIT.ok };
    // `zreclaim` without a command: commander printed the help to stderr already.
    if (e.code === 'commander.help') return { line: undefined, code: EXIT.usage };
    const help = e.code === 'commander.unknownCommand' ? 'zreclaim --help' : `zreclaim ${command} --help`;
    return { line: `${oneLine(e.message.replace(/^error: /, ''))} (see ${help})`, code: EXIT.usage };
  }
  if (e instanceof UsageError || e instanceof SourcedConfigError) return { line: oneLine(e.message), code: EXIT.usage };
  // By name: this module must not load the engine (bin.ts reports a broken install with it).
  if (e instanceof Error && e.name === 'ConfigError') return { line: oneLine(e.message), code: EXIT.usage };
  if (e instanceof Error && e.name === 'EngineError') return { line: `run failed: ${oneLine(e.message)}`, code: EXIT.failed };
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `internal error: ${oneLine(msg)} (ZRECLAIM_DEBUG=1 shows the stack)`, code: EXIT.failed };
}
