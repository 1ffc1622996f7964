import { describe, expect, it } from 'vitest';
import { countProgressPrinter } from '../src/core/report/progress.js';

describe('countProgressPrinter', () => {
  it('prints a line each tenth of the tables, per phase, and nothing for small databases', () => {
    const lines: string[] = [];
    const print = countProgressPrinter((text) => lines.push(text));
    for (let done = 1; done <= 200; done++) print({ phase: 'before', done, total: 200 });
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('counting rows before the change: 20/200 tables\n');
    expect(lines.at(-1)).toBe('counting rows before the change: 200/200 tables\n');
    print({ phase: 'after', done: 200, total: 200 });
    expect(lines.at(-1)).toBe('counting rows after the change: 200/200 tables\n');
    const quiet: string[] = [];
    const small = countProgressPrinter((text) => quiet.push(text));
    for (let done = 1; done <= 49; done++) small({ phase: 'before', done, total: 49 });
    expect(quiet).toEqual([]);
  });
});
