import { takeBackup } from '../backup/backup.js';
import type { BackupManifest } from '../backup/manifest.js';
import type { BackupStore } from '../backup/stores.js';
import type { SupagateConfig } from '../config.js';
import type { MigrationStatus } from '../migrations/pending.js';
import { watchBackupForStall } from './stall.js';

/** Backup first: what apply and rollback run before they change anything. */

/** The backup taken before anything changed, or why there is none. */
export type BackupOutcome =
  | {
      status: 'taken';
      id: string;
      location: string;
      sizeBytes: number;
      sha256: string;
      encrypted: boolean;
      tables: number;
    }
  | { status: 'off' }
  | { status: 'not-needed' }
  | { status: 'planned'; store: string; encrypted: boolean };

/** Takes the verified backup; throws (BACKUP_FAILED, BACKUP_UNVERIFIED…) when there is none. */
export function backupBeforeChange(
  config: SupagateConfig,
  url: string,
  store: BackupStore,
  /** Newest applied version before the change; undefined: read from the database. */
  historyVersion: string | null | undefined,
  /** `signal` stops the backup (an interrupt, a stall); it then fails and stores nothing. */
  options: { signal?: AbortSignal } = {},
): Promise<BackupManifest> {
  return takeBackup({
    ...(options.signal ? { signal: options.signal } : {}),
    dbUrl: url,
    store,
    ...(config.backupKey ? { encryptionKey: config.backupKey } : {}),
    scope: config.backupScope,
    ...(config.pgDumpPath ? { pgDumpPath: config.pgDumpPath } : {}),
    ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
    ...(historyVersion === undefined ? {} : { historyVersion }),
  });
}

export function newestApplied(status: MigrationStatus): string | null {
  const applied = status.entries.filter((entry) =>
    ['applied', 'edited', 'missing-local'].includes(entry.state),
  );
  return applied[applied.length - 1]?.version ?? null;
}

export function backupOutcome(manifest: BackupManifest): BackupOutcome {
  return {
    status: 'taken',
    id: manifest.id,
    location: manifest.location.location,
    sizeBytes: manifest.sizeBytes,
    sha256: manifest.sha256,
    encrypted: manifest.encryption !== 'none',
    tables: manifest.verifiedTables.length,
  };
}

/** The backup, stopped when it makes no progress for stallTimeoutMs, or when `controller` aborts (an interrupt). */
export async function watchedBackup(
  config: SupagateConfig,
  url: string,
  store: BackupStore,
  historyVersion: string | null | undefined,
  controller: AbortController,
): Promise<BackupManifest> {
  const watch = watchBackupForStall({ url, store, timeoutMs: config.stallTimeoutMs, controller });
  try {
    return await backupBeforeChange(config, url, watch.store, historyVersion, { signal: controller.signal });
  } finally {
    watch.stop();
  }
}
