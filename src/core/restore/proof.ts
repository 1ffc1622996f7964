import type { BackupManifest } from '../backup/manifest.js';
import { schemaFingerprintInTransaction } from '../backup/schema-fingerprint.js';
import type { Client } from '../db/connect.js';
import { POLICY_TRACKED_MANAGED_TABLES } from '../platform.js';
import { restoreFailed } from './errors.js';
import type { RestoreResult } from './types.js';
import { verify } from './verify.js';

/**
 * Before COMMIT: the restored tables against the manifest's row counts and RLS, and the restored
 * schema against the fingerprint the backup recorded (the plan's model). With a consistent
 * backup any difference throws, so that the transaction rolls back.
 */
export async function proveRestored(
  client: Client,
  manifest: BackupManifest,
): Promise<Pick<RestoreResult, 'counts' | 'rls' | 'schema' | 'ok'>> {
  const verification = await verify(client, manifest);
  const failedCounts = verification.counts.filter((c) => !c.ok);
  const failedRls = verification.rls.filter((r) => !r.ok);
  const schema = await schemaOutcome(client, manifest);
  const problems = [
    ...failedCounts.map((c) => `${c.table} has ${c.actual} rows, the backup ${c.expected}`),
    ...failedRls.map((r) => `${r.table}: ${r.differences.join('; ')}`),
    ...(schema === 'differs'
      ? ["the schema differs from the one the backup recorded (its model's fingerprint)"]
      : []),
  ];
  if (manifest.consistentSnapshot && problems.length > 0) {
    throw restoreFailed(
      `after restoring, the database does not match the backup's manifest: ${problems.slice(0, 10).join('; ')}`,
      { details: { counts: failedCounts, rls: failedRls, schema } },
    );
  }
  return { ...verification, schema, ok: problems.length === 0 };
}

async function schemaOutcome(client: Client, manifest: BackupManifest): Promise<RestoreResult['schema']> {
  if (!manifest.schemaFingerprint) return 'not-recorded';
  // A Supabase table the backup had (realtime.messages on a project without Realtime) is not the
  // restore's to create: the fingerprint, which covers its policies, cannot match then.
  if ((await missingTrackedTables(client, manifest)).length > 0) return 'not-checked';
  const now = await schemaFingerprintInTransaction(client);
  return now === manifest.schemaFingerprint ? 'matches' : 'differs';
}

async function missingTrackedTables(client: Client, manifest: BackupManifest): Promise<string[]> {
  const recorded = POLICY_TRACKED_MANAGED_TABLES.filter((table) => table in manifest.rls);
  const { rows } = await client.query<{ name: string }>(
    'SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL',
    [recorded],
  );
  return rows.map((row) => row.name);
}
