import type { SupagateConfig } from '../config.js';
import type { ErrorCode } from '../errors.js';
import { compareVersions } from './files.js';
import { type AppliedRow, type AuditRecord, type History, textDigest } from './history.js';
import type { FileWarning, Migration } from './model.js';

export type MigrationState =
  /** In history and the file matches what was applied (or cannot be compared). */
  | 'applied'
  /** In history, but the file changed since it was applied. */
  | 'edited'
  /** Not in history: will be applied. */
  | 'pending'
  /** Not in history and older than the newest applied version. */
  | 'out-of-order'
  /** In history with no local file (another app's, or a deleted file). */
  | 'missing-local';

export interface MigrationStatusEntry {
  version: string;
  name: string;
  state: MigrationState;
  /** Local file, when there is one. */
  path?: string;
  checksum?: string;
  hasRollback: boolean;
  /** Set when supagate applied it. */
  applied?: Pick<AuditRecord, 'appliedAt' | 'appliedBy' | 'runId' | 'backupId' | 'durationMs'>;
}

export interface Problem {
  severity: 'error' | 'warning';
  code: ErrorCode | 'FILE_SKIPPED' | 'MIGRATION_EMPTY';
  message: string;
  hint?: string;
  path?: string;
  version?: string;
}

export interface MigrationStatus {
  /** Every version known locally or remotely, in numeric order. */
  entries: MigrationStatusEntry[];
  /** What apply would run, in order. */
  pending: Migration[];
  problems: Problem[];
  /** True when no problem is an error: apply may proceed. */
  ok: boolean;
}

type StatusOptions = Pick<SupagateConfig, 'includeAll' | 'strictHistory' | 'allowEdited' | 'migrationsDir'>;

/** Compares local migration files with the database's history. Pure: no I/O. */
export function computeStatus(
  migrations: Migration[],
  history: History,
  fileWarnings: FileWarning[],
  options: StatusOptions,
): MigrationStatus {
  const problems: Problem[] = fileWarnings.map((warning) => ({
    severity: 'warning',
    code: 'FILE_SKIPPED',
    message: `${warning.path}: ${warning.message}`,
    path: warning.path,
  }));
  const applied = new Map(history.rows.map((row) => [row.version, row]));
  const local = new Map(migrations.map((migration) => [migration.version, migration]));
  const newestApplied = history.rows.reduce<string | undefined>(
    (newest, row) =>
      isNumeric(row.version) && (!newest || compareVersions(row.version, newest) > 0) ? row.version : newest,
    undefined,
  );

  const entries: MigrationStatusEntry[] = [];
  const pending: Migration[] = [];
  for (const migration of migrations) {
    const row = applied.get(migration.version);
    const base = {
      version: migration.version,
      name: migration.name,
      path: migration.path,
      checksum: migration.checksum,
      hasRollback: migration.rollback !== undefined,
    };
    if (row) {
      const audit = history.audit.get(migration.version);
      const edited = isEdited(migration, row, audit);
      entries.push({
        ...base,
        state: edited ? 'edited' : 'applied',
        ...(audit ? { applied: appliedInfo(audit) } : {}),
      });
      if (migration.invalid) {
        problems.push({
          severity: 'warning',
          code: migration.invalid.code,
          message: `${migration.invalid.message} (already applied: pending migrations are not affected)`,
          ...(migration.invalid.hint ? { hint: migration.invalid.hint } : {}),
          path: migration.path,
          version: migration.version,
        });
      }
      if (edited) {
        problems.push({
          severity: options.allowEdited ? 'warning' : 'error',
          code: 'HISTORY_EDITED',
          message: `${migration.path} was changed after it was applied (version ${migration.version})`,
          hint: 'Applied migrations are history: revert the edit and put the change in a new migration. --allow-edited accepts the edit.',
          path: migration.path,
          version: migration.version,
        });
      }
      continue;
    }
    const outOfOrder = newestApplied !== undefined && compareVersions(migration.version, newestApplied) < 0;
    entries.push({ ...base, state: outOfOrder ? 'out-of-order' : 'pending' });
    pending.push(migration);
    if (outOfOrder) {
      problems.push({
        severity: options.includeAll ? 'warning' : 'error',
        code: 'HISTORY_OUT_OF_ORDER',
        message: `${migration.path} is pending but older than the newest applied version ${newestApplied}`,
        hint: options.includeAll
          ? 'It will be applied before the newer pending migrations (--include-all).'
          : 'It was probably merged after a newer migration was applied. Rename it to a newer version, or pass --include-all to apply it anyway.',
        path: migration.path,
        version: migration.version,
      });
    }
    problems.push(...pendingFileProblems(migration));
  }

  // Digested only when a history row has no file to match it.
  let pendingByText: Map<string, Migration> | undefined;
  for (const row of history.rows) {
    if (local.has(row.version)) continue;
    entries.push({ version: row.version, name: row.name, state: 'missing-local', hasRollback: false });
    pendingByText ??= textsOf(pending);
    const same = row.textDigest ? pendingByText.get(row.textDigest) : undefined;
    if (same) {
      problems.push(appliedAsOtherVersion(row, same));
      continue;
    }
    problems.push({
      severity: options.strictHistory ? 'error' : 'warning',
      code: 'HISTORY_MISSING_LOCAL',
      message: `Version ${row.version}${row.name ? ` (${row.name})` : ''} is applied to the database but has no file in ${options.migrationsDir}`,
      hint: options.strictHistory
        ? 'Restore the file, or remove the version from history with `supabase migration repair --status reverted`.'
        : 'Fine when several apps migrate one database; --strict-history makes this an error.',
      version: row.version,
    });
  }

  entries.sort((a, b) => compareKnownVersions(a.version, b.version));
  return { entries, pending, problems, ok: problems.every((problem) => problem.severity !== 'error') };
}

