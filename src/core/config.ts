import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeTarget, registerSecret } from './db/redact.js';
import { assertDatabaseUrl } from './db/url-check.js';
import { SupagateError } from './errors.js';
import { canonicalFindingCode, nearFindingCodes } from './schema/findings/codes.js';

export type AtomicMode = 'per-migration' | 'all';

/** A finding (hazard or lint) accepted in configuration: by code or category, optionally for one migration or object. */
export interface AcceptedHazard {
  /** A hazard code (`drop-column`), lint code (`rls_disabled_in_public`) or category (`data-loss`). */
  code: string;
  version?: string;
  object?: string;
  reason: string;
}

/** The one typed options object every command reads. Built by `resolveConfig`. */
export interface SupagateConfig {
  /** Project root; every other path is relative to it. */
  projectDir: string;
  migrationsDir: string;
  /** Down migrations: `<rollbacksDir>/<version>_<name>.sql`, paired with the up migration by version. */
  rollbacksDir: string;
  /** Target database. Never printed. */
  dbUrl: string | undefined;
  /** How long apply waits for another run's advisory lock. */
  lockWaitMs: number;
  /** `lock_timeout` for migration statements: fail fast rather than queue behind long transactions. */
  lockTimeoutMs: number;
  /** `statement_timeout` for migration statements. 0 disables it. */
  statementTimeoutMs: number;
  /** A backup that makes no progress this long (pg_dump writes nothing, a count waits on a lock) is stopped. 0: never. */
  stallTimeoutMs: number;
  /** Retries of a migration whose statement hit lock_timeout. */
  lockRetries: number;
  atomic: AtomicMode;
  /** Apply pending migrations older than the newest applied one. */
  includeAll: boolean;
  /** rollback --backup: discard rows written after the backup (kept in the safety backup) instead of refusing. */
  discardWritesSinceBackup: boolean;
  /** Applied versions with no local file are an error instead of a warning. */
  strictHistory: boolean;
  /** Applied migrations whose file changed are a warning instead of an error. */
  allowEdited: boolean;
  /** Who applies (audit log): GitHub actor, or the OS user. */
  actor: string | undefined;
  /** Which run applies (audit log): GitHub run id, CI job id… */
  runId: string | undefined;
  /** Server for the plan's shadow database (never production). Unset: local `supabase start`, else embedded. */
  shadowUrl: string | undefined;
  /**
   * The shadowUrl server exists only for supagate (a CI service container), one run at a time:
   * supagate may drop and recreate its databases (the shadow takes the name of its pg_cron
   * database, `cron.database_name`, so that pg_cron can be created in it).
   */
  shadowDisposable: boolean;
  /** Use `supabase start`'s database (127.0.0.1:54322) as shadow server when it is running. */
  detectLocalSupabase: boolean;
  /**
   * Keep production's schema as restored into the embedded shadow, and start the next plan of
   * the same production schema from it instead of restoring it again (shadow/baseline.ts).
   */
  shadowCache: boolean;
  /** Where supagate keeps what it caches; default $XDG_CACHE_HOME/supagate or ~/.cache/supagate. */
  cacheDir: string | undefined;
  /** Explicit pg_dump / pg_restore; otherwise found on PATH and in the usual install folders. */
  pgDumpPath: string | undefined;
  pgRestorePath: string | undefined;
  /**
   * The user schemas supagate plans, compares and verifies; undefined: every schema Supabase
   * does not manage. For a database several apps share: name this app's schemas.
   */
  schemas: string[] | undefined;
  /** Schemas PostgREST exposes: lints about the API look at these. */
  apiSchemas: string[];
  /** Roles shown in the RLS access matrix besides anon, authenticated and service_role. */
  extraRoles: string[];
  /** Tables with at least this many rows (production's estimate) make blocking builds and scans hazards. */
  largeTableRows: number;
  /** Hazards accepted by configuration (migrations accept theirs with `-- supagate:allow`). */
  acceptedHazards: AcceptedHazard[];
  /**
   * Count, on production (read-only), the rows that would make a pending statement fail: NULLs
   * under SET NOT NULL, duplicates under a unique index, orphans under a foreign key.
   */
  dataChecks: 'on' | 'off';
  /** Each data check's count gives up after this long and is reported as not decided. */
  dataCheckTimeoutMs: number;
  /**
   * Tables with more rows than this (production's estimate) are sampled rather than counted in
   * full: rows found on the sample block, a clean sample is a warning, not a pass.
   */
  dataCheckSampleAboveRows: number;
  /**
   * Primary key values of up to this many rows in the way, shown with each failing data check
   * (0, the default: counts only, no row content at all). At most 20.
   */
  dataCheckKeyValues: number;
  /**
   * With declared schema files (supabase/schemas, or config.toml's schema_paths): build them on
   * a fresh Supabase shadow and compare with what the migrations produce (`check`), or not.
   */
  declaredSchema: 'check' | 'off';
  /** Prove what apply did: plan on a shadow first, then counts, RLS, probes and schema checked after. */
  verify: 'on' | 'off';
  /** When verification fails: report (keep the backup, print the rollback command) or roll back with the down files. */
  onVerifyFailure: 'report' | 'rollback';
  /** Backup before apply. 'off' must be asked for, and every report says it was. */
  backup: 'on' | 'off';
  /** Where backups go: a directory, or a private Supabase Storage bucket. */
  /** github-artifact: only where the Action provides the store. */
  backupStore: 'directory' | 'supabase-storage' | 'github-artifact';
  /** Directory store: relative to the project unless absolute. */
  backupDir: string;
  /** Secret for AES-256-GCM encryption of backups (hex, base64 or a passphrase). Never printed. */
  backupKey: string | undefined;
  /** `data`: user schemas with their rows (default); `schema`: definitions only. */
  backupScope: 'data' | 'schema';
  /** Supabase Storage store: project URL, service_role key (never printed) and private bucket. */
  supabaseUrl: string | undefined;
  supabaseServiceKey: string | undefined;
  backupBucket: string;
}

