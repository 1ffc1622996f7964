import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The SQL parser loads on first use, compiled by V8's baseline compiler only (the optimizing
 * tier kept ~40 MB more resident: bench/), and V8's flags are as they were afterwards.
 */
async function freshParser() {
  vi.resetModules();
  return import('../src/core/migrations/parser.js');
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('ensureParser', () => {
  it('compiles the parser with Liftoff only, then puts the flag back', async () => {
    const flags = vi.spyOn(v8, 'setFlagsFromString');
    const parser = await freshParser();
    expect(() => parser.parseSync('select 1')).toThrow(/not loaded/);
    await Promise.all([parser.ensureParser(), parser.ensureParser()]);
    expect(flags.mock.calls).toEqual([['--liftoff-only'], ['--no-liftoff-only']]);
    expect(parser.parseSync('select 1; select 2')).toMatchObject({ stmts: [{}, {}] });
  });

  it("leaves V8's flags alone when the user chose a Liftoff flag", async () => {
    vi.stubEnv('NODE_OPTIONS', '--no-liftoff');
    const flags = vi.spyOn(v8, 'setFlagsFromString');
    const parser = await freshParser();
    await parser.ensureParser();
    expect(flags).not.toHaveBeenCalled();
    expect(parser.parseSync('select 1')).toMatchObject({ stmts: [{}] });
  });
});
