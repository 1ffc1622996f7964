import type { BackupManifest } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { HISTORY_SCHEMA } from '../migrations/history.js';
import { MANAGED_SCHEMAS } from '../platform.js';
import { keptSchemaStatements } from './drops.js';
import { entriesToRestore } from './entries.js';
import {
  describeList,
  ident,
  NOTHING_CHANGED,
  restoreFailed,
  runStatement,
  type Statement,
} from './errors.js';
import { managedStatements } from './managed.js';
import { outsideDependents } from './outside.js';
import { partialTableStatements } from './partial.js';
import { policyOnlyStatements, policyOnlyTables } from './policies.js';
import type { TocEntry } from './toc.js';
import type { RestoreScope } from './types.js';

/* Plan: what to drop, what to restore, what to put back. */

export interface RestorePlan {
  /** The schemas emptied or dropped: those of the backup and those created since. */
  replacedSchemas: string[];
  createdSince: string[];
  steps: string[];
  before: Statement[];
  after: Statement[];
  keep: TocEntry[];
  unsafe: string[];
  /** SQL that puts the unsafe dependents out of the way and back (when it can be told), in order. */
  fix: string[];
}

/** The schemas the restore replaces, as they exist in the target now. */
export interface Targets {
  existing: Map<string, number>;
  /** Kept and emptied object by object (`public`). */
  kept: string[];
  /** Dropped whole: recreated from the dump, unless created since. */
  dropped: string[];
  createdSince: string[];
  insideOids: number[];
  keptOids: number[];
  partialOid: Map<string, number>;
  partialOids: number[];
}

async function resolveTargets(
  client: Client,
  manifest: BackupManifest,
  scope: RestoreScope,
  sameTarget: boolean,
): Promise<Targets> {
  const createdSince = sameTarget ? await schemasCreatedSince(client, manifest, scope) : [];
  // A backup of everything that holds no history was taken before there was any: it goes.
  const history = manifest.scope.kind === 'named' ? [] : [HISTORY_SCHEMA];
  const candidates = [...new Set([...scope.wholeSchemas, ...history, ...createdSince])];
  const { rows: schemaRows } = await client.query<{ name: string; oid: number }>(
    `SELECT nspname AS name, oid::int8::float8 AS oid FROM pg_namespace WHERE nspname = ANY($1::text[])`,
    [candidates],
  );
  const existing = new Map(schemaRows.map((row) => [row.name, Number(row.oid)]));
  // public and the history schema stay (see the module comment; the audit trail is append-only);
  // every other schema of the backup, and every one created since, is dropped whole.
  const kept = candidates.filter((schema) => KEPT_SCHEMAS.includes(schema) && existing.has(schema));
  const dropped = candidates.filter((schema) => existing.has(schema) && !kept.includes(schema));
  const insideOids = [...dropped, ...kept].map((schema) => existing.get(schema) as number);
  const keptOids = kept.map((schema) => existing.get(schema) as number);

  const { rows: partialRows } = await client.query<{ name: string; oid: number | null }>(
    `SELECT name, to_regclass(name)::oid::int8::float8 AS oid FROM unnest($1::text[]) AS name`,
    [scope.partialTables.map((t) => t.name)],
  );
  const partialOid = new Map<string, number>();
  for (const row of partialRows) {
    if (row.oid === null) {
      throw restoreFailed(
        `table ${row.name}, whose rows the backup holds, does not exist in the target: restoring its rows needs it`,
        {
          hint: `Create ${row.name} first (for a Supabase table: run the project's Supabase services). ${NOTHING_CHANGED}`,
        },
      );
    }
    partialOid.set(row.name, Number(row.oid));
  }
  return {
    existing,
    kept,
    dropped,
    createdSince,
    insideOids,
    keptOids,
    partialOid,
    partialOids: [...partialOid.values()],
  };
}

const KEPT_SCHEMAS = ['public', HISTORY_SCHEMA];

/**
 * User schemas that exist now and not in the backup (a backup of everything lists every user
 * schema that existed), and Supabase-managed schemas the backup recorded as absent: a
 * migration created them, the restore drops them. Never a schema an extension created (the
 * extension goes, and the schema with it).
 */
async function schemasCreatedSince(
  client: Client,
  manifest: BackupManifest,
  scope: RestoreScope,
): Promise<string[]> {
  if (manifest.scope.kind === 'named') return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n
      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND (NOT n.nspname = ANY($1::text[]) OR ($3::text[] IS NOT NULL AND NOT n.nspname = ANY($3::text[])))
        AND NOT n.nspname = ANY($2::text[]) AND n.nspname <> $4
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [[...MANAGED_SCHEMAS], scope.wholeSchemas, manifest.managed?.schemas ?? null, HISTORY_SCHEMA],
  );
  return rows.map((row) => row.name);
}

