// REPRODUCE.md when only some scenarios ran: their sections are replaced, the others kept.
import { describe, expect, it } from 'vitest';
import { mergeReproduce } from './reproduce.js';

const section = (name: string, body: string) => `### ${name}: Title of ${name}\n\n${body}\n`;

describe('mergeReproduce', () => {
  const previous = `## Reproducing the threads\n\n${section('a', 'old a')}\n${section('b', 'old b')}\n${section('c', 'old c')}`;

  it('replaces the sections measured now and keeps the others, in scenario order', () => {
    const out = mergeReproduce(previous, new Map([['b', section('b', 'new b')]]), ['a', 'b', 'c']);
    expect(out).toBe(`## Reproducing the threads\n\n${section('a', 'old a')}\n${section('b', 'new b')}\n${section('c', 'old c')}`);
  });

  it('adds a new scenario in its place and drops one whose file is gone', () => {
    const out = mergeReproduce(previous, new Map([['ab', section('ab', 'new ab')]]), ['a', 'ab', 'c']);
    expect(out.match(/^### [^:]+/gm)).toEqual(['### a', '### ab', '### c']);
    expect(out).toContain('new ab');
    expect(out).not.toContain('old b');
  });

  it('starts from nothing when there is no file yet', () => {
    expect(mergeReproduce('', new Map([['a', section('a', 'x')]]), ['a', 'b'])).toBe(`## Reproducing the threads\n\n${section('a', 'x')}`);
  });
});