export const DEFAULTS: Omit<
  SupagateConfig,
  | 'dbUrl'
  | 'actor'
  | 'runId'
  | 'shadowUrl'
  | 'cacheDir'
  | 'pgDumpPath'
  | 'pgRestorePath'
  | 'backupKey'
  | 'supabaseUrl'
  | 'supabaseServiceKey'
> = {
  projectDir: '.',
  migrationsDir: 'supabase/migrations',
  rollbacksDir: 'supabase/rollbacks',
  lockWaitMs: 5 * 60_000,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 30 * 60_000,
  stallTimeoutMs: 5 * 60_000,
  lockRetries: 3,
  atomic: 'per-migration',
  includeAll: false,
  discardWritesSinceBackup: false,
  strictHistory: false,
  allowEdited: false,
  shadowDisposable: false,
  detectLocalSupabase: true,
  shadowCache: true,
  schemas: undefined,
  apiSchemas: ['public', 'graphql_public'],
  extraRoles: [],
  largeTableRows: 100_000,
  acceptedHazards: [],
  dataChecks: 'on',
  dataCheckTimeoutMs: 10_000,
  dataCheckSampleAboveRows: 10_000_000,
  dataCheckKeyValues: 0,
  declaredSchema: 'check',
  verify: 'on',
  onVerifyFailure: 'report',
  backup: 'on',
  backupStore: 'directory',
  backupDir: '.supagate/backups',
  backupScope: 'data',
  backupBucket: 'supagate-backups',
};

/** Raw values as they come from flags, Action inputs or environment: strings or already typed. */
export type ConfigInput = {
  [K in keyof SupagateConfig]?: SupagateConfig[K] | string | undefined;
};

const optionalString = (value: unknown) => (value === undefined ? undefined : String(value));

export function resolveConfig(input: ConfigInput = {}): SupagateConfig {
  const config = buildConfig(input);
  // Known before anything connects, so every report and message can redact them.
  for (const url of [config.dbUrl, config.shadowUrl]) if (url) describeTarget(url);
  if (config.dbUrl) assertDatabaseUrl('db-url', config.dbUrl);
  if (config.shadowUrl) assertDatabaseUrl('shadow-url', config.shadowUrl);
  registerSecret(config.backupKey);
  registerSecret(config.supabaseServiceKey);
  return config;
}

