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
