import { readManifest } from '../backup/backup.js';
import { openBackupStore } from '../backup/open-store.js';
import { assertKeyForStore, type BackupStore } from '../backup/stores.js';
import type { SupagateConfig } from '../config.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { acquireMigrationLock } from '../db/lock.js';
import { registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { throwIfInterrupted } from '../interrupt.js';
import {
  type AppliedMigration,
  type MigrationFailure,
  revertMigration,
  runUntilFailure,
} from '../migrations/execute.js';
import { compareVersions } from '../migrations/files.js';
import type { Migration } from '../migrations/model.js';
import type { MigrationStatus } from '../migrations/pending.js';
import { emitProgress, phase } from '../progress.js';
import { type RestoreResult, restoreBackup } from '../restore/index.js';
import { writesWouldBeLost } from '../restore/writes.js';
import type { VerificationOutcome } from './apply.js';
import { backendPid, stopApplyOnInterrupt } from './apply-interrupt.js';
import { discover, loadStatus, requireDbUrl } from './load.js';
import {
  type BackupOutcome,
  backupBeforeChange,
  backupOutcome,
  newestApplied,
  watchedBackup,
} from './safety.js';
import { downUnit, type PlannedMigration, planOf } from './units.js';
import { type CountProgress, createVerifier, withProjectFile } from './verification.js';

/**
 * rollback --to <version>: the down files of every migration applied after <version>, newest
 * first, each in a transaction with the removal of its history row. Refuses before changing
 * anything when a down file is missing, and needs --confirm <database name> unless it is a
 * dry run. A verified backup is taken first, as for apply.
 */
export interface RollbackOptions {
  to: string;
  dryRun?: boolean;
  /** Must equal the target database's name. */
  confirm?: string;
  retryDelayMs?: number;
  /** Where the safety backup goes, when not the store the configuration names. */
  store?: BackupStore;
  /** Row counting before and after (verification). */
  onProgress?: (progress: CountProgress) => void;
}

export interface RollbackResult {
  command: 'rollback';
  /** Down files (--to), or restoring a backup (--backup). */
  mode: 'down-files' | 'backup';
  status: 'rolled-back' | 'nothing-to-roll-back' | 'failed' | 'dry-run';
  target: string;
  /** --to: the version rolled back to. */
  to?: string;
  /** --backup: the backup restored, and what the restore did and checked. */
  backupId?: string;
  restore?: RestoreResult;
  /** The down files that run (or ran), newest first. */
  plan: PlannedMigration[];
  reverted: AppliedMigration[];
  notReverted: string[];
  failure?: MigrationFailure;
  backup: BackupOutcome;
  /** Down files: counts, RLS invariants, probes and scripts checked after they ran (a restore checks itself: `restore`). */
  verification?: VerificationOutcome;
  notifiedPostgrest: boolean;
  durationMs: number;
}

export async function rollback(config: SupagateConfig, options: RollbackOptions): Promise<RollbackResult> {
  const url = requireDbUrl(config);
  registerSecret(config.backupKey);
  if (!/^[0-9]+$/.test(options.to)) {
    throw new SupagateError('CONFIG_INVALID', `--to must be a migration version, got "${options.to}"`, {
      hint: 'Pass the version to roll back to (it stays applied), e.g. --to 20240101000000; --to 0 rolls back everything.',
      details: { setting: 'to' },
    });
  }
  const started = performance.now();
  const { config: effective, file } = await withProjectFile(config);
  const discovered = await discover(effective);
  const store =
    effective.backup === 'on' && !options.dryRun ? (options.store ?? openBackupStore(effective)) : undefined;
  if (store) assertKeyForStore(store, effective.backupKey !== undefined);
  const verifier =
    effective.verify === 'on' ? createVerifier(effective, file, url, options.onProgress) : undefined;
  let connection: Connection | undefined;
  let release: (() => Promise<void>) | undefined;
  let forgetInterrupt: (() => void) | undefined;
  const controller = new AbortController();
  try {
    connection = await connect(url, { applicationName: 'supagate rollback' });
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    release = lock.release;
    const { status } = await loadStatus(connection, discovered, config);
    const targets = rollbackTargets(status, discovered.migrations, options.to);
    const units = await Promise.all(targets.map(downUnit));
    forgetInterrupt = stopApplyOnInterrupt({
      url,
      target: connection.target,
      pid: await backendPid(connection.client),
      pending: targets,
      controller,
      command: 'rollback',
    });
    const plan = units.map((unit) => planOf(unit));
    const base = {
      command: 'rollback' as const,
      mode: 'down-files' as const,
      target: connection.target.label,
      to: options.to,
      plan,
      reverted: [] as AppliedMigration[],
      notReverted: [] as string[],
      notifiedPostgrest: false,
    };
    const finish = (result: Omit<RollbackResult, 'durationMs'>): RollbackResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });
    const notRun: VerificationOutcome = verifier ? { status: 'not-run' } : { status: 'off' };
    if (units.length === 0)
      return finish({
        ...base,
        status: 'nothing-to-roll-back',
        backup: { status: 'not-needed' },
        verification: notRun,
      });
    if (options.dryRun) {
      const backup: BackupOutcome =
        config.backup === 'on'
          ? { status: 'planned', store: config.backupStore, encrypted: config.backupKey !== undefined }
          : { status: 'off' };
      return finish({ ...base, status: 'dry-run', backup, verification: notRun });
    }
    assertConfirmed(options.confirm, connection);

    const manifest = store
      ? await phase('safety-backup', () =>
          watchedBackup(config, url, store, newestApplied(status), controller),
        )
      : undefined;
    const snapshot = verifier ? await phase('counts-before', () => verifier.snapshot()) : undefined;
    const settings = {
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      lockRetries: config.lockRetries,
      retryDelayMs: options.retryDelayMs ?? 1_000,
    };
    const record = {
      actor: config.actor ?? null,
      runId: config.runId ?? null,
      backupId: manifest?.id ?? null,
    };
    const client = connection.client;
    const { done: reverted, failure } = await phase('rollback', () =>
      runUntilFailure(units, async (unit) => {
        // After an interrupt, no next down file starts.
        throwIfInterrupted();
        const index = units.indexOf(unit) + 1;
        emitProgress({ type: 'migration-start', index, total: units.length, path: unit.path });
        const began = performance.now();
        let ok = false;
        try {
          const reverted = await revertMigration(client, unit, settings, record);
          ok = true;
          return reverted;
        } finally {
          const ms = Math.round(performance.now() - began);
          emitProgress({ type: 'migration-end', index, total: units.length, path: unit.path, ms, ok });
        }
      }),
    );
    const notifiedPostgrest = reverted.length > 0 || (failure?.committedStatements ?? 0) > 0;
    if (notifiedPostgrest) await connection.client.query(`NOTIFY pgrst, 'reload schema'`);
    const done = new Set(reverted.map((r) => r.version));
    let verification: VerificationOutcome = notRun;
    if (verifier && snapshot && !failure) {
      const summary = await phase('verification', () => verifier.verifyRollback(snapshot));
      verification = { status: summary.ok ? 'passed' : 'failed', ...summary };
    }
    return finish({
      ...base,
      verification,
      status: failure || verification.status === 'failed' ? 'failed' : 'rolled-back',
      reverted,
      notReverted: failure ? units.map((u) => u.version).filter((v) => !done.has(v)) : [],
      ...(failure ? { failure } : {}),
      backup: manifest ? backupOutcome(manifest) : { status: 'off' },
      notifiedPostgrest,
    });
  } catch (error) {
    // A stalled safety backup's queries were cancelled: the abort's reason says why.
    if (controller.signal.reason instanceof SupagateError) throw controller.signal.reason;
    throw error;
  } finally {
    forgetInterrupt?.();
    await release?.();
    await disconnect(connection);
  }
}