function buildConfig(input: ConfigInput): SupagateConfig {
  const pick = <K extends keyof SupagateConfig>(key: K) =>
    input[key] === undefined || input[key] === '' ? undefined : input[key];
  return {
    projectDir: String(pick('projectDir') ?? DEFAULTS.projectDir),
    migrationsDir: String(pick('migrationsDir') ?? DEFAULTS.migrationsDir),
    rollbacksDir: String(pick('rollbacksDir') ?? DEFAULTS.rollbacksDir),
    dbUrl: optionalString(pick('dbUrl')),
    lockWaitMs: duration('lock-wait', pick('lockWaitMs'), DEFAULTS.lockWaitMs),
    lockTimeoutMs: duration('lock-timeout', pick('lockTimeoutMs'), DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: duration(
      'statement-timeout',
      pick('statementTimeoutMs'),
      DEFAULTS.statementTimeoutMs,
    ),
    stallTimeoutMs: duration('stall-timeout', pick('stallTimeoutMs'), DEFAULTS.stallTimeoutMs),
    lockRetries: count('lock-retries', pick('lockRetries'), DEFAULTS.lockRetries),
    atomic: atomicMode(pick('atomic')),
    includeAll: flag('include-all', pick('includeAll'), DEFAULTS.includeAll),
    discardWritesSinceBackup: flag(
      'discard-writes-since-backup',
      pick('discardWritesSinceBackup'),
      DEFAULTS.discardWritesSinceBackup,
    ),
    strictHistory: flag('strict-history', pick('strictHistory'), DEFAULTS.strictHistory),
    allowEdited: flag('allow-edited', pick('allowEdited'), DEFAULTS.allowEdited),
    actor: optionalString(pick('actor')),
    runId: optionalString(pick('runId')),
    shadowUrl: optionalString(pick('shadowUrl')),
    shadowDisposable: flag('shadow-disposable', pick('shadowDisposable'), DEFAULTS.shadowDisposable),
    detectLocalSupabase: flag(
      'detect-local-supabase',
      pick('detectLocalSupabase'),
      DEFAULTS.detectLocalSupabase,
    ),
    shadowCache: flag('shadow-cache', pick('shadowCache'), DEFAULTS.shadowCache),
    cacheDir: optionalString(pick('cacheDir')),
    pgDumpPath: optionalString(pick('pgDumpPath')),
    pgRestorePath: optionalString(pick('pgRestorePath')),
    schemas: pick('schemas') === undefined ? undefined : list(pick('schemas'), []),
    apiSchemas: list(pick('apiSchemas'), DEFAULTS.apiSchemas),
    extraRoles: list(pick('extraRoles'), DEFAULTS.extraRoles),
    largeTableRows: wholeNumber('large-table-rows', pick('largeTableRows'), DEFAULTS.largeTableRows),
    dataChecks: oneOf('data-checks', pick('dataChecks'), ['on', 'off'] as const, DEFAULTS.dataChecks),
    dataCheckTimeoutMs: duration(
      'data-check-timeout',
      pick('dataCheckTimeoutMs'),
      DEFAULTS.dataCheckTimeoutMs,
    ),
    // A sample of fewer rows than this says nothing: every check would be a clean-sample warning.
    dataCheckSampleAboveRows: atLeast(
      1000,
      'data-check-sample-above-rows',
      wholeNumber(
        'data-check-sample-above-rows',
        pick('dataCheckSampleAboveRows'),
        DEFAULTS.dataCheckSampleAboveRows,
      ),
    ),
    dataCheckKeyValues: atMost(
      20,
      'data-check-key-values',
      wholeNumber('data-check-key-values', pick('dataCheckKeyValues'), DEFAULTS.dataCheckKeyValues),
    ),
    declaredSchema: oneOf(
      'declared-schema',
      pick('declaredSchema'),
      ['check', 'off'] as const,
      DEFAULTS.declaredSchema,
    ),
    verify: oneOf('verify', pick('verify'), ['on', 'off'] as const, DEFAULTS.verify),
    onVerifyFailure: oneOf(
      'on-verify-failure',
      pick('onVerifyFailure'),
      ['report', 'rollback'] as const,
      DEFAULTS.onVerifyFailure,
    ),
    backup: oneOf('backup', pick('backup'), ['on', 'off'] as const, DEFAULTS.backup),
    backupStore: oneOf(
      'backup-store',
      pick('backupStore'),
      ['directory', 'supabase-storage', 'github-artifact'] as const,
      DEFAULTS.backupStore,
    ),
    backupDir: String(pick('backupDir') ?? DEFAULTS.backupDir),
    backupKey: optionalString(pick('backupKey')),
    backupScope: oneOf(
      'backup-scope',
      pick('backupScope'),
      ['data', 'schema'] as const,
      DEFAULTS.backupScope,
    ),
    supabaseUrl: optionalString(pick('supabaseUrl')),
    supabaseServiceKey: optionalString(pick('supabaseServiceKey')),
    backupBucket: String(pick('backupBucket') ?? DEFAULTS.backupBucket),
    acceptedHazards: acceptedFindings(pick('acceptedHazards')),
  };
}

/** Accepted findings given as a value: each code must name a finding, or it would accept nothing. */
function acceptedFindings(value: unknown): AcceptedHazard[] {
  if (!Array.isArray(value)) return [];
  return (value as AcceptedHazard[]).map((entry) => {
    const code = canonicalFindingCode(String(entry.code));
    if (code) return { ...entry, code };
    const nearest = nearFindingCodes(String(entry.code));
    throw new SupagateError('CONFIG_INVALID', `Unknown code in accepted hazards: "${String(entry.code)}"`, {
      hint: `Use a hazard code, lint code or category${nearest.length > 0 ? ` (did you mean ${nearest.join(', ')}?)` : ''}.`,
      details: { setting: 'acceptedHazards', code: entry.code },
    });
  });
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `500ms`, `5s`, `2min`, `1h`, or a plain number of milliseconds. */
export function duration(setting: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value);
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(String(value));
  if (!match) throw invalid(setting, value, 'a duration such as 500ms, 5s, 2min or 1h');
  return Math.round(Number(match[1]) * (UNITS[(match[2] ?? 'ms').toLowerCase()] ?? 1));
}

/** `a, b` or an array. */
function list(value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}

function atLeast(min: number, setting: string, value: number): number {
  if (value < min) throw invalid(setting, value, `a whole number of at least ${min.toLocaleString('en-US')}`);
  return value;
}

function atMost(max: number, setting: string, value: number): number {
  if (value > max) throw invalid(setting, value, `a whole number from 0 to ${max}`);
  return value;
}

function wholeNumber(setting: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) throw invalid(setting, value, 'a whole number');
  return Number(text);
}

