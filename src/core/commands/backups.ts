import { listBackups } from '../backup/backup.js';
import type { BackupManifest } from '../backup/manifest.js';
import { openBackupStore } from '../backup/open-store.js';
import type { SupagateConfig } from '../config.js';

export interface BackupsResult {
  command: 'backups';
  store: string;
  /** Newest first; only verified backups (they alone have a manifest). */
  backups: BackupManifest[];
  /** Manifests that could not be read, by key. */
  unreadable: string[];
}

export async function backupsList(config: SupagateConfig): Promise<BackupsResult> {
  const store = openBackupStore(config);
  const unreadable: string[] = [];
  const backups = await listBackups(store, { onInvalid: (key) => unreadable.push(key) });
  return { command: 'backups', store: store.kind, backups, unreadable };
}