/** Applied versions newer than `to`, newest first, each with its local migration and down file. */
function rollbackTargets(status: MigrationStatus, migrations: Migration[], to: string): Migration[] {
  const applied = status.entries.filter((e) => ['applied', 'edited', 'missing-local'].includes(e.state));
  if (to !== '0' && !applied.some((e) => e.version === to)) {
    throw new SupagateError('CONFIG_INVALID', `Version ${to} is not applied to this database`, {
      hint: `Roll back to an applied version: ${applied
        .slice(-5)
        .map((e) => e.version)
        .join(', ')}${applied.length === 0 ? '(none applied)' : ''}; --to 0 rolls back everything.`,
      details: { setting: 'to' },
    });
  }
  const newer = applied.filter((e) => compareVersions(e.version, to) > 0).reverse();
  const local = new Map(migrations.map((m) => [m.version, m]));
  const missing = newer.filter((e) => !local.get(e.version)?.rollback);
  if (missing.length > 0) {
    const names = missing.map((e) => {
      const migration = local.get(e.version);
      return migration
        ? `${migration.path.replace(/[^/]+\/[^/]+$/, '')}rollbacks/${e.version}_${migration.name}.sql`
        : `version ${e.version} (no local migration file)`;
    });
    throw new SupagateError(
      'ROLLBACK_MISSING_DOWN',
      `Cannot roll back: no down migration for ${names.join(', ')}`,
      {
        hint: 'Write the down file(s) (supabase/rollbacks/<version>_<name>.sql), or restore the backup taken before the apply with --backup <id>.',
        details: { missing: missing.map((e) => e.version) },
      },
    );
  }
  return newer.map((e) => local.get(e.version) as Migration);
}

