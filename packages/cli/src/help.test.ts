import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { resolveConfig } from '@zreclaim/engine';
import { CONFIG_FLAGS, toConfigInput, type RunFlags } from './options.js';
import { buildProgram } from './program.js';

const program = buildProgram({ out: async () => undefined, err: () => undefined }, () => undefined);
const command = (name: string): Command => {
  const c = program.commands.find((x) => x.name() === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
};
/** Commands whose options are grouped under headings. */
const GROUPED = ['run', 'compare', 'sweep', 'gate'];
/** Flags that only choose what is printed or written, and where: what belongs under "Output:". */
const OUTPUT_FLAGS = new Set(['--json', '--quiet', '--out', '--json-file', '--markdown', '--bench-json']);

interface HelpOption {
  flag: string;
  heading: string;
  /** The description, its wrapped lines joined. */
  text: string;
}

/** The options a command's --help lists, each with the heading it sits under, as printed. */
function helpOptions(cmd: Command): HelpOption[] {
  const out: HelpOption[] = [];
  let heading = '';
  for (const line of cmd.helpInformation().split('\n')) {
    const head = /^(\S.*):$/.exec(line);
    if (head) {
      heading = `${head[1]}:`;
      continue;
    }
    const opt = /^ {2}(?:-\w, )?(--[\w-]+)\S*(?: <[^>]+>)?\s+(.*)$/.exec(line);
    if (opt) out.push({ flag: opt[1], heading, text: opt[2] });
    else if (/^ {3,}\S/.test(line) && out.length > 0 && heading !== 'Arguments:') out[out.length - 1].text += ` ${line.trim()}`;
  }
  return out;
}

describe('--help groups every flag where a user looks for it', () => {
  it.each(['run', 'compare', 'sweep'])('%s: --config is under Config:, not Output:', (name) => {
    const config = helpOptions(command(name)).filter((o) => o.flag === '--config');
    expect(config).toHaveLength(1);
    expect(config[0].heading).toBe('Config:');
  });

  it.each(GROUPED)('%s: Output: holds only flags that choose what is printed or written', (name) => {
    const output = helpOptions(command(name)).filter((o) => o.heading === 'Output:');
    expect(output.length).toBeGreaterThan(0);
    expect(output.map((o) => o.flag).filter((f) => !OUTPUT_FLAGS.has(f))).toEqual([]);
  });

  it.each(GROUPED)('%s: every option is listed once, and only --help under the generic Options:', (name) => {
    const cmd = command(name);
    const shown = helpOptions(cmd);
    const declared = cmd.options.filter((o) => !o.hidden).map((o) => o.long);
    expect(shown.map((o) => o.flag).sort()).toEqual([...declared, '--help'].sort());
    expect(shown.filter((o) => o.heading === 'Options:').map((o) => o.flag)).toEqual(['--help']);
  });
});

/** A flag of `zreclaim run` that sets config, with its help line. */
function configOptions(): (HelpOption & { key: keyof RunFlags; parse: string })[] {
  return helpOptions(command('run')).flatMap((o) => {
    const spec = CONFIG_FLAGS.find((s) => s.flag === o.flag);
    return spec ? [{ ...o, key: spec.key, parse: spec.parse }] : [];
  });
}

/** Whether the engine takes this flag value: the flag parses and the config resolves. */
function accepted(key: keyof RunFlags, value: string): boolean {
  try {
    resolveConfig(toConfigInput({ [key]: value }));
    return true;
  } catch {
    return false;
  }
}

describe('--help says what the engine does', () => {
  it('run: the ranges it gives are exactly what the engine accepts', () => {
    let bounds = 0;
    for (const o of configOptions()) {
      const range = /\[([^\]]+)\]/.exec(o.text)?.[1];
      if (range === undefined) continue;
      // Just outside a bound: the next whole number for whole-number flags, else a thousandth.
      const step = o.parse === 'int' || o.parse === 'bytes' ? 1 : 0.001;
      const lo = /^(\d+(?:\.\d+)?)(?:\.\.|$)/.exec(range) ?? /^≥(\d+(?:\.\d+)?)$/.exec(range);
      const loOpen = /^>(\d+(?:\.\d+)?)/.exec(range);
      const hi = /\.\.(\d+(?:\.\d+)?)$/.exec(range) ?? /≤(\d+(?:\.\d+)?)$/.exec(range);
      expect(lo ?? loOpen ?? hi, `${o.flag} [${range}]`).not.toBeNull();
      const cases: [string, boolean][] = [];
      if (lo) cases.push([lo[1], true], [String(Number(lo[1]) - step), false]);
      if (loOpen) cases.push([loOpen[1], false], [String(Number(loOpen[1]) + step), true]);
      if (hi) cases.push([hi[1], true], [String(Number(hi[1]) + step), false]);
      for (const [value, ok] of cases) expect(accepted(o.key, value), `${o.flag} ${value} (help: [${range}])`).toBe(ok);
      bounds += cases.length;
    }
    // pages, apps, hot, hot-access, write-fraction, ratio, duration, seed, slice, unmap-cost,
    // huge-threshold, mem-limit, max-pool-percent, gc-cap: a range that vanished is a failure too.
    expect(bounds).toBeGreaterThanOrEqual(52);
  });

  it('run: typing the default it gives changes nothing', () => {
    const none = resolveConfig(toConfigInput({}));
    let checked = 0;
    for (const o of configOptions()) {
      const shown = /\(default: ([^)]+)\)/.exec(o.text)?.[1];
      // The backing file's default is a description, not a value one could type.
      if (shown === undefined || o.flag === '--writeback-file') continue;
      // "mix, --ratio 2.3": the value is the part before the comma.
      const value = shown.split(', ')[0];
      expect(resolveConfig(toConfigInput({ [o.key]: value })), `${o.flag} ${value}`).toEqual(none);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('run: the pipelines it names (with N and B at their bounds) are ones the engine runs', () => {
    const pipeline = configOptions().find((o) => o.flag === '--pipeline');
    expect(pipeline?.text).toContain('N 1..16');
    expect(pipeline?.text).toContain('B 1..256');
    for (const p of ['inline', 'kcompressd', 'padata:1', 'padata:16', 'batch:1', 'batch:256', 'padata:16+batch:256']) {
      expect(accepted('pipeline', p), p).toBe(true);
    }
    for (const p of ['padata:17', 'batch:0', 'batch:257', 'padata:2+batch:257']) expect(accepted('pipeline', p), p).toBe(false);
  });
});
