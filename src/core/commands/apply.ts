import { openBackupStore } from '../backup/open-store.js';
import type { SupagateConfig } from '../config.js';
import { type Client, type Connection, connect, disconnect } from '../db/connect.js';
import { acquireMigrationLock } from '../db/lock.js';
import type { DatabaseTarget } from '../db/redact.js';
import { registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import {
  type AppliedMigration,
  applyMigration,
  type ExecutionSettings,
  type ExecutionUnit,
  MigrationFailedError,
  type MigrationFailure,
  type RecordContext,
  runBatch,
  type TransactionMode,
  transactionModeOf,
} from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';
import type { MigrationStatus, Problem } from '../migrations/pending.js';
import { discover, loadStatus, refusal, requireDbUrl, withReadOnlyConnection } from './load.js';
import { type BackupOutcome, backupBeforeChange, backupOutcome, newestApplied } from './safety.js';

/** What the before/after steps (backup, verification) see. */
export interface ApplyContext {
  client: Client;
  target: DatabaseTarget;
  config: SupagateConfig;
  pending: Migration[];
  status: MigrationStatus;
}

/**
 * Steps around the migrations, run while the advisory lock is held. beforeApply runs after
 * the pending set is final and the backup is taken, before anything changes: an error thrown
 * there stops the apply with nothing changed. afterApply runs once every migration is applied.
 */
export interface ApplyHooks {
  beforeApply?(context: ApplyContext): Promise<void>;
  afterApply?(context: ApplyContext, result: ApplyResult): Promise<void>;
}

export interface PlannedStatement {
  index: number;
  line: number;
  sql: string;
  /** Why it runs outside a transaction, when it does. */
  nonTransactional?: string;
}

export interface PlannedMigration {
  version: string;
  name: string;
  path: string;
  mode: TransactionMode;
  /** The file's own BEGIN/COMMIT were removed. */
  strippedTransactionWrapper: boolean;
  statements: PlannedStatement[];
}

export type ApplyStatus = 'applied' | 'up-to-date' | 'failed' | 'dry-run';

export interface ApplyResult {
  command: 'apply';
  status: ApplyStatus;
  target: string;
  atomic: SupagateConfig['atomic'];
  /** What runs (dry run) or ran, in order. */
  plan: PlannedMigration[];
  applied: AppliedMigration[];
  /** Pending versions that were not applied because an earlier one failed. */
  notApplied: string[];
  failure?: MigrationFailure;
  problems: Problem[];
  backup: BackupOutcome;
  lockWaitMs: number;
  durationMs: number;
  /** PostgREST was told to reload its schema cache. */
  notifiedPostgrest: boolean;
}

export interface ApplyOptions {
  dryRun?: boolean;
  hooks?: ApplyHooks;
  /** First back-off after a lock timeout (tests shorten it). */
  retryDelayMs?: number;
}

export async function apply(config: SupagateConfig, options: ApplyOptions = {}): Promise<ApplyResult> {
  const url = requireDbUrl(config);
  registerSecret(config.backupKey);
  const started = performance.now();
  const discovered = await discover(config);
  // Fail on a store that cannot work before taking the lock, not half-way.
  const store = config.backup === 'on' ? openBackupStore(config) : undefined;

  if (options.dryRun) {
    return withReadOnlyConnection(url, async (connection) => {
      const { status } = await loadStatus(connection, discovered, config);
      if (!status.ok) throw refusal(status.problems);
      if (config.atomic === 'all') assertBatchable(status.pending);
      const backup: BackupOutcome = !store
        ? { status: 'off' }
        : status.pending.length === 0
          ? { status: 'not-needed' }
          : { status: 'planned', store: store.kind, encrypted: config.backupKey !== undefined };
      return result('dry-run', connection, config, status, started, { lockWaitMs: 0, backup });
    });
  }

  let connection: Connection | undefined;
  let release: (() => Promise<void>) | undefined;
  try {
    connection = await connect(url, { applicationName: 'supagate apply' });
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    release = lock.release;
    // Read history only once the lock is held: a run that waited sees what the other applied.
    const { status } = await loadStatus(connection, discovered, config);
    if (!status.ok) throw refusal(status.problems);
    if (status.pending.length === 0) {
      return result('up-to-date', connection, config, status, started, {
        lockWaitMs: lock.waitedMs,
        backup: store ? { status: 'not-needed' } : { status: 'off' },
      });
    }
    if (config.atomic === 'all') assertBatchable(status.pending);

    const context: ApplyContext = {
      client: connection.client,
      target: connection.target,
      config,
      pending: status.pending,
      status,
    };
    // Backup first: when it fails or cannot be verified, this throws and nothing is applied.
    const manifest = store ? await backupBeforeChange(config, url, store, newestApplied(status)) : undefined;
    await options.hooks?.beforeApply?.(context);
    const record: RecordContext = {
      actor: config.actor ?? null,
      runId: config.runId ?? null,
      backupId: manifest?.id ?? null,
    };
    const settings: ExecutionSettings = {
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      lockRetries: config.lockRetries,
      retryDelayMs: options.retryDelayMs ?? 1_000,
    };

    const applied: AppliedMigration[] = [];
    let failure: MigrationFailure | undefined;
    try {
      if (config.atomic === 'all') {
        applied.push(...(await runBatch(connection.client, status.pending, settings, record)));
      } else {
        for (const migration of status.pending) {
          applied.push(await applyMigration(connection.client, migration, settings, record));
        }
      }
    } catch (error) {
      if (!(error instanceof MigrationFailedError)) throw error;
      failure = error.failure;
    }

    const notifiedPostgrest = applied.length > 0 || (failure?.committedStatements ?? 0) > 0;
    if (notifiedPostgrest) await connection.client.query(`NOTIFY pgrst, 'reload schema'`);

    const outcome = result(failure ? 'failed' : 'applied', connection, config, status, started, {
      lockWaitMs: lock.waitedMs,
      applied,
      notifiedPostgrest,
      ...(failure ? { failure } : {}),
      backup: manifest ? backupOutcome(manifest) : { status: 'off' },
    });
    if (!failure) await options.hooks?.afterApply?.(context, outcome);
    return outcome;
  } finally {
    await release?.();
    await disconnect(connection);
  }
}

function assertBatchable(pending: Migration[]): void {
  const migration = pending.find((m) => !m.transactional);
  const statement = migration?.statements.find((s) => s.nonTransactional);
  if (!migration || !statement) return;
  throw new SupagateError(
    'ATOMIC_ALL_REFUSED',
    `--atomic all is impossible: ${migration.path}:${statement.line}:${statement.column} is ${statement.nonTransactional}, which PostgreSQL cannot run inside a transaction`,
    {
      hint: 'Apply with --atomic per-migration (the default), or move that statement to a later deployment.',
      details: { file: migration.path, line: statement.line, statement: statement.sql },
    },
  );
}

/** What runs for a migration (or a down file), statement by statement. */
export function planOf(
  migration: ExecutionUnit & { strippedTransactionWrapper?: boolean },
  mode: TransactionMode = transactionModeOf(migration),
): PlannedMigration {
  return {
    version: migration.version,
    name: migration.name,
    path: migration.path,
    mode,
    strippedTransactionWrapper: migration.strippedTransactionWrapper ?? false,
    statements: migration.statements.map((statement) => ({
      index: statement.index,
      line: statement.line,
      sql: statement.sql,
      ...(statement.nonTransactional ? { nonTransactional: statement.nonTransactional } : {}),
    })),
  };
}

function result(
  status: ApplyStatus,
  connection: Connection,
  config: SupagateConfig,
  migrationStatus: MigrationStatus,
  started: number,
  extra: Partial<ApplyResult> & { lockWaitMs: number; backup: BackupOutcome },
): ApplyResult {
  const applied = extra.applied ?? [];
  const appliedVersions = new Set(applied.map((migration) => migration.version));
  return {
    command: 'apply',
    status,
    target: connection.target.label,
    atomic: config.atomic,
    plan: migrationStatus.pending.map((migration) =>
      planOf(migration, config.atomic === 'all' ? 'batch' : transactionModeOf(migration)),
    ),
    applied,
    notApplied:
      status === 'failed'
        ? migrationStatus.pending.map((m) => m.version).filter((version) => !appliedVersions.has(version))
        : [],
    problems: migrationStatus.problems,
    notifiedPostgrest: false,
    ...extra,
    durationMs: Math.round(performance.now() - started),
  };
}
