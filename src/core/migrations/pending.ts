import type { SupagateConfig } from '../config.js';
import type { ErrorCode } from '../errors.js';
import { compareVersions } from './files.js';
import { type AppliedRow, type AuditRecord, type History, textDigest } from './history.js';
import type { FileWarning, Migration } from './model.js';
import { type HistoryMismatch, matchByContent, renamedSince } from './reconcile.js';

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
  /** What matching by content found where the versions alone do not tell (reconcile.ts). */
  mismatch?: HistoryMismatch;
  /** Set when supagate applied it. */
  applied?: Pick<AuditRecord, 'appliedAt' | 'appliedBy' | 'runId' | 'backupId' | 'durationMs'>;
}

/** Codes of problems that are only ever warnings: nothing to refuse with. */
export type WarningCode =
  | 'FILE_SKIPPED'
  | 'MIGRATION_EMPTY'
  | 'HISTORY_NAME_DIFFERS'
  | 'HISTORY_DUPLICATE_CONTENT';

export interface Problem {
  severity: 'error' | 'warning';
  code: ErrorCode | WarningCode;
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
  const pendingEntries = new Map<string, MigrationStatusEntry>();
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
      const renamed = renamedSince(migration, row);
      entries.push({
        ...base,
        state: edited ? 'edited' : 'applied',
        ...(renamed ? { mismatch: renamed } : {}),
        ...(audit ? { applied: appliedInfo(audit) } : {}),
      });
      if (renamed) problems.push(renamedProblem(migration, renamed.historyName));
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
    const entry: MigrationStatusEntry = { ...base, state: outOfOrder ? 'out-of-order' : 'pending' };
    pendingEntries.set(migration.version, entry);
    entries.push(entry);
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

  const matches = matchByContent(history.rows, local, pending);
  for (const row of history.rows) {
    const mismatch = matches.unmatchedRows.get(row.version);
    if (!mismatch) continue;
    entries.push({
      version: row.version,
      name: row.name,
      state: 'missing-local',
      hasRollback: false,
      mismatch,
    });
    if (mismatch.kind === 'applied-as-other-version') {
      const file = local.get(mismatch.file.version) as Migration;
      const entry = pendingEntries.get(file.version);
      if (entry) entry.mismatch = mismatch;
      problems.push(appliedAsOtherVersion(row, file));
    } else problems.push(missingLocal(row, mismatch.statementsStored, options));
  }
  for (const [version, duplicate] of matches.duplicates) {
    const entry = pendingEntries.get(version);
    if (entry) entry.mismatch = duplicate;
    problems.push(duplicateProblem(local.get(version) as Migration, duplicate.appliedVersion));
  }

  entries.sort((a, b) => compareKnownVersions(a.version, b.version));
  return { entries, pending, problems, ok: problems.every((problem) => problem.severity !== 'error') };
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
    hint: `Run supagate repair: it moves version ${row.version} to ${file.version} in history (or: supabase migration repair --status applied ${file.version}, then supabase migration repair --status reverted ${row.version}); or rename ${file.path} to ${row.version}_${file.name}.sql.`,
    path: file.path,
    version: file.version,
  };
}

function missingLocal(row: AppliedRow, statementsStored: boolean, options: StatusOptions): Problem {
  const where = `Version ${row.version}${row.name ? ` (${row.name})` : ''}`;
  const content = statementsStored
    ? 'and its statements match no local file'
    : 'and history stores no statements for it to match a file by';
  return {
    severity: options.strictHistory ? 'error' : 'warning',
    code: 'HISTORY_MISSING_LOCAL',
    message: `${where} is applied to the database but has no file in ${options.migrationsDir}, ${content}`,
    hint: options.strictHistory
      ? 'Restore the file, or remove the version from history: supagate repair --strict-history proposes it (supabase migration repair --status reverted does the same).'
      : 'Fine when several apps migrate one database; --strict-history makes this an error.',
    version: row.version,
  };
}

/** Harmless to apply and to the Supabase CLI, which keys history by version: said so the two can be made to agree. */
function renamedProblem(migration: Migration, historyName: string): Problem {
  return {
    severity: 'warning',
    code: 'HISTORY_NAME_DIFFERS',
    message: `${migration.path} was applied as version ${migration.version} under the name "${historyName}": the file was renamed since`,
    hint: "supagate repair records the file's name in history; nothing else depends on it.",
    path: migration.path,
    version: migration.version,
  };
}

function duplicateProblem(migration: Migration, appliedVersion: string): Problem {
  return {
    severity: 'warning',
    code: 'HISTORY_DUPLICATE_CONTENT',
    message: `${migration.path} is pending with exactly the statements of applied version ${appliedVersion}: applying it runs them a second time`,
    hint: 'Usually a copied file: delete it. If running the statements again is intended, change nothing.',
    path: migration.path,
    version: migration.version,
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
