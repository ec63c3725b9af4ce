import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '@zreclaim/engine/internal';
import { flagFor, toConfigInput } from './options.js';
import { defaultOf, helpSuffix, kindsOf } from './schema.js';

describe('flags → config', () => {
  it('flags override the --config file field by field', () => {
    const base = { pages: 4096, ram: 1000, kswapd: { enabled: true, slice: 16 }, workload: { kind: 'usemem', hot: 0.5 } };
    const c = toConfigInput({ pages: '2048', kswapd: false, hotAccess: '0.9' }, base);
    expect(c).toEqual({ pages: 2048, ram: 1000, kswapd: { enabled: false, slice: 16 }, workload: { kind: 'usemem', hot: 0.5, hotAccess: 0.9 } });
    expect(base.pages).toBe(4096);
  });

  it('maps --ram, --content, --ratio and the store flags', () => {
    expect(toConfigInput({ ram: '40%' }).ram).toBe('40%');
    expect(toConfigInput({ ram: '1500' }).ram).toBe(1500);
    expect(toConfigInput({ content: 'random' }).content).toEqual({ kind: 'random' });
    expect(toConfigInput({ content: 'mix', ratio: '3' }).content).toMatchObject({ kind: 'mix', ratio: 3 });
    expect(toConfigInput({ ratio: '4' }).content).toMatchObject({ kind: 'mix', ratio: 4 });
    expect(toConfigInput({ hugeThreshold: '0.5', memLimit: '100', verify: false })).toEqual({ store: { hugeThreshold: 0.5, memLimit: 100 }, verify: false });
    // Every mapped config is one the schema accepts.
    expect(() => ConfigSchema.parse(toConfigInput({ content: 'mix', hot: '0.1', slice: '8', seed: '3', duration: '0.5' }))).not.toThrow();
  });

  it('rejects sloppy numbers and misplaced flags, naming the flag', () => {
    expect(() => toConfigInput({ pages: '12x' })).toThrow('--pages: expected a whole number, got "12x"');
    expect(() => toConfigInput({ pages: '1e3' })).toThrow('--pages');
    expect(() => toConfigInput({ seed: '-1' })).toThrow('--seed');
    expect(() => toConfigInput({ duration: '' })).toThrow('--duration');
    expect(() => toConfigInput({ hot: '0.5.1' })).toThrow('--hot');
    expect(() => toConfigInput({ ram: '50 %' })).toThrow('--ram');
    expect(() => toConfigInput({ content: 'lorem' })).toThrow(/--content: unknown content "lorem" \(choose one of .*file:PATH\)/);
    expect(() => toConfigInput({ content: 'random', ratio: '2' })).toThrow('--ratio');
    expect(() => toConfigInput({ content: 'file:/nonexistent/zreclaim' })).toThrow('--content: no such file');
    expect(() => toConfigInput({ workload: '/nonexistent/w.js' })).toThrow('--workload: no such file');
    expect(() => toConfigInput({ hot: '0.5' }, { workload: { kind: 'module', module: '/x.js' } })).toThrow('--hot: applies to the usemem workload only');
  });

  it('names the flag that set a failing config field', () => {
    expect(flagFor('ram', { ram: '150%' })).toBe('--ram');
    expect(flagFor('workload.hot', { hot: '2' })).toBe('--hot');
    expect(flagFor('kswapd.slice', { slice: '0' })).toBe('--slice');
    expect(flagFor('ram', { pages: '100' })).toBeUndefined();
  });
});

describe('help text from the schema', () => {
  it('reads defaults, bounds and kinds from the engine schema', () => {
    expect(defaultOf('pages')).toBe(ConfigSchema.parse({}).pages);
    expect(helpSuffix('pages')).toMatch(/^ \[\d+\.\.\d+\] \(default: \d+\)$/);
    expect(kindsOf('content')).toEqual(expect.arrayContaining(['zero', 'same-filled', 'text', 'random', 'mix', 'file']));
  });
});
