import type { Client } from '../db/connect.js';
import { pgErrorFields } from '../db/connect.js';
import { type ErrorCode, SupagateError } from '../errors.js';
import { VERSION } from '../version.js';
import {
  type AuditOutcome,
  ensureHistoryTables,
  historyTablesKnown,
  recordAppliedSql,
  recordRevertedSql,
} from './history.js';
import type { Migration, Statement } from './model.js';
import { type Piece, runScript, type SqlPiece, StatementError } from './script.js';
import { lineColumnAt } from './text.js';

/**
 * How a migration runs:
 * - `transaction`: all its statements and its history row in one transaction.
 * - `non-atomic`: it has statements PostgreSQL refuses inside a transaction; those run on
 *   their own, the others in transactions between them, the history row with the last.
 * - `batch`: `--atomic all`, every pending migration in one transaction.
 */
export type TransactionMode = 'transaction' | 'non-atomic' | 'batch';

export interface ExecutionSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockRetries: number;
  /** First back-off after a lock timeout; doubles on each retry. */
  retryDelayMs: number;
}

/** Who and what the audit log records with each applied migration. */
export interface RecordContext {
  actor: string | null;
  runId: string | null;
  backupId: string | null;
}

export interface AppliedMigration {
  version: string;
  name: string;
  path: string;
  checksum: string;
  mode: TransactionMode;
  statementCount: number;
  durationMs: number;
  /** More than 1 when a lock timeout was retried. */
  attempts: number;
}

export interface MigrationFailure {
  version: string;
  name: string;
  path: string;
  mode: TransactionMode;
  /** 0-based index of the failing statement; absent when recording history or COMMIT failed. */
  statementIndex?: number;
  statement?: string;
  line: number;
  column: number;
  sqlstate?: string;
  message: string;
  detail?: string;
  pgHint?: string;
  /** Statements of this migration that stayed applied. Always 0 unless the migration is non-atomic. */
  committedStatements: number;
  /** Set when the failure is not the statement's own: the connection was lost, the run interrupted. */
  code?: ErrorCode;
  /** What to do, when the failure is not the statement's own. */
  hint?: string;
}

export class MigrationFailedError extends SupagateError {
  readonly failure: MigrationFailure;
  constructor(failure: MigrationFailure) {
    const where = `${failure.path}:${failure.line}:${failure.column}`;
    const statementLabel =
      failure.statementIndex === undefined ? '' : ` (statement ${failure.statementIndex + 1})`;
    super(
      'MIGRATION_FAILED',
      `${where}${statementLabel}: ${failure.message}${failure.sqlstate ? ` [SQLSTATE ${failure.sqlstate}]` : ''}`,
      {
        hint: failureHint(failure),
        details: { ...failure },
      },
    );
    this.failure = failure;
  }
}

function failureHint(failure: MigrationFailure): string {
  if (failure.sqlstate === '55P03') {
    return 'A lock could not be taken within lock_timeout, even after retries: another session holds it. Retry when traffic is lower, or raise --lock-timeout.';
  }
  if (failure.sqlstate === '57014') {
    return 'The statement ran longer than statement_timeout. Raise --statement-timeout, or make the change in smaller steps.';
  }
  if (failure.committedStatements > 0) {
    return (
      `This migration is not atomic: its first ${failure.committedStatements} statement(s) stayed applied and its version is not recorded. ` +
      'Fix the failing statement and make the applied ones re-runnable (IF NOT EXISTS), or undo them by hand, then apply again.'
    );
  }
  return `${failure.pgHint ? `${failure.pgHint} ` : ''}Nothing of this migration was applied. Fix the statement and apply again.`;
}

/**
 * `RESET ALL` (and the role) and supagate's timeouts: before each migration's statements, so
 * that the session it starts from is known, and after them, before the history row, so that
 * what it SET does not leak into the next migration (nor into the next one's lexing: the
 * whole query is lexed before any of it runs).
 */
