import type { BackupKey } from '../backup/encryption.js';
import type { BackupManifest } from '../backup/manifest.js';
import type { BackupStore } from '../backup/stores.js';

export interface RestoreOptions {
  dbUrl: string;
  store: BackupStore;
  manifest: BackupManifest;
  /** The backup's encryption key (secret string or parsed key); needed when it is encrypted. */
  encryptionKey?: string | BackupKey;
  pgRestorePath?: string;
  /** Checks everything (key, file, catalog, dependents) and lists the steps; changes nothing. */
  dryRun?: boolean;
  /** Restore a backup taken of another database (its fingerprint differs from the target's). */
  allowOtherTarget?: boolean;
  /** lock_timeout of the restore's statements; default 5000. */
  lockTimeoutMs?: number;
}

export interface RestoreResult {
  backupId: string;
  /** Schemas restored whole. */
  schemas: string[];
  /** Tables whose rows were restored (or would be, dry run). */
  tables: string[];
  /** what was (or would be) done, in order, human-readable */
  steps: string[];
  counts: { table: string; expected: number; actual: number; ok: boolean }[];
  rls: { table: string; ok: boolean; differences: string[] }[];
  /** supabase_migrations (history and audit) is back to the backup's rows. */
  historyRestored: boolean;
  ok: boolean;
  durationMs: number;
}

export interface RestoreScope {
  wholeSchemas: string[];
  partialTables: { name: string; schema: string; table: string }[];
  partialSchemas: string[];
  holdsHistory: boolean;
}
