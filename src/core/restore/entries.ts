import type { Client } from '../db/connect.js';
import { AUDIT_TABLE, HISTORY_SCHEMA } from '../migrations/history.js';
import { NOTHING_CHANGED, restoreFailed } from './errors.js';
import { orderPartialData, sequencesOf } from './partial.js';
import { schemaOfSchemaEntry, type TocEntry } from './toc.js';
import type { RestoreScope } from './types.js';

/** The dump's entries the restore runs: the whole schemas', and the data, policies and sequences of the partial tables. */
export async function entriesToRestore(
  client: Client,
  scope: RestoreScope,
  toc: TocEntry[],
  kept: string[],
  partialOids: number[],
  restorePolicies: Map<string, Set<string>>,
): Promise<{ keep: TocEntry[]; skippedDefaultAcls: number }> {
  const { rows: actable } = await client.query<{ name: string }>(
    `SELECT rolname AS name FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER')`,
  );
  const canActFor = new Set(actable.map((row) => row.name));
  const ownedSequences = await sequencesOf(client, partialOids);
  const allSchemas = [...scope.wholeSchemas, ...scope.partialSchemas];
  const keep: TocEntry[] = [];
  let skippedDefaultAcls = 0;
  const keepAudit = await auditExists(client);
  for (const entry of toc) {
    if (keepAudit && isAuditEntry(entry)) continue;
    if (entry.type === null) {
      if (scope.partialSchemas.length === 0) {
        keep.push(entry);
        continue;
      }
      throw restoreFailed(`cannot tell what this pg_restore entry belongs to: "${entry.line.trim()}"`, {
        hint: `Use a pg_restore of the same major version as the pg_dump that took the backup (--pg-restore). ${NOTHING_CHANGED}`,
      });
    }
    if (entry.schema === null) {
      const schema = schemaOfSchemaEntry(entry, allSchemas);
      // A schema-pattern dump has nothing else without a schema; anything else is not in scope.
      if (schema === undefined || !scope.wholeSchemas.includes(schema)) continue;
      // A kept schema is not created again (its owner stays); its comment and privileges are restored.
      if (entry.type === 'SCHEMA' && kept.includes(schema)) continue;
      keep.push(entry);
      continue;
    }
    if (scope.wholeSchemas.includes(entry.schema)) {
      if (entry.type === 'DEFAULT ACL' && kept.includes(entry.schema)) {
        const owner = entry.rest.split(' ').at(-1) ?? '';
        if (!canActFor.has(owner)) {
          // Left as they are: the restoring user cannot change another role's default privileges.
          skippedDefaultAcls++;
          continue;
        }
      }
      keep.push(entry);
      continue;
    }
    if (!scope.partialSchemas.includes(entry.schema)) continue;
    if (entry.type === 'TABLE DATA') {
      keep.push(entry);
    } else if (entry.type === 'POLICY') {
      const table = scope.partialTables.find(
        (t) =>
          t.schema === entry.schema &&
          [...(restorePolicies.get(t.name) ?? [])].some((name) =>
            entry.rest.startsWith(`${t.table} ${name} `),
          ),
      );
      if (table) keep.push(entry);
    } else if (entry.type === 'SEQUENCE SET') {
      if (ownedSequences.some((s) => s.schema === entry.schema && entry.rest.startsWith(`${s.name} `)))
        keep.push(entry);
    }
  }
  orderPartialData(keep, scope);
  return { keep, skippedDefaultAcls };
}

async function auditExists(client: Client): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    AUDIT_TABLE,
  ]);
  return rows[0]?.found ?? false;
}

/** The audit table, its data, sequence, constraints, comment and privileges. */
function isAuditEntry(entry: TocEntry): boolean {
  return (
    entry.schema === HISTORY_SCHEMA &&
    /^(?:(?:TABLE|SEQUENCE|COLUMN) )?supagate_audit(?:[ _.]|$)/.test(entry.rest)
  );
}