function resetPieces(settings: ExecutionSettings, local: boolean): SqlPiece[] {
  const scope = local ? 'LOCAL ' : '';
  return [
    'RESET ALL',
    'RESET ROLE',
    `SET ${scope}lock_timeout = ${Math.round(settings.lockTimeoutMs)}`,
    `SET ${scope}statement_timeout = ${Math.round(settings.statementTimeoutMs)}`,
  ].map((sql) => ({ sql }));
}

function statementPieces(statements: Statement[]): SqlPiece[] {
  return statements.map((statement) => ({ sql: statement.sql, statement }));
}

/**
 * A file that changes how SQL is lexed runs statement by statement: sent as one query, its
 * later statements would be lexed before its SET runs.
 */
function lexingSensitive(unit: Pick<ExecutionUnit, 'sql'>): boolean {
  return /standard_conforming_strings|backslash_quote|escape_string_warning/i.test(unit.sql);
}

/** What a unit of SQL is: an up migration, or the down file that reverts one. */
export type ExecutionUnit = Pick<
  Migration,
  'version' | 'name' | 'path' | 'checksum' | 'sql' | 'statements' | 'transactional'
>;

/** The pieces that record a unit's success, in the same transaction as its last statements. */
type Recorder = (client: Client, mode: TransactionMode, started: number) => Piece[];

/**
 * The history tables are checked (and created) in the unit's transaction until the session
 * knows they are complete; then the record goes in the same round trip as the statements.
 */
function recordPieces(client: Client, sql: (durationSql: string) => string, started: number): Piece[] {
  const record: SqlPiece = { sql: () => sql(durationSql(started)) };
  return historyTablesKnown(client) ? [record] : [{ step: ensureHistoryTables }, record];
}

/** Time before the round trip that records, plus the server's time since it received it. */
function durationSql(started: number): string {
  const before = Math.round(performance.now() - started);
  return `(${before} + round(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000))::integer`;
}

function auditOf(unit: ExecutionUnit, record: RecordContext, mode: TransactionMode, outcome: AuditOutcome) {
  return {
    version: unit.version,
    name: unit.name,
    checksum: unit.checksum,
    outcome,
    transactionMode: mode,
    appliedBy: record.actor,
    runId: record.runId,
    backupId: record.backupId,
    toolVersion: VERSION,
  };
}

function appliedRecorder(migration: Migration, record: RecordContext): Recorder {
  return (client, mode, started) =>
    recordPieces(
      client,
      (duration) =>
        recordAppliedSql(
          { version: migration.version, name: migration.name, statements: migration.cliStatements },
          auditOf(migration, record, mode, 'applied'),
          duration,
        ),
      started,
    );
}

/** A down file: its history row goes, and the audit log says it was rolled back. */
function revertedRecorder(down: ExecutionUnit, record: RecordContext): Recorder {
  return (client, mode, started) =>
    recordPieces(
      client,
      (duration) => recordRevertedSql(auditOf(down, record, mode, 'rolled_back'), duration),
      started,
    );
}

export function transactionModeOf(migration: Pick<Migration, 'transactional'>): TransactionMode {
  return migration.transactional ? 'transaction' : 'non-atomic';
}

async function runUnit(
  client: Client,
  unit: ExecutionUnit,
  settings: ExecutionSettings,
  recorder: Recorder,
): Promise<AppliedMigration> {
  const mode = transactionModeOf(unit);
  const started = performance.now();
  const attempts =
    mode === 'transaction'
      ? await withLockRetries(settings, () => runInTransaction(client, unit, settings, recorder, started))
      : await runNonAtomic(client, unit, settings, recorder, started);
  return summary(unit, mode, performance.now() - started, attempts);
}

