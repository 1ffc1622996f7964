import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigInput, findProjectDir, resolveConfig } from '../src/core/config.js';
import { SupagateError } from '../src/core/errors.js';

function configError(input: ConfigInput): SupagateError {
  let caught: unknown;
  try {
    resolveConfig(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SupagateError);
  return caught as SupagateError;
}

describe('resolveConfig: defaults', () => {
  it('fills paths, timeouts, retries, the atomic mode and the flags when nothing is given', () => {
    expect(resolveConfig()).toMatchObject({
      projectDir: '.',
      migrationsDir: 'supabase/migrations',
      rollbacksDir: 'supabase/rollbacks',
      dbUrl: undefined,
      lockWaitMs: 300_000,
      lockTimeoutMs: 5_000,
      statementTimeoutMs: 1_800_000,
      lockRetries: 3,
      atomic: 'per-migration',
      includeAll: false,
      strictHistory: false,
      allowEdited: false,
      shadowDisposable: false,
      actor: undefined,
      runId: undefined,
    });
  });

  it('treats empty strings (unset Action inputs) as not given', () => {
    const config = resolveConfig({
      migrationsDir: '',
      dbUrl: '',
      lockTimeoutMs: '',
      lockRetries: '',
      atomic: '',
      includeAll: '',
      actor: '',
    });
    expect(config).toMatchObject({
      migrationsDir: 'supabase/migrations',
      dbUrl: undefined,
      lockTimeoutMs: 5_000,
      lockRetries: 3,
      atomic: 'per-migration',
      includeAll: false,
      actor: undefined,
    });
  });

  it('keeps the given paths and identities', () => {
    const config = resolveConfig({
      projectDir: '/srv/app',
      migrationsDir: 'db/migrations',
      rollbacksDir: 'db/down',
      dbUrl: 'postgresql://postgres:secret@db:5432/postgres',
      actor: 'octocat',
      runId: '12345',
    });
    expect(config).toMatchObject({
      projectDir: '/srv/app',
      migrationsDir: 'db/migrations',
      rollbacksDir: 'db/down',
      dbUrl: 'postgresql://postgres:secret@db:5432/postgres',
      actor: 'octocat',
      runId: '12345',
    });
  });
});

describe('resolveConfig: durations', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['10sec', 10_000],
    ['2min', 120_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1500', 1_500],
    ['1.5s', 1_500],
    [' 3 s ', 3_000],
    ['5S', 5_000],
    ['0', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(resolveConfig({ lockTimeoutMs: text }).lockTimeoutMs).toBe(ms);
    expect(resolveConfig({ statementTimeoutMs: text }).statementTimeoutMs).toBe(ms);
    expect(resolveConfig({ lockWaitMs: text }).lockWaitMs).toBe(ms);
  });

  it('takes numbers as milliseconds', () => {
    expect(resolveConfig({ lockTimeoutMs: 250 }).lockTimeoutMs).toBe(250);
    expect(resolveConfig({ statementTimeoutMs: 0 }).statementTimeoutMs).toBe(0);
    expect(resolveConfig({ lockWaitMs: 1500.4 }).lockWaitMs).toBe(1500);
  });

  it.each([
    ['lockTimeoutMs', 'lock-timeout'],
    ['statementTimeoutMs', 'statement-timeout'],
    ['lockWaitMs', 'lock-wait'],
  ] as const)('rejects invalid values of %s naming the setting %s', (key, setting) => {
    for (const value of ['5 minutes', 'abc', '1d', '-1s', '5s5', '1e3', 'ms', -5, Number.NaN, Infinity]) {
      const error = configError({ [key]: value });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(setting);
      expect(error.message).toContain(String(value));
      expect(error.hint).toMatch(/500ms/);
      expect(error.details).toEqual({ setting });
    }
  });
});