/** Pending migrations with statements, by the digest their text would have in history. */
function textsOf(pending: Migration[]): Map<string, Migration> {
  return new Map(
    pending
      .filter((m) => m.statements.length > 0)
      .map((migration) => [textDigest([migration.sql]), migration]),
  );
}

/**
 * A version applied to the database, with no file, whose stored statements are exactly a
 * pending file's: the file was applied under another version (from the dashboard, by an AI
 * agent or MCP tool, or before a rebase renamed it). Applying the file would run it twice.
 */
function appliedAsOtherVersion(row: AppliedRow, file: Migration): Problem {
  return {
    severity: 'error',
    code: 'HISTORY_APPLIED_AS_OTHER_VERSION',
    message: `${file.path} is pending, but its statements were already applied as version ${row.version}${row.name ? ` (${row.name})` : ''}, which has no file: applying it would run them twice`,
    hint: `Rename ${file.path} to version ${row.version} (${row.version}_${file.name}.sql), or record it under its own version: supabase migration repair --status applied ${file.version}, then supabase migration repair --status reverted ${row.version}.`,
    path: file.path,
    version: file.version,
  };
}

/** A pending file that cannot run blocks; an empty one is recorded as applied, as the Supabase CLI does. */
function pendingFileProblems(migration: Migration): Problem[] {
  const where = { path: migration.path, version: migration.version };
  if (migration.invalid) {
    const { code, message, hint } = migration.invalid;
    return [{ severity: 'error', code, message, ...(hint ? { hint } : {}), ...where }];
  }
  if (migration.statements.length > 0) return [];
  return [
    {
      severity: 'warning',
      code: 'MIGRATION_EMPTY',
      message: `${migration.path} has no SQL statements; it will be recorded as applied, as the Supabase CLI does`,
      hint: 'Write the migration, or delete the file if it was created by mistake.',
      ...where,
    },
  ];
}

function appliedInfo(audit: AuditRecord): MigrationStatusEntry['applied'] {
  return {
    appliedAt: audit.appliedAt,
    appliedBy: audit.appliedBy,
    runId: audit.runId,
    backupId: audit.backupId,
    durationMs: audit.durationMs,
  };
}

/**
 * supagate's audit checksum decides when there is one. For rows the Supabase CLI wrote, the
 * file's text is compared with its stored statements ignoring white space and semicolons (the
 * CLI's splitter and ours may differ in where a piece starts; history.ts textDigest). No
 * statements: unknown, treated as unchanged.
 */
export function isEdited(migration: Migration, row: AppliedRow, audit: AuditRecord | undefined): boolean {
  if (audit && audit.outcome === 'applied') return audit.checksum !== migration.checksum;
  if (row.textDigest === null) return false;
  return row.textDigest !== textDigest([migration.sql]);
}

function isNumeric(version: string): boolean {
  return /^[0-9]+$/.test(version);
}

function compareKnownVersions(a: string, b: string): number {
  if (isNumeric(a) && isNumeric(b)) return compareVersions(a, b);
  return a.localeCompare(b);
}
