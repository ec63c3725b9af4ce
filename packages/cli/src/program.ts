/** The zreclaim program: its commands and options (bin.ts runs it and reports failures). */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addCompareCommand } from './commands/compare.js';
import { addGateCommand } from './commands/gate.js';
import { addRunCommand, type Io } from './commands/run.js';
import { addSweepCommand } from './commands/sweep.js';
import { addReportCommand } from './commands/report.js';
import { EXIT } from './errors.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The program with every command, not yet parsed; `done` receives a command's exit code.
 * Exported so a test can read each command's help as users see it.
 */
export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('zreclaim')
    .description('a user-space model of Linux compressed-memory reclaim (kswapd, kcompressd, direct reclaim, zram and zswap) on worker threads')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);
  addRunCommand(program, io, done);
  addCompareCommand(program, io, done);
  addSweepCommand(program, io, done);
  addReportCommand(program, io, done);
  addGateCommand(program, io, done);
  return program;
}

/** Parse argv and run the command; resolves to the exit code, throws for failures. */
export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  await program.parseAsync(argv);
  return code;
}