describe('resolveConfig: lock retries', () => {
  it.each([
    ['0', 0],
    ['5', 5],
    [' 7 ', 7],
    [100, 100],
    [2, 2],
  ])('reads %j as %d', (value, expected) => {
    expect(resolveConfig({ lockRetries: value }).lockRetries).toBe(expected);
  });

  it.each(['-1', '101', '2.5', 'three', ' ', '1e1', '0x10', -1, 1.5, 101])('rejects %j', (value) => {
    const error = configError({ lockRetries: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('lock-retries');
    expect(error.hint).toMatch(/0 to 100/);
  });
});

describe('resolveConfig: dataCheckSampleAboveRows', () => {
  it('samples tables above 10,000,000 estimated rows unless told otherwise', () => {
    expect(resolveConfig().dataCheckSampleAboveRows).toBe(10_000_000);
    expect(resolveConfig({ dataCheckSampleAboveRows: '' }).dataCheckSampleAboveRows).toBe(10_000_000);
    expect(resolveConfig({ dataCheckSampleAboveRows: ' 250000 ' }).dataCheckSampleAboveRows).toBe(250_000);
  });

  it.each(['lots', '1e6', '-5', '2.5', '0', '999'])('rejects %j, naming the setting', (value) => {
    const error = configError({ dataCheckSampleAboveRows: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('data-check-sample-above-rows');
  });
});

describe('resolveConfig: dataCheckKeyValues', () => {
  it('shows no row content unless told, and at most 20 keys', () => {
    expect(resolveConfig().dataCheckKeyValues).toBe(0);
    expect(resolveConfig({ dataCheckKeyValues: '' }).dataCheckKeyValues).toBe(0);
    expect(resolveConfig({ dataCheckKeyValues: '5' }).dataCheckKeyValues).toBe(5);
    expect(resolveConfig({ dataCheckKeyValues: 20 }).dataCheckKeyValues).toBe(20);
  });

  it.each(['21', 'some', '-1', '2.5'])('rejects %j, naming the setting', (value) => {
    const error = configError({ dataCheckKeyValues: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('data-check-key-values');
  });
});

describe('resolveConfig: atomic', () => {
  it('accepts per-migration and all', () => {
    expect(resolveConfig({ atomic: 'per-migration' }).atomic).toBe('per-migration');
    expect(resolveConfig({ atomic: 'all' }).atomic).toBe('all');
  });

  it.each(['yes', 'true', 'ALL', 'per_migration', 'none'])('rejects %j naming the setting', (value) => {
    const error = configError({ atomic: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('atomic');
    expect(error.message).toContain(value);
    expect(error.hint).toMatch(/per-migration/);
  });
});

describe('resolveConfig: flags', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    [' true ', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['Off', false],
    [true, true],
    [false, false],
  ])('reads %j as %s', (value, expected) => {
    expect(resolveConfig({ includeAll: value }).includeAll).toBe(expected);
    expect(resolveConfig({ strictHistory: value }).strictHistory).toBe(expected);
    expect(resolveConfig({ allowEdited: value }).allowEdited).toBe(expected);
    expect(resolveConfig({ shadowDisposable: value }).shadowDisposable).toBe(expected);
    expect(resolveConfig({ shadowCache: value }).shadowCache).toBe(expected);
  });

  it.each([
    ['includeAll', 'include-all'],
    ['strictHistory', 'strict-history'],
    ['allowEdited', 'allow-edited'],
    ['shadowDisposable', 'shadow-disposable'],
    ['shadowCache', 'shadow-cache'],
  ] as const)('rejects an invalid %s naming the setting %s', (key, setting) => {
    for (const value of ['maybe', 'y', '2', 'enabled']) {
      const error = configError({ [key]: value });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(setting);
      expect(error.hint).toMatch(/true or false/);
    }
  });
});

describe('acceptedHazards', () => {
  it('keeps each code as findings spell it, whether written with - or _', () => {
    const config = resolveConfig({
      acceptedHazards: [
        { code: 'rls-disabled-in-public', reason: 'a' },
        { code: 'DROP_COLUMN', reason: 'b', object: 'public.t.c' },
      ],
    });
    expect(config.acceptedHazards).toEqual([
      { code: 'rls_disabled_in_public', reason: 'a' },
      { code: 'drop-column', reason: 'b', object: 'public.t.c' },
    ]);
  });

  it('refuses a code that names no finding, suggesting the nearest', () => {
    const error = configError({ acceptedHazards: [{ code: 'dataloss', reason: 'typo' }] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"dataloss"');
    expect(error.hint).toContain('data-loss');
  });
});

describe('findProjectDir', () => {
  it('walks up to the first folder with supabase/config.toml or supabase/migrations, as the Supabase CLI does', async () => {
    const root = await mkdtemp(join(tmpdir(), 'supagate-find-'));
    try {
      await mkdir(join(root, 'app', 'supabase', 'migrations'), { recursive: true });
      await mkdir(join(root, 'app', 'src', 'deep'), { recursive: true });
      await mkdir(join(root, 'other', 'supabase'), { recursive: true });
      await writeFile(join(root, 'other', 'supabase', 'config.toml'), '');
      await mkdir(join(root, 'other', 'x'), { recursive: true });
      expect(findProjectDir(join(root, 'app', 'src', 'deep'))).toBe(join(root, 'app'));
      expect(findProjectDir(join(root, 'app'))).toBe(join(root, 'app'));
      expect(findProjectDir(join(root, 'other', 'x'))).toBe(join(root, 'other'));
      // None found: where it started.
      expect(findProjectDir(root)).toBe(root);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