/** Locks first, so that what is read next stays true until the commit. */
async function lockTargets(
  client: Client,
  scope: RestoreScope,
  targets: Targets,
  options: { lock: boolean; lockTimeoutMs: number },
): Promise<string> {
  const { insideOids, partialOids, dropped, kept } = targets;
  if (!options.lock) return 'Begin a transaction and lock the tables the restore replaces';
  const { rows: lockRows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (c.relnamespace = ANY($1::oid[]) OR c.oid = ANY($2::oid[]))
        AND c.relkind IN ('r', 'p', 'v')
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
      ORDER BY 1`,
    [insideOids, partialOids],
  );
  if (lockRows.length > 0) {
    await runStatement(client, {
      sql: `LOCK TABLE ${lockRows.map((row) => row.name).join(', ')} IN ACCESS EXCLUSIVE MODE`,
      what: `locking the ${lockRows.length} tables and views the restore replaces`,
    });
  }
  return `Begin a transaction; lock the ${lockRows.length} tables and views of ${describeList([...dropped, ...kept].map((s) => `schema ${s}`).concat(scope.partialTables.map((t) => t.name)))} (lock_timeout ${options.lockTimeoutMs}ms)`;
}

export async function planRestore(
  client: Client,
  manifest: BackupManifest,
  scope: RestoreScope,
  toc: TocEntry[],
  options: { lock: boolean; lockTimeoutMs: number; sameTarget: boolean },
): Promise<RestorePlan> {
  const targets = await resolveTargets(client, manifest, scope, options.sameTarget);
  const policyOnly = await policyOnlyTables(client, manifest);
  const lockStep = await lockTargets(client, scope, targets, options);
  const managed = await managedStatements(client, manifest, targets.insideOids, options.sameTarget);
  const outside = await outsideDependents(client, manifest, targets, toc, {
    policyOnlyOids: policyOnly.present.map((t) => t.oid),
    triggersRecorded: managed !== undefined,
    sameTarget: options.sameTarget,
  });
  const partial = await partialTableStatements(
    client,
    manifest,
    scope,
    targets.partialOid,
    outside.cascadedPolicies,
  );
  const policyOnlyRestore = await policyOnlyStatements(client, manifest, policyOnly);
  const drops = await schemaDrops(client, targets);
  const entries = await entriesToRestore(
    client,
    scope,
    toc,
    targets.kept,
    targets.partialOids,
    partial.restorePolicies,
  );
  return {
    replacedSchemas: [...targets.kept, ...targets.dropped],
    createdSince: targets.createdSince,
    steps: [
      lockStep,
      ...partial.firstSteps,
      ...policyOnlyRestore.steps,
      ...drops.steps,
      ...partial.lastSteps,
      ...(managed?.steps ?? []),
      restoreStep(entries.keep, entries.skippedDefaultAcls),
      ...outside.steps,
    ],
    before: [
      ...(managed?.first ?? []),
      ...partial.first,
      ...policyOnlyRestore.before,
      ...drops.before,
      ...partial.last,
      ...(managed?.beforeScript ?? []),
    ],
    after: [...outside.after, ...policyOnlyRestore.after, ...(managed?.after ?? [])],
    keep: entries.keep,
    unsafe: [...new Set([...outside.unsafe, ...drops.unsafe])].sort(),
    fix: outside.fix,
  };
}

/** Drops of the schemas replaced whole, and the object-by-object emptying of the kept ones. */
async function schemaDrops(
  client: Client,
  targets: Targets,
): Promise<{ before: Statement[]; steps: string[]; unsafe: string[] }> {
  const before: Statement[] = [];
  const steps: string[] = [];
  const unsafe: string[] = [];
  for (const schema of targets.dropped) {
    before.push({ sql: `DROP SCHEMA ${ident(schema)} CASCADE`, what: `dropping schema ${schema}` });
    steps.push(
      `Drop schema ${schema} and everything in it (DROP SCHEMA … CASCADE); ${targets.createdSince.includes(schema) ? 'it was created after the backup' : 'the backup recreates it'}`,
    );
  }
  for (const schema of targets.kept) {
    const statements = await keptSchemaStatements(client, schema, targets.existing.get(schema) as number);
    before.push(...statements.before);
    steps.push(...statements.steps);
    unsafe.push(...statements.unsafe);
  }
  return { before, steps, unsafe };
}

function restoreStep(keep: TocEntry[], skippedDefaultAcls: number): string {
  const kinds = new Map<string, number>();
  for (const entry of keep) kinds.set(entry.type ?? 'OTHER', (kinds.get(entry.type ?? 'OTHER') ?? 0) + 1);
  const counted = [...kinds]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const skipped =
    skippedDefaultAcls > 0
      ? `; ${skippedDefaultAcls} default privileges of roles the restoring user cannot act for are left as they are`
      : '';
  return `Restore ${keep.length} entries of the backup (${counted}) with pg_restore --use-list, in the same transaction${skipped}`;
}
