import { openBackupStore } from '../backup/open-store.js';
import { assertKeyForStore, type BackupStore } from '../backup/stores.js';
import type { SupagateConfig } from '../config.js';
import { type Client, type Connection, connect, disconnect } from '../db/connect.js';
import { acquireMigrationLock, holdsMigrationLock } from '../db/lock.js';
import type { DatabaseTarget } from '../db/redact.js';
import { registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { throwIfInterrupted } from '../interrupt.js';
import {
  type AppliedMigration,
  applyMigration,
  type ExecutionSettings,
  type MigrationFailure,
  type RecordContext,
  revertMigration,
  runBatch,
  runUntilFailure,
  transactionModeOf,
} from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';
import type { MigrationStatus, Problem } from '../migrations/pending.js';
import { emitProgress, phase } from '../progress.js';
import { backendPid, stopApplyOnInterrupt } from './apply-interrupt.js';
import { planForApply } from './gate.js';
import { discover, loadStatus, refusal, requireDbUrl, withReadOnlyConnection } from './load.js';
import {
  afterLostConnection,
  lostConnection,
  lostOutsideMigrations,
  notifyPostgrest,
} from './lost-connection.js';
import type { PlanResult } from './plan.js';
import { type BackupOutcome, backupOutcome, newestApplied, watchedBackup } from './safety.js';
import { downUnit, type PlannedMigration, planOf } from './units.js';
import {
  type CountProgress,
  createVerifier,
  type VerificationSummary,
  withProjectFile,
} from './verification.js';

/** What the before/after steps (backup, verification) see. */
export interface ApplyContext {
  client: Client;
  target: DatabaseTarget;
  config: SupagateConfig;
  pending: Migration[];
  status: MigrationStatus;
  /** The plan hash of what is about to be applied: approvals are checked against it. */
  planHash: string;
  /** The plan of what is about to be applied (its effect: changes and findings). */
  plan: PlanResult;
}

/**
 * Steps around the migrations, run while the advisory lock is held. beforeApply runs once the
 * pending set and the plan are known, before the backup and before anything changes (the
 * Action's approval gate): an error thrown there stops the apply with nothing changed.
 * afterApply runs once every migration is applied.
 */
export interface ApplyHooks {
  beforeApply?(context: ApplyContext): Promise<void>;
  afterApply?(context: ApplyContext, result: ApplyResult): Promise<void>;
}

/** `blocked`: the plan blocks (a finding not accepted); nothing was backed up or changed. */
export type ApplyStatus = 'applied' | 'up-to-date' | 'failed' | 'verify-failed' | 'dry-run' | 'blocked';

/** What verification after the apply found, or why it did not run. */
export type VerificationOutcome =
  | { status: 'off' }
  | { status: 'not-run' }
  | ({ status: 'passed' | 'failed' } & VerificationSummary);

/** After a failed verification: what to run, or what was rolled back (--on-verify-failure rollback). */
export interface Recovery {
  /** The command that undoes this apply. */
  command: string;
  /** Down files that ran automatically. */
  rolledBack: string[];
  rollbackFailure?: MigrationFailure;
}

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
  verification: VerificationOutcome;
  recovery?: Recovery;
  /** The plan apply computed before changing anything. */
  planHash?: string;
  /**
   * Why the plan blocks, each with its file:line and how to accept it. Non-empty for `blocked`,
   * and for a dry run that would be blocked.
   */
  blockingReasons: string[];
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
  /** Where backups go, when not the store the configuration names (the Action's artifact store). */
  store?: BackupStore;
  /** Row counting before and after (verification), which takes a while on large databases. */
  onProgress?: (progress: CountProgress) => void;
}

