/**
 * `zreclaim report FILE... [-o report.html]`: run results, compare documents and sweep JSON
 * lines (shards of a sweep merge) into one self-contained HTML page of charts and tables.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { EXIT, UsageError } from '../errors.js';
import { loadInputs } from '../report/load.js';
import { buildReportData } from '../report/model.js';
import { renderHtml } from '../report/html.js';
import type { Io } from './run.js';

export interface ReportFlags {
  out?: string;
  quiet?: boolean;
}

export const DEFAULT_REPORT = 'report.html';

export function addReportCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('report')
    .description('one self-contained HTML page (charts, tables, environment) from run results, compare documents and sweep JSON lines')
    .argument('<files...>', 'zreclaim run --json results, zreclaim compare --json documents, zreclaim sweep --out JSON-lines files (shards of one sweep merge)')
    .addOption(new Option('-o, --out <file>', `the HTML file to write (default: ${DEFAULT_REPORT})`))
    .addOption(new Option('--quiet', 'do not say what was written'))
    .addHelpText(
      'after',
      `
The page: reclaim throughput (pgsteal_anon/s) and free memory with the watermarks over time;
ring depth over time; latency percentile curves (log 1/(1−p) axis) per pipeline; pipeline
comparison bars with min–max spread (compare documents, or several run results); sweep
heat-maps (pipeline × batch per codec and ram) and a table of every point; the environment.
uPlot and the data are inlined: the file needs no network and opens from disk.

Exit codes: 0 written; 2 a file that is not a zreclaim result, or cannot be read or written.

Examples:
  zreclaim run --json > run.json && zreclaim report run.json
  zreclaim report sweep-1.jsonl sweep-2.jsonl compare.json -o sweep.html`,
    )
    .action(async (files: string[], opts: ReportFlags) => {
      done(await reportCommand(files, opts, io));
    });
}

export async function reportCommand(files: string[], flags: ReportFlags, io: Io): Promise<number> {
  const out = flags.out ?? DEFAULT_REPORT;
  const inputs = loadInputs(files);
  const data = buildReportData(inputs);
  const html = renderHtml(data);
  try {
    writeFileSync(out, html);
  } catch (e) {
    throw new UsageError(`--out ${out}`, `cannot write the report: ${(e as Error).message}`);
  }
  for (const n of inputs.notes) io.err(n);
  if (!flags.quiet) {
    const parts = [
      inputs.runs.length > 0 ? `${inputs.runs.length} run${inputs.runs.length === 1 ? '' : 's'}` : '',
      inputs.compares.length > 0 ? `${inputs.compares.length} compare document${inputs.compares.length === 1 ? '' : 's'}` : '',
      ...inputs.sweeps.map((s) => `sweep ${s.id}: ${s.points.length} points from ${s.files.length} file${s.files.length === 1 ? '' : 's'}`),
    ].filter((p) => p !== '');
    await io.out(`wrote ${out} (${Math.round(Buffer.byteLength(html) / 1024)} KiB): ${parts.join(', ')}; ${data.latency.charts.length} latency charts\n`);
  }
  return EXIT.ok;
}
