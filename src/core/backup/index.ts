/**
 * Backups: taken before apply (verified, encrypted, stored off the runner), listed for
 * rollback. See backup.ts for the flow, dump.ts for scopes, encryption.ts for the file format
 * and keys, stores.ts for where backups live.
 */

export { type RestoreOptions, type RestoreResult, restoreBackup } from '../restore/index.js';
export {
  type ListBackupsOptions,
  listBackups,
  readManifest,
  type TakeBackupOptions,
  takeBackup,
} from './backup.js';
export {
  type BackupScope,
  type CreateBackupOptions,
  type CreatedBackup,
  createBackup,
  DATA_SCOPE_MANAGED_TABLES,
  type DumpSelection,
  dumpArguments,
  type FetchBackupFileOptions,
  fetchBackupFile,
  parseQualifiedName,
  resolveScope,
  type ScopeDescription,
  type ScopeTable,
  type VerifiedBackup,
  type VerifyBackupOptions,
  verifyBackup,
} from './dump.js';
export {
  BackupKey,
  DEFAULT_SCRYPT,
  decryptStream,
  decryptToFile,
  ENCRYPTION_MAGIC,
  encryptStream,
  HEADER_BYTES,
  isEncryptedHeader,
  parseBackupKey,
  type ScryptCost,
} from './encryption.js';
export {
  type BackupManifest,
  dumpKey,
  manifestKey,
  newBackupId,
  type PolicySnapshot,
  parseManifest,
  type TableRls,
  targetFingerprint,
} from './manifest.js';
export {
  ArtifactStore,
  type ArtifactStoreOptions,
  type ArtifactUploader,
  assertStoreKey,
  type BackupStore,
  DirectoryStore,
  SupabaseStorageStore,
  type SupabaseStorageStoreOptions,
} from './stores.js';
