#!/usr/bin/env node
/**
 * Rewrites the `--help` blocks of docs/cli.md from the built CLI, so the reference says what
 * the command prints. Each block follows a marker line `<!-- zreclaim <command> --help -->`
 * (`<!-- zreclaim --help -->` for the top level). Run after a build, from anywhere:
 *
 *   node docs/cli-help.mjs            rewrite docs/cli.md
 *   node docs/cli-help.mjs --check    exit 1 if docs/cli.md is out of date
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const doc = fileURLToPath(new URL('./cli.md', import.meta.url));
const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
// stdout is a pipe here, so commander wraps at 80 columns whatever the terminal.
const help = (args) => execFileSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8' }).trimEnd();

const before = readFileSync(doc, 'utf8');
const after = before.replace(/(<!-- zreclaim ((?:[a-z]+ )?)--help -->\n```text\n)[^]*?(\n```)/g, (_m, head, cmd, tail) => {
  const args = cmd.trim() ? [cmd.trim()] : [];
  return `${head}${help(args)}${tail}`;
});
if (process.argv.includes('--check')) {
  if (after !== before) {
    console.error('docs/cli.md: the --help blocks are out of date; run node docs/cli-help.mjs');
    process.exit(1);
  }
} else if (after !== before) {
  writeFileSync(doc, after);
  console.error('docs/cli.md: --help blocks rewritten');
} else {
  console.error('docs/cli.md: --help blocks already up to date');
}
