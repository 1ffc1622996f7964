import type { BackupManifest, PolicySnapshot, PublicationMembership, TableRls } from '../backup/manifest.js';
import { rlsSnapshot } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { POLICY_ONLY_MANAGED_TABLES } from '../platform.js';
import { plural } from '../report/describe.js';
import { ident, literal, type Statement } from './errors.js';
import { withDefaultSearchPath } from './verify.js';

export interface PolicyOnlyTables {
  /** In the backup and in the target. */
  present: { name: string; oid: number; backup: TableRls }[];
  /** In the backup, not in the target (no Realtime here): nothing to put back. */
  missing: string[];
}

export async function policyOnlyTables(client: Client, manifest: BackupManifest): Promise<PolicyOnlyTables> {
  const names = Object.keys(manifest.rls).filter((name) =>
    (POLICY_ONLY_MANAGED_TABLES as readonly string[]).includes(name),
  );
  if (names.length === 0) return { present: [], missing: [] };
  const { rows } = await client.query<{ name: string; oid: number | null }>(
    `SELECT name, to_regclass(name)::oid::int8::float8 AS oid FROM unnest($1::text[]) AS name`,
    [names],
  );
  const present: PolicyOnlyTables['present'] = [];
  const missing: string[] = [];
  for (const row of rows) {
    if (row.oid === null) missing.push(row.name);
    else present.push({ name: row.name, oid: Number(row.oid), backup: manifest.rls[row.name] as TableRls });
  }
  return { present, missing };
}

/**
 * The policies of realtime.messages as the backup recorded them: every current one dropped
 * before the restore, the backup's created after it (their expressions may call functions
 * the restore brings back), under the search_path their text was read with.
 */
export async function policyOnlyStatements(
  client: Client,
  manifest: BackupManifest,
  tables: PolicyOnlyTables,
): Promise<{ before: Statement[]; after: Statement[]; steps: string[] }> {
  const before: Statement[] = [];
  const after: Statement[] = [];
  const steps = tables.missing.map(
    (name) =>
      `${name} does not exist here: the backup's ${plural(manifest.rls[name]?.policies.length ?? 0, 'policy', 'policies')} for it cannot be put back`,
  );
  if (tables.present.length === 0) return { before, after, steps };
  const current = await withDefaultSearchPath(client, () =>
    rlsSnapshot(
      client,
      tables.present.map((t) => t.oid),
    ),
  );
  after.push({
    sql: `SELECT set_config('search_path', (SELECT reset_val FROM pg_settings WHERE name = 'search_path'), true)`,
    what: 'using the default search_path for policy expressions',
  });
  for (const table of tables.present) {
    const now = current[table.name] ?? { rlsEnabled: false, rlsForced: false, policies: [] };
    for (const policy of now.policies) {
      before.push({
        sql: `DROP POLICY IF EXISTS ${ident(policy.name)} ON ${table.name}`,
        what: `dropping policy "${policy.name}" on ${table.name}`,
      });
    }
    const flags: string[] = [];
    if (now.rlsEnabled !== table.backup.rlsEnabled)
      flags.push(`${table.backup.rlsEnabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
    if (now.rlsForced !== table.backup.rlsForced)
      flags.push(`${table.backup.rlsForced ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`);
    if (flags.length > 0) {
      before.push({
        sql: `ALTER TABLE ${table.name} ${flags.join(', ')}`,
        what: `setting RLS of ${table.name}`,
      });
      steps.push(`${flags.map((f) => f.toLowerCase()).join(', ')} on ${table.name}, as in the backup`);
    }
    for (const policy of table.backup.policies) {
      after.push({
        sql: createPolicySql(table.name, policy),
        what: `creating policy "${policy.name}" on ${table.name}`,
      });
    }
    steps.push(
      `Put back the policies of ${table.name} as the backup recorded them: drop the ${plural(now.policies.length, 'current one', 'current ones')}, create ${plural(table.backup.policies.length, 'policy', 'policies')} after the restore`,
    );
  }
  after.push({ sql: `SELECT set_config('search_path', '', true)`, what: 'restoring the empty search_path' });
  return { before, after, steps };
}

/** Adds a recorded membership unless the table or the publication is missing, or it is there. */
export function addMembershipSql(membership: PublicationMembership): string {
  const add = `ALTER PUBLICATION ${ident(membership.publication)} ADD TABLE ${membership.partitioned ? '' : 'ONLY '}${membership.table}${membership.columns ? ` (${membership.columns})` : ''}${membership.rowFilter ? ` WHERE (${membership.rowFilter})` : ''}`;
  return `DO $supagate$ BEGIN
            IF to_regclass(${literal(membership.table)}) IS NOT NULL
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ${literal(membership.publication)})
               AND NOT EXISTS (
                 SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
                  WHERE p.pubname = ${literal(membership.publication)} AND pr.prrelid = to_regclass(${literal(membership.table)})) THEN
              EXECUTE ${literal(add)};
            END IF;
          END $supagate$`;
}

export function createPolicySql(table: string, policy: PolicySnapshot): string {
  const roles = policy.roles.map((role) => (role === 'public' ? 'PUBLIC' : ident(role))).join(', ');
  return [
    `CREATE POLICY ${ident(policy.name)} ON ${table}`,
    `AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${policy.command}`,
    `TO ${roles || 'PUBLIC'}`,
    ...(policy.using ? [`USING (${policy.using})`] : []),
    ...(policy.withCheck ? [`WITH CHECK (${policy.withCheck})`] : []),
  ].join(' ');
}
