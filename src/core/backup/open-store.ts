import { isAbsolute, join } from 'node:path';
import type { SupagateConfig } from '../config.js';
import { registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { type BackupStore, DirectoryStore, SupabaseStorageStore } from './stores.js';

/** The backup store the configuration names. The Action provides the GitHub artifact store itself. */
export function openBackupStore(config: SupagateConfig): BackupStore {
  if (config.backupStore === 'github-artifact') {
    throw new SupagateError(
      'CONFIG_INVALID',
      'The github-artifact backup store exists only inside the GitHub Action',
      {
        hint: 'Outside GitHub Actions use --backup-store directory or supabase-storage.',
        details: { setting: 'backup-store' },
      },
    );
  }
  if (config.backupStore === 'supabase-storage') {
    if (!config.supabaseUrl || !config.supabaseServiceKey) {
      throw new SupagateError(
        'CONFIG_INVALID',
        `The supabase-storage backup store needs ${config.supabaseUrl ? 'a service_role key' : 'the project URL'}`,
        {
          hint: 'Set SUPABASE_URL (https://<ref>.supabase.co) and SUPABASE_SERVICE_ROLE_KEY, and a private bucket with --backup-bucket.',
          details: { setting: config.supabaseUrl ? 'supabase-service-key' : 'supabase-url' },
        },
      );
    }
    registerSecret(config.supabaseServiceKey);
    return new SupabaseStorageStore({
      url: config.supabaseUrl,
      serviceKey: config.supabaseServiceKey,
      bucket: config.backupBucket,
    });
  }
  return new DirectoryStore(
    isAbsolute(config.backupDir) ? config.backupDir : join(config.projectDir, config.backupDir),
  );
}

/**
 * A store that takes only encrypted backups (GitHub artifacts) and no key: refused before
 * anything else runs (the lock, the plan on a shadow, pg_dump), with what to set.
 */
export function assertEncryptionFor(store: BackupStore, config: SupagateConfig): void {
  if (!store.requiresEncryption || config.backupKey) return;
  throw new SupagateError(
    'BACKUP_UNENCRYPTED_ARTIFACT',
    `The ${store.kind} backup store takes only encrypted backups, and no encryption key is set`,
    {
      hint: "Set the Action's backup-key input from a secret (anyone with read access to the repository can download artifacts), or allow-unencrypted-artifacts: true for repositories whose readers may see production data. Nothing was changed.",
      details: { setting: 'backup-key' },
    },
  );
}
