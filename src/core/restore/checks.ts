import { parseQualifiedName } from '../backup/dump.js';
import type { BackupKey } from '../backup/encryption.js';
import { parseBackupKey } from '../backup/encryption.js';
import { type BackupManifest, targetFingerprint } from '../backup/manifest.js';
import { SupagateError } from '../errors.js';
import { HISTORY_SCHEMA } from '../migrations/history.js';
import { MANAGED_SCHEMAS } from '../platform.js';
import type { RestoreOptions, RestoreScope } from './types.js';
import { restoredRowCounts } from './verify.js';

/* Checks before anything: the target, the scope, the key. */

export function checkTarget(options: RestoreOptions): void {
  const target = targetFingerprint(options.dbUrl);
  if (target === options.manifest.target.fingerprint || options.allowOtherTarget) return;
  throw new SupagateError(
    'RESTORE_TARGET_MISMATCH',
    `Backup ${options.manifest.id} was taken of another database than the target (fingerprint ${options.manifest.target.fingerprint.slice(0, 12)}…, the target's ${target.slice(0, 12)}…)`,
    {
      hint: 'Pick a backup of this database. To restore a backup of another database into this one on purpose, allow it explicitly (--allow-other-target; in the Action, allow-other-target: true). Nothing was changed.',
      details: { backupId: options.manifest.id, backupTarget: options.manifest.target.fingerprint, target },
    },
  );
}

export function restoreScope(manifest: BackupManifest): RestoreScope {
  if (manifest.scope.schemaOnly) {
    throw new SupagateError(
      'RESTORE_UNSAFE',
      `Backup ${manifest.id} holds definitions only (schema-only): restoring it would leave every table empty`,
      {
        hint: 'Restore a backup taken with the data scope. Nothing was changed.',
        details: { backupId: manifest.id },
      },
    );
  }
  const managed = new Set<string>(MANAGED_SCHEMAS.filter((schema) => schema !== HISTORY_SCHEMA));
  const managedWhole = manifest.scope.schemas.filter((schema) => managed.has(schema));
  if (managedWhole.length > 0) {
    throw new SupagateError(
      'RESTORE_UNSAFE',
      `Backup ${manifest.id} holds Supabase-managed schema${managedWhole.length === 1 ? '' : 's'} ${managedWhole.join(', ')} whole: restoring would drop and recreate ${managedWhole.length === 1 ? 'it' : 'them'}`,
      {
        hint: 'Supabase owns those schemas. Restore such a backup by hand with pg_restore, choosing what to restore. Nothing was changed.',
        details: { backupId: manifest.id, schemas: managedWhole },
      },
    );
  }
  const partialTables = manifest.scope.tables.map((name) => {
    const parsed = parseQualifiedName(name);
    return { name, schema: parsed.schema, table: parsed.name };
  });
  const partialSchemas = [...new Set(partialTables.map((t) => t.schema))].sort();
  return {
    wholeSchemas: [...manifest.scope.schemas].sort(),
    partialTables,
    partialSchemas,
    holdsHistory: manifest.scope.schemas.includes(HISTORY_SCHEMA) || partialSchemas.includes(HISTORY_SCHEMA),
  };
}

export function requireKey(options: RestoreOptions, manifest: BackupManifest): BackupKey {
  if (options.encryptionKey === undefined) {
    throw new SupagateError(
      'BACKUP_DECRYPT_FAILED',
      `Backup ${manifest.id} is encrypted (${manifest.encryption}) and no encryption key was given`,
      {
        hint: "Pass the key the backup was taken with ($SUPAGATE_BACKUP_KEY, or the Action's backup-key input, from a secret). Nothing was changed.",
        details: { backupId: manifest.id },
      },
    );
  }
  return parseBackupKey(options.encryptionKey);
}

export function dumpMajor(manifest: BackupManifest): number {
  const fromTool = /(\d+)(?:\.\d+)?/.exec(manifest.tool.pgDump.replace(/^[^0-9]*/, ''));
  const server = Math.floor(manifest.serverVersionNum / 10_000);
  return Math.max(fromTool ? Number(fromTool[1]) : 0, server);
}

export function restoredTables(manifest: BackupManifest): string[] {
  return Object.keys(restoredRowCounts(manifest)).sort();
}

/** The backup was taken of this database (not restored into another on purpose). */
export function isSameTarget(options: RestoreOptions): boolean {
  return targetFingerprint(options.dbUrl) === options.manifest.target.fingerprint;
}
