import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../src/core/progress.js';
import { countProgressPrinter, progressRenderer, timingsLine } from '../src/core/report/progress.js';

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

describe('progressRenderer', () => {
  const events = (listener: (event: ProgressEvent) => void) => {
    listener({ type: 'target', target: 'database "app" on db.example.com:5432' });
    listener({ type: 'phase-start', phase: 'backup' });
    listener({ type: 'bytes', phase: 'backup', bytes: 3 * 1024 * 1024 });
    listener({ type: 'phase-end', phase: 'backup', ms: 30_012, ok: true });
    listener({ type: 'migration-start', index: 1, total: 2, path: 'supabase/migrations/1_a.sql' });
    listener({
      type: 'migration-end',
      index: 1,
      total: 2,
      path: 'supabase/migrations/1_a.sql',
      ms: 2_000,
      ok: true,
    });
    listener({ type: 'migration-start', index: 2, total: 2, path: 'supabase/migrations/2_b.sql' });
    listener({
      type: 'migration-end',
      index: 2,
      total: 2,
      path: 'supabase/migrations/2_b.sql',
      ms: 12,
      ok: false,
    });
  };

  it('elsewhere than a terminal: plain lines, no carriage return, no escape sequence', () => {
    let out = '';
    const renderer = progressRenderer({
      write: (t) => (out += t),
      live: false,
      color: true,
      plainBytesEveryMs: 0,
    });
    events(renderer.listener);
    renderer.finish();
    expect(out.split('\n')).toEqual([
      'Target: database "app" on db.example.com:5432',
      '→ backing up the database…',
      '  backing up the database: 3.0 MB written',
      '✓ backing up the database: 3.0 MB (30.0 s)',
      '→ migration 1/2: supabase/migrations/1_a.sql…',
      '✓ migration 1/2: supabase/migrations/1_a.sql (2.0 s)',
      '→ migration 2/2: supabase/migrations/2_b.sql…',
      '✗ migration 2/2: supabase/migrations/2_b.sql failed (12 ms)',
      '',
    ]);
    expect(renderer.timings()).toEqual([{ name: 'backup', ms: 30_012 }]);
    expect(timingsLine(32_100, renderer.timings())).toBe('Took 32.1 s: backup 30.0 s.');
  });

  it('on a terminal: one live line rewritten with \\r; colours unless NO_COLOR', () => {
    let coloured = '';
    const live = progressRenderer({ write: (t) => (coloured += t), live: true, color: true });
    events(live.listener);
    live.finish();
    expect(coloured).toContain('\r→ backing up the database…');
    expect(coloured).toContain('\u001b[32m✓\u001b[0m');
    let plain = '';
    const noColor = progressRenderer({ write: (t) => (plain += t), live: true, color: false });
    events(noColor.listener);
    noColor.finish();
    expect(plain).toContain('\r');
    expect(plain).not.toContain('\u001b');
  });
});