export async function apply(userConfig: SupagateConfig, options: ApplyOptions = {}): Promise<ApplyResult> {
  const url = requireDbUrl(userConfig);
  registerSecret(userConfig.backupKey);
  const started = performance.now();
  const { config, file } = await withProjectFile(userConfig);
  const discovered = await discover(config);
  const verifier = config.verify === 'on' ? createVerifier(config, file, url, options.onProgress) : undefined;
  // Fail on a store that cannot work before taking the lock, not half-way.
  const store = config.backup === 'on' ? (options.store ?? openBackupStore(config)) : undefined;
  if (store) assertKeyForStore(store, config.backupKey !== undefined);

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
      const planned = status.pending.length > 0 ? (await planForApply(config)).result : undefined;
      return result('dry-run', connection, config, status, started, {
        lockWaitMs: 0,
        backup,
        verification: verifier ? { status: 'not-run' } : { status: 'off' },
        ...(planned ? { planHash: planned.planHash, blockingReasons: planned.blockingReasons } : {}),
      });
    });
  }

  let connection: Connection | undefined;
  let release: (() => Promise<void>) | undefined;
  let forgetInterrupt: (() => void) | undefined;
  let appliedSoFar: AppliedMigration[] | undefined;
  const controller = new AbortController();
  try {
    connection = await connect(url, { applicationName: 'supagate apply' });
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    release = lock.release;
    // Read history only once the lock is held: a run that waited sees what the other applied.
    const { status } = await loadStatus(connection, discovered, config);
    if (!status.ok) throw refusal(status.problems);
    forgetInterrupt = stopApplyOnInterrupt({
      url,
      target: connection.target,
      pid: await backendPid(connection.client),
      pending: status.pending,
      controller,
    });
    if (status.pending.length === 0) {
      return result('up-to-date', connection, config, status, started, {
        lockWaitMs: lock.waitedMs,
        backup: store ? { status: 'not-needed' } : { status: 'off' },
        verification: verifier ? { status: 'not-run' } : { status: 'off' },
      });
    }
    if (config.atomic === 'all') assertBatchable(status.pending);

    // The gate: the plan decides before anything changes, and verification compares against it.
    const planned = await phase('plan', () => planForApply(config));
    if (planned.result.blocking) {
      return result('blocked', connection, config, status, started, {
        lockWaitMs: lock.waitedMs,
        backup: store ? { status: 'not-needed' } : { status: 'off' },
        verification: verifier ? { status: 'not-run' } : { status: 'off' },
        planHash: planned.result.planHash,
        blockingReasons: planned.result.blockingReasons,
      });
    }
    const context: ApplyContext = {
      client: connection.client,
      target: connection.target,
      config,
      pending: status.pending,
      status,
      planHash: planned.result.planHash,
      plan: planned.result,
    };
    await options.hooks?.beforeApply?.(context);
    // Backup first: when it fails or cannot be verified, this throws and nothing is applied.
    const manifest = store
      ? await phase('backup', () => watchedBackup(config, url, store, newestApplied(status), controller))
      : undefined;
    const snapshot = verifier ? await phase('counts-before', () => verifier.snapshot()) : undefined;
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

    const client = connection.client;
    // The plan and the backup take a while: the session may have been lost since, and the lock with it.
    if (!(await holdsMigrationLock(client))) throw lockLost(connection.target);
    const total = status.pending.length;
    let index = 0;
    const run = await phase('migrations', () =>
      config.atomic === 'all'
        ? runUntilFailure([status.pending], (all) =>
            migrationProgress(1, 1, `${plural(total)} in one transaction`, () =>
              runBatch(client, all, settings, record),
            ),
          )
        : runUntilFailure(status.pending, (migration) => {
            // After an interrupt, no next migration starts.
            throwIfInterrupted();
            return migrationProgress(++index, total, migration.path, () =>
              applyMigration(client, migration, settings, record),
            );
          }),
    );
    appliedSoFar = run.done;
    const { applied, failure, notifiedPostgrest } = lostConnection(run.failure)
      ? await afterLostConnection(url, connection.target, status.pending, { ...run, failure: run.failure })
      : { applied: run.done, failure: run.failure, notifiedPostgrest: await notify(client, url, run) };

    let verification: VerificationOutcome = verifier ? { status: 'not-run' } : { status: 'off' };
    let recovery: Recovery | undefined;
    if (verifier && snapshot && !failure) {
      const summary = await phase('verification', () =>
        verifier.verify(
          snapshot,
          planned,
          applied.map((m) => m.version),
        ),
      );
      verification = { status: summary.ok ? 'passed' : 'failed', ...summary };
      if (!summary.ok) {
        const open = connection;
        recovery = await phase('recovery', () =>
          recover(open, config, status, applied, manifest?.id, settings, record),
        );
      }
    }

    const outcome = result(
      failure ? 'failed' : verification.status === 'failed' ? 'verify-failed' : 'applied',
      connection,
      config,
      status,
      started,
      {
        lockWaitMs: lock.waitedMs,
        applied,
        notifiedPostgrest,
        ...(failure ? { failure } : {}),
        backup: manifest ? backupOutcome(manifest) : { status: 'off' },
        verification,
        ...(recovery ? { recovery } : {}),
        planHash: planned.result.planHash,
      },
    );
    if (!failure) await options.hooks?.afterApply?.(context, outcome);
    return outcome;
  } catch (error) {
    // A stalled backup's queries were cancelled: the abort's reason says why.
    if (controller.signal.reason instanceof SupagateError) throw controller.signal.reason;
    throw lostOutsideMigrations(error, connection?.target, appliedSoFar);
  } finally {
    forgetInterrupt?.();
    await release?.();
    await disconnect(connection);
  }
}