function assertConfirmed(confirm: string | undefined, connection: Connection): void {
  const expected = connection.target.database;
  if (confirm === expected) return;
  throw new SupagateError(
    'CONFIRMATION_REQUIRED',
    confirm === undefined
      ? `Rolling back changes ${connection.target.label}: confirm with --confirm ${expected}`
      : `--confirm "${confirm}" does not match the target database "${expected}"`,
    {
      hint: `Run it again with --confirm ${expected} (or --dry-run to see what it would do).`,
      details: { expected },
    },
  );
}

export interface BackupRollbackOptions {
  backupId: string;
  dryRun?: boolean;
  /** Must equal the target database's name. */
  confirm?: string;
  /** Restore a backup taken of another database. */
  allowOtherTarget?: boolean;
  /** Where the backup is read from (and the safety backup goes), when not the configured store. */
  store?: BackupStore;
  /** Discard the rows written after the backup (kept in the safety backup); default: the config's. */
  discardWritesSinceBackup?: boolean;
}

/**
 * rollback --backup <id>: the backup checked (key, checksum, manifest, dependents, rows written
 * since) in a dry run first, so that a refused restore costs nothing; then a fresh safety backup
 * (which keeps whatever the restore discards), then the backup restored in one transaction and
 * proved against its manifest before the commit. Holds the migration lock throughout.
 */
export async function rollbackToBackup(
  config: SupagateConfig,
  options: BackupRollbackOptions,
): Promise<RollbackResult> {
  const url = requireDbUrl(config);
  registerSecret(config.backupKey);
  const started = performance.now();
  const store = options.store ?? openBackupStore(config);
  if (config.backup === 'on' && !options.dryRun) assertKeyForStore(store, config.backupKey !== undefined);
  const manifest = await readManifest(store, options.backupId);
  const discard = options.discardWritesSinceBackup ?? config.discardWritesSinceBackup;
  let connection: Connection | undefined;
  let release: (() => Promise<void>) | undefined;
  try {
    connection = await connect(url, { applicationName: 'supagate rollback' });
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    release = lock.release;
    const restoreOptions = {
      dbUrl: url,
      store,
      manifest,
      ...(config.backupKey ? { encryptionKey: config.backupKey } : {}),
      ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
      ...(options.allowOtherTarget ? { allowOtherTarget: true } : {}),
      lockTimeoutMs: config.lockTimeoutMs,
      discardWritesSinceBackup: discard,
      actor: config.actor ?? null,
      runId: config.runId ?? null,
    };
    const base = {
      command: 'rollback' as const,
      mode: 'backup' as const,
      target: connection.target.label,
      backupId: manifest.id,
      plan: [],
      reverted: [],
      notReverted: [],
    };
    const finish = (result: Omit<RollbackResult, 'durationMs'>): RollbackResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });
    if (!options.dryRun) assertConfirmed(options.confirm, connection);
    // Checks before cost: everything that can refuse the restore runs before the safety backup.
    const preflight = await phase('restore-check', () => restoreBackup({ ...restoreOptions, dryRun: true }));
    if (options.dryRun) {
      const backup: BackupOutcome =
        config.backup === 'on'
          ? { status: 'planned', store: store.kind, encrypted: config.backupKey !== undefined }
          : { status: 'off' };
      return finish({ ...base, status: 'dry-run', restore: preflight, backup, notifiedPostgrest: false });
    }
    const writes = preflight.writesSinceBackup;
    // Discarded rows are kept in the safety backup: without one they would be gone for good.
    if (writes.length > 0 && (!discard || config.backup !== 'on')) {
      throw writesWouldBeLost(manifest, writes, { safetyBackupOff: config.backup !== 'on' });
    }
    // The safety backup reads the history version from the database itself.
    const safety =
      config.backup === 'on'
        ? await phase('safety-backup', () => backupBeforeChange(config, url, store, undefined))
        : undefined;
    const restore = await phase('restore', () => restoreBackup(restoreOptions));
    return finish({
      ...base,
      status: restore.ok ? 'rolled-back' : 'failed',
      restore,
      backup: safety ? backupOutcome(safety) : { status: 'off' },
      notifiedPostgrest: true,
    });
  } finally {
    await release?.();
    await disconnect(connection);
  }
}