function count(setting: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  // Digits only: Number() would read ' ' as 0 and accept 1e1 or 0x10.
  const text = String(value).trim();
  const number = typeof value === 'number' ? value : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(number) || number < 0 || number > 100)
    throw invalid(setting, value, 'a whole number from 0 to 100');
  return number;
}

export function flag(setting: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw invalid(setting, value, 'true or false');
}

function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  throw invalid(setting, value, allowed.map((a) => `"${a}"`).join(' or '));
}

function atomicMode(value: unknown): AtomicMode {
  if (value === undefined) return DEFAULTS.atomic;
  if (value === 'per-migration' || value === 'all') return value;
  throw invalid('atomic', value, '"per-migration" (each migration in its own transaction) or "all"');
}

function invalid(setting: string, value: unknown, expected: string): SupagateError {
  return new SupagateError('CONFIG_INVALID', `Invalid value for ${setting}: "${String(value)}"`, {
    hint: `Use ${expected}.`,
    details: { setting },
  });
}

/**
 * Environment variables holding connection strings: the CLI reads URLs from them so that
 * passwords stay out of the process list (`ps`).
 */
export const URL_ENV = {
  db: 'SUPAGATE_DB_URL',
  shadow: 'SUPAGATE_SHADOW_URL',
  copyFrom: 'SUPAGATE_COPY_FROM_URL',
  copyTo: 'SUPAGATE_COPY_TO_URL',
  diffFrom: 'SUPAGATE_DIFF_FROM_URL',
  diffTo: 'SUPAGATE_DIFF_TO_URL',
} as const;

/**
 * The project root as the Supabase CLI finds it: the first folder, from `start` up, holding
 * `supabase/config.toml` or `supabase/migrations`. None: `start` itself (where `supabase init`
 * would put it), and errors then name the missing directory.
 */
export function findProjectDir(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'supabase', 'config.toml')) || existsSync(join(dir, 'supabase', 'migrations')))
      return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}