function plural(count: number): string {
  return `${count} migration${count === 1 ? '' : 's'}`;
}

/** One migration (or the batch) as progress: started, then finished with its duration. */
async function migrationProgress<T>(
  index: number,
  total: number,
  path: string,
  work: () => Promise<T>,
): Promise<T> {
  emitProgress({ type: 'migration-start', index, total, path });
  const started = performance.now();
  let ok = false;
  try {
    const result = await work();
    ok = true;
    return result;
  } finally {
    emitProgress({
      type: 'migration-end',
      index,
      total,
      path,
      ms: Math.round(performance.now() - started),
      ok,
    });
  }
}

function lockLost(target: DatabaseTarget): SupagateError {
  return new SupagateError(
    'DB_CONNECTION_LOST',
    `The migration lock on ${target.label} was lost before any migration ran`,
    {
      hint: 'Nothing was applied. Run apply again.',
    },
  );
}

/** Tells PostgREST to reload its schema cache after a change, on a new connection if this one is gone. */
async function notify(
  client: Client,
  url: string,
  run: { done: AppliedMigration[]; failure?: MigrationFailure },
): Promise<boolean> {
  if (run.done.length === 0 && (run.failure?.committedStatements ?? 0) === 0) return false;
  return client.query(`NOTIFY pgrst, 'reload schema'`).then(
    () => true,
    () => notifyPostgrest(url),
  );
}

/**
 * After a failed verification: the command that undoes the apply, and with
 * --on-verify-failure rollback, the down files run now when every applied migration has one.
 * A backup is never restored automatically: writes made since it was taken would be lost.
 */
async function recover(
  connection: Connection,
  config: SupagateConfig,
  status: MigrationStatus,
  applied: AppliedMigration[],
  backupId: string | undefined,
  settings: ExecutionSettings,
  record: RecordContext,
): Promise<Recovery> {
  const appliedMigrations = status.pending.filter((m) => applied.some((a) => a.version === m.version));
  const allHaveDownFiles = appliedMigrations.every((m) => m.rollback !== undefined);
  const database = connection.target.database;
  const command = allHaveDownFiles
    ? `supagate rollback --to ${newestApplied(status) ?? '0'} --confirm ${database}`
    : backupId
      ? `supagate rollback --backup ${backupId} --confirm ${database}`
      : 'no down files and no backup: undo the changes by hand';
  const recovery: Recovery = { command, rolledBack: [] };
  if (config.onVerifyFailure !== 'rollback' || !allHaveDownFiles) return recovery;
  const { done, failure } = await runUntilFailure([...appliedMigrations].reverse(), async (migration) =>
    revertMigration(connection.client, await downUnit(migration), settings, record),
  );
  recovery.rolledBack = done.map((d) => d.version);
  if (failure) recovery.rollbackFailure = failure;
  if (done.length > 0) await connection.client.query(`NOTIFY pgrst, 'reload schema'`);
  return recovery;
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

function result(
  status: ApplyStatus,
  connection: Connection,
  config: SupagateConfig,
  migrationStatus: MigrationStatus,
  started: number,
  extra: Partial<ApplyResult> & {
    lockWaitMs: number;
    backup: BackupOutcome;
    verification: VerificationOutcome;
  },
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
    blockingReasons: [],
    ...extra,
    durationMs: Math.round(performance.now() - started),
  };
}
