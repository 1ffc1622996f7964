import { isDeepStrictEqual } from 'node:util';
import { type BackupManifest, rlsSnapshot } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { describeList, ident, type Statement } from './errors.js';
import type { TocEntry } from './toc.js';
import type { RestoreScope } from './types.js';
import { withDefaultSearchPath } from './verify.js';

/* Tables restored on their own (storage.buckets, storage.objects): their order and sequences. */

export async function referencedFirst<T extends { name: string }>(
  client: Client,
  tables: T[],
  oids: Map<string, number>,
): Promise<T[]> {
  const all = tables.map((t) => oids.get(t.name) as number);
  const { rows } = await client.query<{ child: number; parent: number }>(
    `SELECT conrelid::int8::float8 AS child, confrelid::int8::float8 AS parent FROM pg_constraint
      WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND confrelid = ANY($1::oid[]) AND conrelid <> confrelid`,
    [all],
  );
  const ordered: T[] = [];
  const placed = new Set<number>();
  const visiting = new Set<number>();
  const visit = (table: T) => {
    const oid = oids.get(table.name) as number;
    if (placed.has(oid) || visiting.has(oid)) return;
    visiting.add(oid);
    for (const edge of rows.filter((r) => Number(r.child) === oid)) {
      const parent = tables.find((t) => oids.get(t.name) === Number(edge.parent));
      if (parent) visit(parent);
    }
    placed.add(oid);
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(table);
  return ordered;
}

/** Puts the TABLE DATA entries of tables restored on their own in `scope.partialTables` order. */
export function orderPartialData(keep: TocEntry[], scope: RestoreScope): void {
  const rank = (entry: TocEntry) => {
    const index = scope.partialTables.findIndex(
      (t) => t.schema === entry.schema && entry.rest.startsWith(`${t.table} `),
    );
    return index < 0 ? scope.partialTables.length : index;
  };
  const slots: number[] = [];
  keep.forEach((entry, index) => {
    if (entry.type === 'TABLE DATA' && entry.schema !== null && scope.partialSchemas.includes(entry.schema))
      slots.push(index);
  });
  const sorted = slots.map((i) => keep[i] as TocEntry).sort((a, b) => rank(a) - rank(b));
  slots.forEach((slot, i) => {
    keep[slot] = sorted[i] as TocEntry;
  });
}

export async function sequencesOf(
  client: Client,
  tableOids: number[],
): Promise<{ schema: string; name: string }[]> {
  if (tableOids.length === 0) return [];
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, s.relname AS name
       FROM pg_depend d JOIN pg_class s ON s.oid = d.objid JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = ANY($1::oid[]) AND s.relkind = 'S' AND d.deptype IN ('a', 'i')`,
    [tableOids],
  );
  return rows;
}

export interface PartialTableStatements {
  first: Statement[];
  firstSteps: string[];
  last: Statement[];
  lastSteps: string[];
  /** Per table, the backup's policies to create from the dump. */
  restorePolicies: Map<string, Set<string>>;
}

/**
 * Tables restored on their own: RLS switches and policies as in the backup, rows replaced.
 * Sorts `scope.partialTables` referenced tables first.
 */
export async function partialTableStatements(
  client: Client,
  manifest: BackupManifest,
  scope: RestoreScope,
  partialOid: Map<string, number>,
  cascadedPolicies: Set<string>,
): Promise<PartialTableStatements> {
  const partialOids = [...partialOid.values()];
  // Policies of the tables restored on their own go first: the drops below may cascade to them.
  const first: Statement[] = [];
  const firstSteps: string[] = [];
  const last: Statement[] = [];
  const lastSteps: string[] = [];
  const restorePolicies = new Map<string, Set<string>>();
  if (scope.partialTables.length > 0) {
    const current = await withDefaultSearchPath(client, () => rlsSnapshot(client, partialOids));
    for (const table of scope.partialTables) {
      const oid = partialOid.get(table.name) as number;
      const now = current[table.name] ?? { rlsEnabled: false, rlsForced: false, policies: [] };
      const backup = manifest.rls[table.name];
      const wanted = new Set<string>();
      restorePolicies.set(table.name, wanted);
      if (!backup) continue;
      const backupPolicies = new Map(backup.policies.map((p) => [p.name, p]));
      for (const policy of now.policies) {
        const original = backupPolicies.get(policy.name);
        const cascaded = cascadedPolicies.has(`${oid}\u0000${policy.name}`);
        if (original && isDeepStrictEqual(policy, original) && !cascaded) continue;
        first.push({
          sql: `DROP POLICY IF EXISTS ${ident(policy.name)} ON ${table.name}`,
          what: `dropping policy "${policy.name}" on ${table.name}`,
        });
        firstSteps.push(
          `Drop policy "${policy.name}" on ${table.name} (${!original ? 'not in the backup' : cascaded ? 'it depends on objects the restore replaces' : 'it differs from the backup'})`,
        );
        if (original) wanted.add(policy.name);
      }
      for (const policy of backup.policies) {
        if (!now.policies.some((p) => p.name === policy.name)) wanted.add(policy.name);
      }
      const flags: string[] = [];
      if (now.rlsEnabled !== backup.rlsEnabled)
        flags.push(`${backup.rlsEnabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
      if (now.rlsForced !== backup.rlsForced)
        flags.push(`${backup.rlsForced ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`);
      if (flags.length > 0) {
        first.push({
          sql: `ALTER TABLE ${table.name} ${flags.join(', ')}`,
          what: `setting RLS of ${table.name}`,
        });
        firstSteps.push(`${flags.map((f) => f.toLowerCase()).join(', ')} on ${table.name}, as in the backup`);
      }
    }
    const order = await referencedFirst(client, scope.partialTables, partialOid);
    if (scope.partialSchemas.includes('storage')) {
      // Supabase's storage.protect_delete() refuses direct deletes unless this is set.
      last.push({
        sql: `SELECT set_config('storage.allow_delete_query', 'true', true)`,
        what: 'allowing deletes from storage tables',
      });
    }
    for (const table of [...order].reverse()) {
      last.push({ sql: `DELETE FROM ${table.name}`, what: `deleting the rows of ${table.name}` });
    }
    lastSteps.push(
      `Delete the rows of ${describeList([...order].reverse().map((t) => t.name))} (DELETE, so their triggers run); the backup's rows are loaded next`,
    );
    scope.partialTables.splice(0, scope.partialTables.length, ...order);
  }
  return { first, firstSteps, last, lastSteps, restorePolicies };
}
