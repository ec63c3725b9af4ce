#!/usr/bin/env node
/**
 * Entry point of the zreclaim command. Every failure, from a bad flag to a broken install,
 * ends here as one line on stderr and an exit code (errors.ts); ZRECLAIM_DEBUG=1 adds the
 * stack. The program is loaded dynamically so that even a failing import is reported so.
 */
import { describeFailure, EXIT } from './errors.js';
import type { Io } from './commands/run.js';

const debug = process.env.ZRECLAIM_DEBUG === '1';
/** Subcommands with their own help, for the hint after a flag error. */
const COMMANDS = ['run', 'compare', 'sweep', 'report', 'gate'];

function errLine(line: string): void {
  process.stderr.write(`zreclaim: ${line}\n`);
}

const io: Io = {
  out: (s) => new Promise((resolve, reject) => process.stdout.write(s, (e) => (e ? reject(e) : resolve()))),
  err: errLine,
};

function fail(e: unknown): never {
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  const f = describeFailure(e, COMMANDS.find((c) => c === process.argv.slice(2).find((a) => !a.startsWith('-'))));
  if (f.line !== undefined) errLine(f.line);
  process.exit(f.code);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? EXIT.ok : EXIT.failed));

try {
  const { main } = await import('./program.js');
  // stdout is flushed by io.out's callback and stderr writes are synchronous, so exit now:
  // nothing (worker pools, timers) may keep a finished run alive.
  process.exit(await main(process.argv, io));
} catch (e) {
  fail(e);
}
