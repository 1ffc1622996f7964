import type { BackupKey } from '../backup/encryption.js';
import type { BackupManifest } from '../backup/manifest.js';
import type { BackupStore } from '../backup/stores.js';
import type { TableWrites } from './writes.js';

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
  /** Rows written after the backup may be discarded (else the restore refuses when there are any). */
  discardWritesSinceBackup?: boolean;
  /** Who restores and in which run, for the audit trail. */
  actor?: string | null;
  runId?: string | null;
}

export interface RestoreResult {
  backupId: string;
  /** Schemas restored whole. */
  schemas: string[];
  /** Schemas created after the backup, dropped (or to be, dry run). */
  schemasDropped: string[];
  /** Tables whose rows were restored (or would be, dry run). */
  tables: string[];
  /** what was (or would be) done, in order, human-readable */
  steps: string[];
  counts: { table: string; expected: number; actual: number; ok: boolean }[];
  rls: { table: string; ok: boolean; differences: string[] }[];
  /** Rows the tables hold that the backup does not: what the restore discards (or would). */
  writesSinceBackup: TableWrites[];
  /** The restored schema against the fingerprint the backup recorded (format 1 recorded none). */
  schema: 'matches' | 'differs' | 'not-recorded' | 'not-checked';
  /** The migration history is back to the backup's rows (the audit trail is kept, and records the restore). */
  historyRestored: boolean;
  /** Versions whose history row the restore took away: pending again. */
  revertedVersions: string[];
  ok: boolean;
  durationMs: number;
}

export interface RestoreScope {
  wholeSchemas: string[];
  partialTables: { name: string; schema: string; table: string }[];
  partialSchemas: string[];
  holdsHistory: boolean;
}
