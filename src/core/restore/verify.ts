import { isDeepStrictEqual } from 'node:util';
import { type BackupManifest, countRows, type PolicySnapshot, rlsSnapshot } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { AUDIT_TABLE } from '../migrations/history.js';
import { POLICY_ONLY_MANAGED_TABLES } from '../platform.js';
import type { RestoreResult } from './types.js';

/* Verification: the restored tables against the manifest's row counts and RLS. */

export async function verify(
  client: Client,
  manifest: BackupManifest,
): Promise<{ counts: RestoreResult['counts']; rls: RestoreResult['rls'] }> {
  return withDefaultSearchPath(client, () => verifyNow(client, manifest));
}

/**
 * Runs `work` under the session's default search_path, as the backup read the catalog:
 * pg_get_expr() qualifies names by what the search_path makes visible, so policy expressions
 * compare equal only under the same one.
 */
export async function withDefaultSearchPath<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await client.query(
    `SELECT set_config('search_path', (SELECT reset_val FROM pg_settings WHERE name = 'search_path'), true)`,
  );
  try {
    return await work();
  } finally {
    await client.query(`SELECT set_config('search_path', '', true)`);
  }
}

async function verifyNow(
  client: Client,
  manifest: BackupManifest,
): Promise<{ counts: RestoreResult['counts']; rls: RestoreResult['rls'] }> {
  const rowCounts = restoredRowCounts(manifest);
  const names = [...new Set([...Object.keys(rowCounts), ...Object.keys(manifest.rls)])].sort();
  const { rows } = await client.query<{ name: string; oid: number | null }>(
    `SELECT name, to_regclass(name)::oid::int8::float8 AS oid FROM unnest($1::text[]) AS name`,
    [names],
  );
  const oids = new Map(rows.filter((r) => r.oid !== null).map((r) => [r.name, Number(r.oid)]));

  const countable = Object.keys(rowCounts)
    .filter((name) => oids.has(name))
    .map((name) => ({ name, oid: oids.get(name) as number }));
  const actual = await countRows(client, countable);
  const counts = Object.entries(rowCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([table, expected]) => {
      const found = actual[table];
      return { table, expected, actual: found ?? 0, ok: found === expected };
    });

  const snapshot = await rlsSnapshot(
    client,
    Object.keys(manifest.rls)
      .filter((name) => oids.has(name))
      .map((name) => oids.get(name) as number),
  );
  const rls = Object.entries(manifest.rls)
    // A policy-only table the target does not have (no Realtime there) has nothing to compare.
    .filter(
      ([table]) => oids.has(table) || !(POLICY_ONLY_MANAGED_TABLES as readonly string[]).includes(table),
    )
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([table, expected]) => {
      const now = snapshot[table];
      const differences: string[] = [];
      if (!now) {
        differences.push('the table is missing');
      } else {
        if (now.rlsEnabled !== expected.rlsEnabled)
          differences.push(
            `RLS is ${now.rlsEnabled ? 'enabled' : 'disabled'}, the backup had it ${expected.rlsEnabled ? 'enabled' : 'disabled'}`,
          );
        if (now.rlsForced !== expected.rlsForced)
          differences.push(
            `FORCE RLS is ${now.rlsForced ? 'on' : 'off'}, the backup had it ${expected.rlsForced ? 'on' : 'off'}`,
          );
        differences.push(...policyDifferences(expected.policies, now.policies));
      }
      return { table, ok: differences.length === 0, differences };
    });
  return { counts, rls };
}

function policyDifferences(expected: PolicySnapshot[], actual: PolicySnapshot[]): string[] {
  const differences: string[] = [];
  for (const policy of expected) {
    const found = actual.find((p) => p.name === policy.name);
    if (!found) differences.push(`policy "${policy.name}" is missing`);
    else if (!isDeepStrictEqual(found, policy))
      differences.push(`policy "${policy.name}" differs from the backup`);
  }
  for (const policy of actual) {
    if (!expected.some((p) => p.name === policy.name))
      differences.push(`policy "${policy.name}" is not in the backup`);
  }
  return differences;
}

/** The manifest's row counts of what a restore gives back: all but the append-only audit trail. */
export function restoredRowCounts(manifest: BackupManifest): Record<string, number> {
  return Object.fromEntries(Object.entries(manifest.rowCounts).filter(([table]) => table !== AUDIT_TABLE));
}