/** BEGIN, the pieces and COMMIT; on failure, ROLLBACK. */
async function inTransaction(client: Client, pieces: Piece[], oneByOne: boolean): Promise<void> {
  try {
    await runScript(client, [{ sql: 'BEGIN' }, ...pieces, { sql: 'COMMIT' }], oneByOne);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** One round trip in the usual case: resets, statements, history and audit rows, COMMIT. */
async function runInTransaction(
  client: Client,
  unit: ExecutionUnit,
  settings: ExecutionSettings,
  recorder: Recorder,
  started: number,
): Promise<void> {
  await inTransaction(
    client,
    [
      ...resetPieces(settings, false),
      ...statementPieces(unit.statements),
      ...resetPieces(settings, false),
      ...recorder(client, 'transaction', started),
    ],
    lexingSensitive(unit),
  );
}

type Step =
  | { transactional: true; statements: Statement[] }
  | { transactional: false; statements: [Statement] };

function steps(statements: Statement[]): Step[] {
  const result: Step[] = [];
  for (const statement of statements) {
    const last = result[result.length - 1];
    if (statement.nonTransactional) result.push({ transactional: false, statements: [statement] });
    else if (last?.transactional) last.statements.push(statement);
    else result.push({ transactional: true, statements: [statement] });
  }
  return result;
}

/** A CONCURRENTLY statement that fails half-way leaves an invalid index behind: never retried. */
function retryable(step: Step): boolean {
  return step.transactional || !step.statements[0].nonTransactional?.includes('CONCURRENTLY');
}

async function runNonAtomic(
  client: Client,
  unit: ExecutionUnit,
  settings: ExecutionSettings,
  recorder: Recorder,
  started: number,
): Promise<number> {
  let committed = 0;
  let attempts = 1;
  const plan = steps(unit.statements);
  const oneByOne = lexingSensitive(unit);
  const closing = () => [...resetPieces(settings, false), ...recorder(client, 'non-atomic', started)];
  try {
    await runScript(client, resetPieces(settings, false));
    for (const [index, step] of plan.entries()) {
      const isLast = index === plan.length - 1;
      // A statement PostgreSQL refuses in a transaction also refuses to share its query.
      const run = () =>
        step.transactional
          ? inTransaction(
              client,
              [...statementPieces(step.statements), ...(isLast ? closing() : [])],
              oneByOne,
            )
          : runScript(client, statementPieces(step.statements), true);
      if (retryable(step)) {
        attempts = Math.max(attempts, await withLockRetries(settings, run));
      } else {
        await run();
      }
      committed += step.statements.length;
    }
    if (plan.length === 0 || !plan[plan.length - 1]?.transactional) {
      await inTransaction(client, closing(), false);
    }
  } catch (error) {
    throw asFailure(error, unit, 'non-atomic', committed);
  }
  return attempts;
}

/** `--atomic all`: every migration and its history row in one transaction. The caller checks they all can be. */
export async function runBatch(
  client: Client,
  migrations: Migration[],
  settings: ExecutionSettings,
  record: RecordContext,
): Promise<AppliedMigration[]> {
  const applied: AppliedMigration[] = [];
  let failing: Migration | undefined;
  await withLockRetries(settings, async () => {
    applied.length = 0;
    await client.query('BEGIN');
    try {
      for (const migration of migrations) {
        failing = migration;
        const started = performance.now();
        const pieces = [
          ...resetPieces(settings, true),
          ...statementPieces(migration.statements),
          ...appliedRecorder(migration, record)(client, 'batch', started),
        ];
        await runScript(client, pieces, lexingSensitive(migration));
        applied.push(summary(migration, 'batch', performance.now() - started, 1));
      }
      failing = undefined;
      await runScript(client, [...resetPieces(settings, false), { sql: 'COMMIT' }]);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }).catch((error) => {
    throw asFailure(error, failing ?? (migrations[migrations.length - 1] as Migration), 'batch', 0);
  });
  return applied;
}

function isLockTimeout(error: unknown): boolean {
  const pgError = error instanceof StatementError ? error.pgError : error;
  return (pgError as { code?: string })?.code === '55P03';
}

async function withLockRetries(settings: ExecutionSettings, work: () => Promise<void>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return attempt;
    } catch (error) {
      if (!isLockTimeout(error) || attempt > settings.lockRetries) throw error;
      await new Promise((resolve) => setTimeout(resolve, settings.retryDelayMs * 2 ** (attempt - 1)));
    }
  }
}

function asFailure(
  error: unknown,
  migration: ExecutionUnit,
  mode: TransactionMode,
  committed: number,
): Error {
  if (
    error instanceof MigrationFailedError ||
    (error instanceof SupagateError && !(error instanceof StatementError))
  )
    return error;
  const statement = error instanceof StatementError ? error.statement : undefined;
  const fields = pgErrorFields(error instanceof StatementError ? error.pgError : error);
  const position = error instanceof StatementError ? error.position : undefined;
  const location = statement
    ? lineColumnAt(migration.sql, statement.offset + (position ?? 0))
    : { line: migration.statements[migration.statements.length - 1]?.line ?? 1, column: 1 };
  return new MigrationFailedError({
    version: migration.version,
    name: migration.name,
    path: migration.path,
    mode,
    ...(statement ? { statementIndex: statement.index, statement: statement.sql } : {}),
    line: location.line,
    column: location.column,
    ...(fields.code ? { sqlstate: fields.code } : {}),
    message: statement ? fields.message : `recording the migration failed: ${fields.message}`,
    ...(fields.detail ? { detail: fields.detail } : {}),
    ...(fields.hint ? { pgHint: fields.hint } : {}),
    committedStatements: committed,
  });
}

export function summary(
  migration: ExecutionUnit,
  mode: TransactionMode,
  durationMs: number,
  attempts: number,
): AppliedMigration {
  return {
    version: migration.version,
    name: migration.name,
    path: migration.path,
    checksum: migration.checksum,
    mode,
    statementCount: migration.statements.length,
    durationMs: Math.round(durationMs),
    attempts,
  };
}

/**
 * Applies one migration in its own transaction with its history row (or in steps when it
 * cannot be atomic). Throws MigrationFailedError, located in the file, when it fails.
 */
export async function applyMigration(
  client: Client,
  migration: Migration,
  settings: ExecutionSettings,
  record: RecordContext,
): Promise<AppliedMigration> {
  return runLocated(client, migration, settings, appliedRecorder(migration, record));
}

/**
 * Runs a migration's down file the same way, removing its history row in the same
 * transaction and writing a `rolled_back` audit record.
 */
export async function revertMigration(
  client: Client,
  down: ExecutionUnit,
  settings: ExecutionSettings,
  record: RecordContext,
): Promise<AppliedMigration> {
  return runLocated(client, down, settings, revertedRecorder(down, record));
}

async function runLocated(
  client: Client,
  unit: ExecutionUnit,
  settings: ExecutionSettings,
  recorder: Recorder,
): Promise<AppliedMigration> {
  try {
    return await runUnit(client, unit, settings, recorder);
  } catch (error) {
    throw asFailure(error, unit, transactionModeOf(unit), 0);
  }
}

/**
 * Runs units one after the other until one fails: what ran, and the failure that stopped it.
 * A unit may stand for several migrations (`--atomic all` runs them as one).
 */
export async function runUntilFailure<T>(
  units: T[],
  run: (unit: T) => Promise<AppliedMigration | AppliedMigration[]>,
): Promise<{ done: AppliedMigration[]; failure?: MigrationFailure }> {
  const done: AppliedMigration[] = [];
  for (const unit of units) {
    try {
      done.push(...[await run(unit)].flat());
    } catch (error) {
      if (!(error instanceof MigrationFailedError)) throw error;
      return { done, failure: error.failure };
    }
  }
  return { done };
}
