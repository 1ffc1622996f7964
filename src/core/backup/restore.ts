import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import { type Client, type Connection, connect, disconnect, pgErrorFields } from '../db/connect.js';
import { type FoundTool, findPgTool, firstLines, runTool } from '../db/pgtools.js';
import { redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { HISTORY_SCHEMA } from '../migrations/history.js';
import { plural } from '../report/describe.js';
import { MANAGED_SCHEMAS, POLICY_ONLY_MANAGED_TABLES } from '../schema/model.js';
import { fetchBackupFile, parseQualifiedName } from './dump.js';
import { type BackupKey, parseBackupKey } from './encryption.js';
import {
  type BackupManifest,
  countRows,
  type PolicySnapshot,
  type PublicationMembership,
  rlsSnapshot,
  type TableRls,
  targetFingerprint,
} from './manifest.js';
import type { BackupStore } from './stores.js';

/**
 * Restore: puts the schemas a backup holds back to the state the backup recorded, in one
 * transaction.
 *
 * What returns to the backup's state:
 * - every schema the backup holds whole (`manifest.scope.schemas`: the user schemas and
 *   `supabase_migrations`, so history and audit too): objects created after the backup are
 *   gone, objects dropped since come back with their rows, rows are the backup's. Such a schema
 *   is dropped (`DROP SCHEMA … CASCADE`) and recreated from the dump, owner, privileges,
 *   default privileges and comment included. `public` is the exception: every database has it,
 *   PostgreSQL records its initial privileges (`pg_init_privs`), Supabase grants on it, and
 *   extensions often live in it. It is kept: its objects are dropped one by one (extension
 *   members stay, with their extension), its privileges are reset to the initial ones and the
 *   backup's grants re-applied, its default privileges (of the roles the restoring user can act
 *   for) and its comment are replaced by the backup's.
 * - each table the backup holds on its own (`manifest.scope.tables`: storage.buckets and
 *   storage.objects, which Supabase owns): its rows are deleted and the backup's loaded, its
 *   policies and RLS switches become the backup's. Only what differs is touched (Supabase may
 *   not let the restoring user alter its tables); the table's definition, triggers and
 *   indexes are Supabase's and stay.
 *
 * Everything runs in one transaction on one connection, with `lock_timeout`: the tables are
 * locked first, the catalog is read under those locks, the drops run, then the SQL that
 * `pg_restore --use-list <filtered> --file=-` makes of the dump (COPY data streamed through
 * the same connection), then what must follow, then the verification (row counts and RLS
 * against the manifest), then COMMIT. Any failure — a statement, pg_restore itself, the
 * verification — rolls back: the database is exactly as it was before. (A backup whose dump did
 * not run in the manifest's snapshot, `consistentSnapshot: false`, may differ a little from its
 * counts: then a mismatch is reported, `ok: false`, and the restore is kept.)
 *
 * Objects outside those schemas that depend on objects the restore drops would be dropped by
 * the CASCADE without coming back. They are found first (pg_depend) and the restore refuses,
 * naming them (RESTORE_UNSAFE), except what it can put back exactly: policies of the tables it
 * restores (the dump has them), triggers on other tables whose function the backup has
 * (Supabase's `on auth.users … execute function public.handle_new_user()`: re-created with the
 * same definition), and publication memberships (re-added; pg_dump --schema does not dump them).
 *
 * Not restored: schemas created after the backup, roles, Supabase-managed schemas (auth, …),
 * the definition, triggers and indexes of tables restored on their own, and what lives outside
 * the restored schemas and was dropped after the backup (a trigger on auth.users, the
 * publication membership of a table dropped since: pg_dump --schema records neither).
 * A kept `public` keeps its owner. The caller takes the migration lock (rollback does); this
 * function does not. While it runs, the restored tables are locked (ACCESS EXCLUSIVE).
 */
export interface RestoreOptions {
  dbUrl: string;
  store: BackupStore;
  manifest: BackupManifest;
  /** The backup's encryption key (secret string or parsed key); needed when it is encrypted. */
  encryptionKey?: string | BackupKey;
  pgRestorePath?: string;
  /** Checks everything (key, file, catalog, dependents) and lists the steps; changes nothing. */
  dryRun?: boolean;
  /** Restore a backup taken of another database (its fingerprint differs from the target's). */
  allowOtherTarget?: boolean;
  /** lock_timeout of the restore's statements; default 5000. */
  lockTimeoutMs?: number;
}

export interface RestoreResult {
  backupId: string;
  /** Schemas restored whole. */
  schemas: string[];
  /** Tables whose rows were restored (or would be, dry run). */
  tables: string[];
  /** what was (or would be) done, in order, human-readable */
  steps: string[];
  counts: { table: string; expected: number; actual: number; ok: boolean }[];
  rls: { table: string; ok: boolean; differences: string[] }[];
  /** supabase_migrations (history and audit) is back to the backup's rows. */
  historyRestored: boolean;
  ok: boolean;
  durationMs: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const FINAL_STEPS = (manifest: BackupManifest) => [
  `Verify the row counts (${Object.keys(manifest.rowCounts).length} tables) and RLS (${Object.keys(manifest.rls).length} tables) against the manifest${manifest.consistentSnapshot ? '; any difference rolls everything back' : ''}`,
  'Tell PostgREST to reload its schema cache',
  'Commit',
];
const NOTHING_CHANGED = 'Nothing was changed: the restore runs in one transaction, which was rolled back.';

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const manifest = options.manifest;
  const dryRun = options.dryRun ?? false;
  checkTarget(options);
  const scope = restoreScope(manifest);
  const key = manifest.encryption === 'none' ? undefined : requireKey(options, manifest);
  const steps: string[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'supagate-restore-'));
  let connection: Connection | undefined;
  let open = false;
  try {
    const dumpFile = join(workDir, 'backup.dump');
    await fetchBackupFile({
      store: options.store,
      key: manifest.location.key,
      destination: dumpFile,
      expectedSha256: manifest.sha256,
      ...(key ? { encryptionKey: key } : {}),
    });
    steps.push(
      `Fetch ${manifest.location.key} from the ${options.store.kind} store, check its SHA-256 against the manifest${key ? ' and decrypt it' : ''}`,
    );

    const pgRestore = await findPgTool('pg_restore', {
      minMajor: dumpMajor(manifest),
      ...(options.pgRestorePath ? { explicitPath: options.pgRestorePath } : {}),
    });
    const listed = await runTool(pgRestore.path, ['--list', dumpFile], {});
    if (listed.code !== 0) {
      throw restoreFailed(`pg_restore cannot read the backup: ${firstLines(listed.stderr)}`, {
        hint: 'The file matched its SHA-256, so pg_restore is likely older than the pg_dump that wrote it. Nothing was changed.',
      });
    }
    const toc = parseToc(listed.stdout, [...scope.wholeSchemas, ...scope.partialSchemas]);

    connection = await connect(options.dbUrl, {
      applicationName: 'supagate restore',
      ...(dryRun ? { readOnly: true } : {}),
    });
    const client = connection.client;
    await client.query(dryRun ? 'BEGIN READ ONLY' : 'BEGIN');
    open = true;
    // Catalog names come back schema-qualified; statement_timeout off as in pg_restore's own session.
    await client.query(
      `SELECT set_config('search_path', '', true), set_config('lock_timeout', $1, true),
              set_config('statement_timeout', '0', true), set_config('idle_in_transaction_session_timeout', '0', true),
              set_config('row_security', 'off', true)`,
      [`${options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS}ms`],
    );

    const plan = await planRestore(client, manifest, scope, toc, {
      lock: !dryRun,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    });
    if (plan.unsafe.length > 0) throw unsafeDependents(manifest, plan.unsafe);

    const listFile = join(workDir, 'restore.list');
    await writeFile(listFile, `${plan.keep.map((entry) => entry.line).join('\n')}\n`, { mode: 0o600 });
    steps.push(...plan.steps);

    if (dryRun) {
      // pg_restore must be able to produce everything the restore would run.
      const check = await runTool(
        pgRestore.path,
        ['--use-list', listFile, `--file=${devNull}`, dumpFile],
        {},
      );
      if (check.code !== 0) {
        throw restoreFailed(`pg_restore cannot produce the restore script: ${firstLines(check.stderr)}`);
      }
      await client.query('ROLLBACK');
      open = false;
      return {
        backupId: manifest.id,
        schemas: scope.wholeSchemas,
        tables: restoredTables(manifest),
        steps: [...steps, ...FINAL_STEPS(manifest), 'Dry run: nothing was changed'],
        counts: [],
        rls: [],
        historyRestored: false,
        ok: true,
        durationMs: Math.round(performance.now() - started),
      };
    }

    for (const statement of plan.before) await runStatement(client, statement);
    await runRestoreScript(client, pgRestore, listFile, dumpFile);
    for (const statement of plan.after) await runStatement(client, statement);

    const verification = await verify(client, manifest);
    const strict = manifest.consistentSnapshot;
    const failedCounts = verification.counts.filter((c) => !c.ok);
    const failedRls = verification.rls.filter((r) => !r.ok);
    if (strict && (failedCounts.length > 0 || failedRls.length > 0)) {
      throw restoreFailed(
        `after restoring, the database does not match the backup's manifest: ${[
          ...failedCounts.map((c) => `${c.table} has ${c.actual} rows, the backup ${c.expected}`),
          ...failedRls.map((r) => `${r.table}: ${r.differences.join('; ')}`),
        ]
          .slice(0, 10)
          .join('; ')}`,
        { details: { counts: failedCounts, rls: failedRls } },
      );
    }
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
    open = false;
    steps.push(...FINAL_STEPS(manifest));
    return {
      backupId: manifest.id,
      schemas: scope.wholeSchemas,
      tables: restoredTables(manifest),
      steps,
      counts: verification.counts,
      rls: verification.rls,
      historyRestored: scope.holdsHistory,
      ok: failedCounts.length === 0 && failedRls.length === 0,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    if (error instanceof SupagateError) throw error;
    throw restoreFailed(redact(error instanceof Error ? error.message : String(error)), { cause: error });
  } finally {
    if (connection) {
      if (open) await connection.client.query('ROLLBACK').catch(() => {});
      await disconnect(connection);
    }
    await rm(workDir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Checks before anything                                                                      */
/* ------------------------------------------------------------------------------------------ */

function checkTarget(options: RestoreOptions): void {
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

interface RestoreScope {
  wholeSchemas: string[];
  partialTables: { name: string; schema: string; table: string }[];
  partialSchemas: string[];
  holdsHistory: boolean;
}

function restoreScope(manifest: BackupManifest): RestoreScope {
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

function requireKey(options: RestoreOptions, manifest: BackupManifest): BackupKey {
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

function dumpMajor(manifest: BackupManifest): number {
  const fromTool = /(\d+)(?:\.\d+)?/.exec(manifest.tool.pgDump.replace(/^[^0-9]*/, ''));
  const server = Math.floor(manifest.serverVersionNum / 10_000);
  return Math.max(fromTool ? Number(fromTool[1]) : 0, server);
}

function restoredTables(manifest: BackupManifest): string[] {
  return Object.keys(manifest.rowCounts).sort();
}

/* ------------------------------------------------------------------------------------------ */
/* The archive's table of contents                                                             */
/* ------------------------------------------------------------------------------------------ */

/** Entry types pg_dump writes (pg_dump.c, ArchiveEntry `description`), longest first. */
const TOC_TYPES = [
  'ACCESS METHOD',
  'ACL',
  'AGGREGATE',
  'BLOB',
  'BLOB METADATA',
  'BLOBS',
  'CAST',
  'CHECK CONSTRAINT',
  'COLLATION',
  'COMMENT',
  'CONSTRAINT',
  'CONVERSION',
  'DATABASE',
  'DATABASE PROPERTIES',
  'DEFAULT',
  'DEFAULT ACL',
  'DOMAIN',
  'ENCODING',
  'EVENT TRIGGER',
  'EXTENSION',
  'FK CONSTRAINT',
  'FOREIGN DATA WRAPPER',
  'FOREIGN SERVER',
  'FOREIGN TABLE',
  'FUNCTION',
  'INDEX',
  'INDEX ATTACH',
  'LARGE OBJECT',
  'MATERIALIZED VIEW',
  'MATERIALIZED VIEW DATA',
  'OPERATOR',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'POLICY',
  'PROCEDURAL LANGUAGE',
  'PROCEDURE',
  'PUBLICATION',
  'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA',
  'ROW SECURITY',
  'RULE',
  'SCHEMA',
  'SEARCHPATH',
  'SECURITY LABEL',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'SERVER',
  'SHELL TYPE',
  'STATISTICS',
  'STATISTICS DATA',
  'STDSTRINGS',
  'SUBSCRIPTION',
  'SUBSCRIPTION TABLE',
  'TABLE',
  'TABLE ATTACH',
  'TABLE DATA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE',
  'TRANSFORM',
  'TRIGGER',
  'TYPE',
  'USER MAPPING',
  'VIEW',
].sort((a, b) => b.length - a.length);

/** One line of `pg_restore --list`: `3409; 0 16458 TABLE DATA storage buckets postgres`. */
export interface TocEntry {
  /** The line as pg_restore printed it (what --use-list reads back). */
  line: string;
  /** TABLE, TABLE DATA, POLICY, … (`null` for a type this version does not know). */
  type: string | null;
  /** The entry's schema; null for `-` (schemas themselves, their comments and privileges). */
  schema: string | null;
  /** What follows the schema: the tag (e.g. `objects My policy`) and the owner. */
  rest: string;
}

/**
 * Parses `pg_restore --list`. Names are printed unquoted and space-separated, so a schema is
 * recognized by matching the names the backup holds, longest first.
 */
export function parseToc(list: string, schemas: string[]): TocEntry[] {
  const known = [...new Set(schemas)].sort((a, b) => b.length - a.length);
  const entries: TocEntry[] = [];
  for (const line of list.split('\n')) {
    const match = /^\s*\d+;\s+\d+\s+\d+\s+(.*)$/.exec(line);
    if (!match) continue;
    const body = match[1] as string;
    const type = TOC_TYPES.find((t) => body.startsWith(`${t} `)) ?? null;
    if (!type) {
      entries.push({ line, type: null, schema: null, rest: body });
      continue;
    }
    const afterType = body.slice(type.length + 1);
    if (afterType.startsWith('- ')) {
      entries.push({ line, type, schema: null, rest: afterType.slice(2) });
      continue;
    }
    const schema = known.find((s) => afterType.startsWith(`${s} `)) ?? afterType.split(' ')[0] ?? '';
    entries.push({ line, type, schema, rest: afterType.slice(schema.length + 1) });
  }
  return entries;
}

/** `SCHEMA public owner`, `COMMENT - SCHEMA public owner`: the schema such an entry is about. */
function schemaOfSchemaEntry(entry: TocEntry, schemas: string[]): string | undefined {
  const text = entry.type === 'SCHEMA' ? entry.rest : entry.rest.replace(/^SCHEMA /, '');
  if (entry.type !== 'SCHEMA' && !entry.rest.startsWith('SCHEMA ')) return undefined;
  return [...schemas].sort((a, b) => b.length - a.length).find((s) => text.startsWith(`${s} `));
}

/* ------------------------------------------------------------------------------------------ */
/* Plan: what to drop, what to restore, what to put back                                       */
/* ------------------------------------------------------------------------------------------ */

interface Statement {
  sql: string;
  params?: unknown[];
  /** For error messages: what the statement is for. */
  what: string;
}

interface RestorePlan {
  steps: string[];
  before: Statement[];
  after: Statement[];
  keep: TocEntry[];
  unsafe: string[];
}

interface ClosureRow {
  catalog: string;
  objid: number;
  description: string;
  inside: boolean;
  internal: boolean;
}

/** Drop keyword per pg_identify_object() type, for the objects of a kept schema. */
const DROP_KEYWORDS: Record<string, { keyword: string; order: number }> = {
  table: { keyword: 'TABLE', order: 1 },
  'foreign table': { keyword: 'FOREIGN TABLE', order: 1 },
  view: { keyword: 'VIEW', order: 2 },
  'materialized view': { keyword: 'MATERIALIZED VIEW', order: 2 },
  sequence: { keyword: 'SEQUENCE', order: 3 },
  'statistics object': { keyword: 'STATISTICS', order: 3 },
  function: { keyword: 'FUNCTION', order: 4 },
  procedure: { keyword: 'PROCEDURE', order: 4 },
  aggregate: { keyword: 'AGGREGATE', order: 4 },
  operator: { keyword: 'OPERATOR', order: 5 },
  'operator class': { keyword: 'OPERATOR CLASS', order: 5 },
  'operator family': { keyword: 'OPERATOR FAMILY', order: 5 },
  'text search configuration': { keyword: 'TEXT SEARCH CONFIGURATION', order: 5 },
  'text search dictionary': { keyword: 'TEXT SEARCH DICTIONARY', order: 5 },
  'text search parser': { keyword: 'TEXT SEARCH PARSER', order: 6 },
  'text search template': { keyword: 'TEXT SEARCH TEMPLATE', order: 6 },
  collation: { keyword: 'COLLATION', order: 6 },
  conversion: { keyword: 'CONVERSION', order: 6 },
  type: { keyword: 'TYPE', order: 7 },
  domain: { keyword: 'DOMAIN', order: 7 },
};

const DEFAULT_ACL_KEYWORDS: Record<string, string> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
};

async function planRestore(
  client: Client,
  manifest: BackupManifest,
  scope: RestoreScope,
  toc: TocEntry[],
  options: { lock: boolean; lockTimeoutMs: number },
): Promise<RestorePlan> {
  const steps: string[] = [];
  const before: Statement[] = [];
  const after: Statement[] = [];
  const unsafe: string[] = [];

  const { rows: schemaRows } = await client.query<{ name: string; oid: number }>(
    `SELECT nspname AS name, oid::int8::float8 AS oid FROM pg_namespace WHERE nspname = ANY($1::text[])`,
    [scope.wholeSchemas],
  );
  const existing = new Map(schemaRows.map((row) => [row.name, Number(row.oid)]));
  // public stays (see the module comment); every other schema of the backup is dropped whole.
  const kept = scope.wholeSchemas.filter((schema) => schema === 'public' && existing.has(schema));
  const dropped = scope.wholeSchemas.filter((schema) => existing.has(schema) && !kept.includes(schema));
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
  const partialOids = [...partialOid.values()];
  const policyOnly = await policyOnlyTables(client, manifest);
  const policyOnlyOids = policyOnly.present.map((t) => t.oid);

  // Lock first, so that what is read next stays true until the commit.
  if (options.lock) {
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
    steps.push(
      `Begin a transaction; lock the ${lockRows.length} tables and views of ${describeList([...dropped, ...kept].map((s) => `schema ${s}`).concat(scope.partialTables.map((t) => t.name)))} (lock_timeout ${options.lockTimeoutMs}ms)`,
    );
  } else {
    steps.push('Begin a transaction and lock the tables the restore replaces');
  }

  // Everything a DROP … CASCADE of the replaced objects would reach.
  const closure = await dependencyClosure(client, existingOids(existing, dropped), keptOids, insideOids);
  const outside = closure.filter((row) => !row.inside && !row.internal);
  const policyOids = outside.filter((r) => r.catalog === 'pg_policy').map((r) => r.objid);
  const triggerOids = outside.filter((r) => r.catalog === 'pg_trigger').map((r) => r.objid);
  const publicationRelOids = outside.filter((r) => r.catalog === 'pg_publication_rel').map((r) => r.objid);
  const publicationSchemaOids = outside
    .filter((r) => r.catalog === 'pg_publication_namespace')
    .map((r) => r.objid);
  const handled = new Set(['pg_policy', 'pg_trigger', 'pg_publication_rel', 'pg_publication_namespace']);
  for (const row of outside) if (!handled.has(row.catalog)) unsafe.push(row.description);

  // Policies on other tables: those of the tables restored with their policies come back.
  const cascadedPolicies = new Set<string>();
  if (policyOids.length > 0) {
    const { rows } = await client.query<{ table_oid: number; name: string; description: string }>(
      `SELECT polrelid::int8::float8 AS table_oid, polname AS name, pg_describe_object('pg_policy'::regclass, oid, 0) AS description
         FROM pg_policy WHERE oid = ANY($1::oid[])`,
      [policyOids],
    );
    for (const row of rows) {
      if (partialOids.includes(Number(row.table_oid)))
        cascadedPolicies.add(`${row.table_oid}\u0000${row.name}`);
      // Policies of the policy-only tables are all dropped first and put back afterwards.
      else if (!policyOnlyOids.includes(Number(row.table_oid))) unsafe.push(row.description);
    }
  }

  // Triggers on other tables calling a function the restore replaces: re-created when the
  // backup has that function.
  const recreatedTriggers: { table: string; name: string; function: string }[] = [];
  if (triggerOids.length > 0) {
    const { rows } = await client.query<{
      oid: number;
      name: string;
      table: string;
      internal: boolean;
      parent: number;
      enabled: string;
      definition: string;
      comment: string | null;
      function_schema: string;
      function_tag: string;
      function_signature: string;
      function_inside: boolean;
      description: string;
    }>(
      `SELECT t.oid::int8::float8 AS oid, t.tgname AS name, format('%I.%I', n.nspname, c.relname) AS table,
              t.tgisinternal AS internal, t.tgparentid::int8::float8 AS parent, t.tgenabled::text AS enabled,
              pg_get_triggerdef(t.oid) AS definition, obj_description(t.oid, 'pg_trigger') AS comment,
              pn.nspname AS function_schema,
              p.proname || '(' || coalesce((SELECT string_agg(format_type(a.t, NULL), ', ' ORDER BY a.i)
                                              FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)), '') || ')' AS function_tag,
              p.oid::regprocedure::text AS function_signature,
              p.pronamespace = ANY($2::oid[]) AS function_inside,
              pg_describe_object('pg_trigger'::regclass, t.oid, 0) AS description
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE t.oid = ANY($1::oid[])
        ORDER BY 3, 2`,
      [triggerOids, insideOids],
    );
    const recreated = new Set<number>();
    for (const row of rows) {
      if (row.internal || Number(row.parent) !== 0) continue;
      const inBackup = toc.some(
        (entry) =>
          entry.type === 'FUNCTION' &&
          entry.schema === row.function_schema &&
          entry.rest.startsWith(`${row.function_tag} `),
      );
      if (!row.function_inside || !inBackup) {
        unsafe.push(
          row.function_inside
            ? `${row.description} (it calls ${row.function_signature}, which the backup does not have)`
            : row.description,
        );
        continue;
      }
      recreated.add(Number(row.oid));
      recreatedTriggers.push({ table: row.table, name: row.name, function: row.function_signature });
      after.push({ sql: row.definition, what: `re-creating ${row.description}` });
      const state = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[row.enabled];
      if (state) {
        after.push({
          sql: `ALTER TABLE ${row.table} ${state} TRIGGER ${ident(row.name)}`,
          what: `re-creating ${row.description}`,
        });
      }
      if (row.comment !== null) {
        after.push({
          sql: `COMMENT ON TRIGGER ${ident(row.name)} ON ${row.table} IS ${literal(row.comment)}`,
          what: `re-creating ${row.description}`,
        });
      }
    }
    for (const row of rows) {
      if (row.internal) continue;
      if (Number(row.parent) !== 0 && !recreated.has(Number(row.parent))) unsafe.push(row.description);
    }
  }

  // Publication memberships: pg_dump --schema does not dump them. A manifest that recorded them
  // gives the backup's; an older one only lets the current ones be re-added when the table is back.
  const publicationSteps: string[] = [];
  if (manifest.publications) {
    for (const membership of manifest.publications) {
      after.push({
        sql: addMembershipSql(membership),
        what: `adding ${membership.table} to publication ${membership.publication}`,
      });
      publicationSteps.push(`${membership.table} to publication ${membership.publication}`);
    }
  } else if (publicationRelOids.length > 0) {
    const { rows } = await client.query<{
      publication: string;
      table: string;
      relkind: string;
      qual: string | null;
      columns: string | null;
    }>(
      `SELECT p.pubname AS publication, format('%I.%I', n.nspname, c.relname) AS table, c.relkind::text AS relkind,
              pg_get_expr(pr.prqual, pr.prrelid) AS qual,
              (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs::int2[])) AS columns
         FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
         JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE pr.oid = ANY($1::oid[])
        ORDER BY 1, 2`,
      [publicationRelOids],
    );
    for (const row of rows) {
      const add = `ALTER PUBLICATION ${ident(row.publication)} ADD TABLE ${row.relkind === 'p' ? '' : 'ONLY '}${row.table}${row.columns ? ` (${row.columns})` : ''}${row.qual ? ` WHERE (${row.qual})` : ''}`;
      after.push({
        // Only when the backup has the table (one created after the backup stays gone).
        sql: `DO $supagate$ BEGIN
                IF to_regclass(${literal(row.table)}) IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
                   WHERE p.pubname = ${literal(row.publication)} AND pr.prrelid = to_regclass(${literal(row.table)})) THEN
                  EXECUTE ${literal(add)};
                END IF;
              END $supagate$`,
        what: `re-adding ${row.table} to publication ${row.publication}`,
      });
      publicationSteps.push(`${row.table} to publication ${row.publication}`);
    }
  }
  if (publicationSchemaOids.length > 0) {
    const { rows } = await client.query<{ publication: string; schema: string }>(
      `SELECT p.pubname AS publication, n.nspname AS schema
         FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid JOIN pg_namespace n ON n.oid = pn.pnnspid
        WHERE pn.oid = ANY($1::oid[]) ORDER BY 1, 2`,
      [publicationSchemaOids],
    );
    for (const row of rows) {
      after.push({
        sql: `ALTER PUBLICATION ${ident(row.publication)} ADD TABLES IN SCHEMA ${ident(row.schema)}`,
        what: `re-adding schema ${row.schema} to publication ${row.publication}`,
      });
      publicationSteps.push(`the tables of schema ${row.schema} to publication ${row.publication}`);
    }
  }

  // Rows of other tables referencing the tables whose rows are replaced would block the delete
  // (or be deleted with them).
  if (partialOids.length > 0) {
    const { rows } = await client.query<{ referencing: string; constraint: string; referenced: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS referencing, con.conname AS constraint,
              format('%I.%I', rn.nspname, r.relname) AS referenced
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class r ON r.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE con.contype = 'f' AND con.confrelid = ANY($1::oid[]) AND NOT con.conrelid = ANY($1::oid[])
          AND NOT c.relnamespace = ANY($2::oid[])
        ORDER BY 1, 2`,
      [partialOids, insideOids],
    );
    for (const row of rows) {
      const { rows: any } = await client.query<{ found: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${row.referencing}) AS found`,
      );
      if (any[0]?.found) {
        unsafe.push(
          `rows of table ${row.referencing} (constraint ${row.constraint} references ${row.referenced}, whose rows the restore replaces)`,
        );
      }
    }
  }

  /* What runs before the restore SQL ----------------------------------------------------- */

  // Policies of the tables restored on their own go first: the drops below may cascade to them.
  const first: Statement[] = [];
  const firstSteps: string[] = [];
  const last: Statement[] = [];
  const lastSteps: string[] = [];
  // Tables restored on their own: RLS switches and policies as in the backup, rows replaced.
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

  const policyOnlyRestore = await policyOnlyStatements(client, manifest, policyOnly);
  first.push(...policyOnlyRestore.before);
  firstSteps.push(...policyOnlyRestore.steps);
  after.push(...policyOnlyRestore.after);

  before.push(...first);
  steps.push(...firstSteps);

  for (const schema of dropped) {
    before.push({ sql: `DROP SCHEMA ${ident(schema)} CASCADE`, what: `dropping schema ${schema}` });
    steps.push(`Drop schema ${schema} and everything in it (DROP SCHEMA … CASCADE); the backup recreates it`);
  }
  for (const schema of kept) {
    const oid = existing.get(schema) as number;
    const drops = await keptSchemaDrops(client, oid);
    for (const problem of drops.unknown) unsafe.push(problem);
    for (const drop of drops.statements) before.push({ sql: drop.sql, what: `dropping ${drop.description}` });
    steps.push(
      drops.statements.length === 0
        ? `Schema ${schema} holds no objects to drop`
        : `Drop the ${drops.statements.length} objects of schema ${schema} (${describeList(drops.statements.map((d) => d.description))}), keeping the schema itself${drops.extensions.length > 0 ? ` and the extensions in it (${drops.extensions.join(', ')})` : ''}`,
    );
    const reset = await schemaPrivilegeReset(client, oid, schema);
    if (reset.length > 0) {
      before.push(...reset.map((sql) => ({ sql, what: `resetting the privileges on schema ${schema}` })));
      steps.push(
        `Reset the privileges on schema ${schema} to its initial ones (${reset.length} GRANT/REVOKE); the backup's grants are applied again`,
      );
    }
    const defaults = await defaultPrivilegeReset(client, oid, schema);
    if (defaults.statements.length > 0) {
      before.push(
        ...defaults.statements.map((sql) => ({
          sql,
          what: `removing the default privileges in schema ${schema}`,
        })),
      );
      steps.push(
        `Remove the default privileges in schema ${schema} of ${describeList(defaults.roles.map((r) => `role ${r}`))}; the backup's are applied again`,
      );
    }
    before.push({
      sql: `COMMENT ON SCHEMA ${ident(schema)} IS NULL`,
      what: `clearing the comment on schema ${schema}`,
    });
  }

  before.push(...last);
  steps.push(...lastSteps);

  /* The entries to restore ---------------------------------------------------------------- */

  const { rows: actable } = await client.query<{ name: string }>(
    `SELECT rolname AS name FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER')`,
  );
  const canActFor = new Set(actable.map((row) => row.name));
  const ownedSequences = await sequencesOf(client, partialOids);
  const allSchemas = [...scope.wholeSchemas, ...scope.partialSchemas];
  const keep: TocEntry[] = [];
  let skippedDefaultAcls = 0;
  for (const entry of toc) {
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

  const kinds = new Map<string, number>();
  for (const entry of keep) kinds.set(entry.type ?? 'OTHER', (kinds.get(entry.type ?? 'OTHER') ?? 0) + 1);
  steps.push(
    `Restore ${keep.length} entries of the backup (${[...kinds]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${n} ${kind}`)
      .join(
        ', ',
      )}) with pg_restore --use-list, in the same transaction${skippedDefaultAcls > 0 ? `; ${skippedDefaultAcls} default privileges of roles the restoring user cannot act for are left as they are` : ''}`,
  );
  for (const trigger of recreatedTriggers) {
    steps.push(
      `Re-create trigger ${trigger.name} on ${trigger.table} (it calls ${trigger.function}, which the restore replaces)`,
    );
  }
  for (const step of publicationSteps)
    steps.push(
      manifest.publications ? `Add ${step}, as in the backup` : `Add ${step} again, if the backup has it`,
    );
  return { steps, before, after, keep, unsafe: [...new Set(unsafe)].sort() };
}

function existingOids(existing: Map<string, number>, schemas: string[]): number[] {
  return schemas.map((schema) => existing.get(schema) as number);
}

/**
 * Every object a DROP … CASCADE of the dropped schemas and of the kept schemas' objects would
 * reach, through pg_depend: dependents (of a column: only those of that column), and the owner
 * of whatever depends internally on something reached (a view, for its rule). `inside` when
 * the object lives in one of those schemas (so the backup brings it back).
 */
async function dependencyClosure(
  client: Client,
  droppedOids: number[],
  keptOids: number[],
  insideOids: number[],
): Promise<ClosureRow[]> {
  if (droppedOids.length === 0 && keptOids.length === 0) return [];
  const { rows } = await client.query<ClosureRow & { home: number | null }>(
    `WITH RECURSIVE seed(classid, objid) AS (
       SELECT 'pg_namespace'::regclass::oid, oid FROM pg_namespace WHERE oid = ANY($1::oid[])
       UNION
       SELECT d.classid, d.objid FROM pg_depend d
        WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = ANY($2::oid[]) AND d.deptype = 'n'
          AND d.classid <> 'pg_extension'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e')
     ), closure(classid, objid, objsubid) AS (
       SELECT classid, objid, 0 FROM seed
       UNION
       SELECT n.classid, n.objid, n.objsubid FROM closure c CROSS JOIN LATERAL (
         SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
          WHERE d.refclassid = c.classid AND d.refobjid = c.objid AND (c.objsubid = 0 OR d.refobjsubid = c.objsubid)
         UNION ALL
         SELECT d.refclassid, d.refobjid, 0 FROM pg_depend d
          WHERE d.classid = c.classid AND d.objid = c.objid AND d.objsubid = c.objsubid AND d.deptype = 'i'
       ) n
     ), homed AS (
       SELECT c.classid, c.objid, c.objsubid,
              CASE c.classid
                WHEN 'pg_namespace'::regclass THEN c.objid
                WHEN 'pg_class'::regclass THEN (
                  SELECT CASE WHEN r.relnamespace = 'pg_toast'::regnamespace
                              THEN (SELECT o.relnamespace FROM pg_class o
                                     WHERE o.reltoastrelid = coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = r.oid), r.oid))
                              ELSE r.relnamespace END
                    FROM pg_class r WHERE r.oid = c.objid)
                WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = c.objid)
                WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = c.objid)
                WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = c.objid)
                WHEN 'pg_trigger'::regclass THEN (SELECT r.relnamespace FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid WHERE t.oid = c.objid)
                WHEN 'pg_policy'::regclass THEN (SELECT r.relnamespace FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid WHERE p.oid = c.objid)
                WHEN 'pg_rewrite'::regclass THEN (SELECT r.relnamespace FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class WHERE w.oid = c.objid)
                WHEN 'pg_attrdef'::regclass THEN (SELECT r.relnamespace FROM pg_attrdef a JOIN pg_class r ON r.oid = a.adrelid WHERE a.oid = c.objid)
                WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = c.objid)
                WHEN 'pg_opclass'::regclass THEN (SELECT opcnamespace FROM pg_opclass WHERE oid = c.objid)
                WHEN 'pg_opfamily'::regclass THEN (SELECT opfnamespace FROM pg_opfamily WHERE oid = c.objid)
                WHEN 'pg_amop'::regclass THEN (SELECT f.opfnamespace FROM pg_amop a JOIN pg_opfamily f ON f.oid = a.amopfamily WHERE a.oid = c.objid)
                WHEN 'pg_amproc'::regclass THEN (SELECT f.opfnamespace FROM pg_amproc a JOIN pg_opfamily f ON f.oid = a.amprocfamily WHERE a.oid = c.objid)
                WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = c.objid)
                WHEN 'pg_conversion'::regclass THEN (SELECT connamespace FROM pg_conversion WHERE oid = c.objid)
                WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = c.objid)
                WHEN 'pg_ts_config'::regclass THEN (SELECT cfgnamespace FROM pg_ts_config WHERE oid = c.objid)
                WHEN 'pg_ts_dict'::regclass THEN (SELECT dictnamespace FROM pg_ts_dict WHERE oid = c.objid)
                WHEN 'pg_ts_parser'::regclass THEN (SELECT prsnamespace FROM pg_ts_parser WHERE oid = c.objid)
                WHEN 'pg_ts_template'::regclass THEN (SELECT tmplnamespace FROM pg_ts_template WHERE oid = c.objid)
                WHEN 'pg_default_acl'::regclass THEN (SELECT defaclnamespace FROM pg_default_acl WHERE oid = c.objid)
              END AS home
         FROM closure c
     )
     SELECT h.classid::regclass::text AS catalog, h.objid::int8::float8 AS objid, h.home::int8::float8 AS home,
            coalesce(h.home = ANY($3::oid[]), false) AS inside,
            EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = h.classid AND i.objid = h.objid AND i.deptype = 'i') AS internal,
            pg_describe_object(h.classid, h.objid, h.objsubid) AS description
       FROM homed h`,
    [droppedOids, keptOids, insideOids],
  );
  return rows.map((row) => ({ ...row, objid: Number(row.objid) }));
}

/** DROP statements for the objects of a kept schema: not its extensions' members. */
async function keptSchemaDrops(
  client: Client,
  oid: number,
): Promise<{ statements: { sql: string; description: string }[]; extensions: string[]; unknown: string[] }> {
  const { rows } = await client.query<{ type: string; identity: string }>(
    `SELECT o.type, o.identity
       FROM pg_depend d CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) AS o
      WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = $1::oid AND d.deptype = 'n'
        AND d.classid <> 'pg_extension'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype IN ('e', 'i'))`,
    [oid],
  );
  const { rows: extensions } = await client.query<{ name: string }>(
    `SELECT extname AS name FROM pg_extension WHERE extnamespace = $1::oid ORDER BY 1`,
    [oid],
  );
  const statements: { sql: string; description: string; order: number }[] = [];
  const unknown: string[] = [];
  for (const row of rows) {
    const drop = DROP_KEYWORDS[row.type];
    if (!drop) {
      unknown.push(`${row.type} ${row.identity} (the restore cannot drop this kind of object)`);
      continue;
    }
    statements.push({
      sql: `DROP ${drop.keyword} IF EXISTS ${row.identity} CASCADE`,
      description: `${row.type} ${row.identity}`,
      order: drop.order,
    });
  }
  statements.sort((a, b) => a.order - b.order || a.description.localeCompare(b.description));
  return {
    statements: statements.map(({ sql, description }) => ({ sql, description })),
    extensions: extensions.map((e) => e.name),
    unknown,
  };
}

/**
 * GRANT/REVOKE that bring a kept schema's privileges back to those pg_dump compares against
 * (its initial privileges, else the owner's defaults), so that the backup's ACL entry, which
 * holds the differences, reproduces the backup's privileges exactly.
 */
async function schemaPrivilegeReset(client: Client, oid: number, schema: string): Promise<string[]> {
  const { rows } = await client.query<{
    action: string;
    grantee: string;
    privilege: string;
    grantable: boolean;
  }>(
    `WITH s AS (
       SELECT n.oid, n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl,
              coalesce((SELECT i.initprivs FROM pg_init_privs i
                         WHERE i.objoid = n.oid AND i.classoid = 'pg_namespace'::regclass AND i.objsubid = 0),
                       acldefault('n', n.nspowner)) AS base
         FROM pg_namespace n WHERE n.oid = $1::oid
     ), now AS (SELECT (aclexplode(acl)).* FROM s), base AS (SELECT (aclexplode(base)).* FROM s),
     revoke AS (SELECT grantee, privilege_type, is_grantable FROM now EXCEPT SELECT grantee, privilege_type, is_grantable FROM base),
     grant_ AS (SELECT grantee, privilege_type, is_grantable FROM base EXCEPT SELECT grantee, privilege_type, is_grantable FROM now)
     SELECT 'revoke' AS action, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END AS grantee,
            privilege_type AS privilege, is_grantable AS grantable FROM revoke
     UNION ALL
     SELECT 'grant', CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END,
            privilege_type, is_grantable FROM grant_
     ORDER BY 1 DESC, 2, 3`,
    [oid],
  );
  return rows.map((row) =>
    row.action === 'revoke'
      ? `REVOKE ${row.privilege} ON SCHEMA ${ident(schema)} FROM ${row.grantee} CASCADE`
      : `GRANT ${row.privilege} ON SCHEMA ${ident(schema)} TO ${row.grantee}${row.grantable ? ' WITH GRANT OPTION' : ''}`,
  );
}

/** Removes a kept schema's default privileges, of the roles the current user can act for. */
async function defaultPrivilegeReset(
  client: Client,
  oid: number,
  schema: string,
): Promise<{ statements: string[]; roles: string[] }> {
  const { rows } = await client.query<{ role: string; type: string; grantee: string }>(
    `SELECT DISTINCT quote_ident(pg_get_userbyid(d.defaclrole)) AS role, d.defaclobjtype::text AS type,
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
       FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
      WHERE d.defaclnamespace = $1::oid AND pg_has_role(current_user, d.defaclrole, 'MEMBER')
      ORDER BY 1, 2, 3`,
    [oid],
  );
  const statements: string[] = [];
  for (const row of rows) {
    const keyword = DEFAULT_ACL_KEYWORDS[row.type];
    if (!keyword) continue;
    statements.push(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${row.role} IN SCHEMA ${ident(schema)} REVOKE ALL ON ${keyword} FROM ${row.grantee} CASCADE`,
    );
  }
  return { statements, roles: [...new Set(rows.map((row) => row.role))] };
}

/** The tables restored on their own, referenced tables before those referencing them. */
async function referencedFirst<T extends { name: string }>(
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
function orderPartialData(keep: TocEntry[], scope: RestoreScope): void {
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

async function sequencesOf(client: Client, tableOids: number[]): Promise<{ schema: string; name: string }[]> {
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

/* ------------------------------------------------------------------------------------------ */
/* Running it                                                                                  */
/* ------------------------------------------------------------------------------------------ */

async function runStatement(client: Client, statement: Statement): Promise<void> {
  try {
    await client.query(statement.sql, statement.params);
  } catch (error) {
    throw sqlFailed(statement.what, statement.sql, error);
  }
}

interface ScriptEntry {
  /** `TABLE public posts`, from pg_restore's `-- Name: posts; Type: TABLE; Schema: public` header. */
  label: string;
  type: string;
}

const ENTRY_HEADER = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*)$/;
const PREAMBLE_TIMEOUTS =
  /^SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout) = /;
const COPY_LINE = /^COPY .+ FROM stdin;$/;
const COPY_CHUNK_BYTES = 256 * 1024;

/**
 * Runs `pg_restore --use-list <list> --file=- <dump>` through the connection, entry by entry:
 * SQL as simple queries, COPY data streamed with the COPY protocol. Nothing is held in memory
 * but one entry's SQL and one chunk of rows.
 */
async function runRestoreScript(
  client: Client,
  pgRestore: FoundTool,
  listFile: string,
  dumpFile: string,
): Promise<void> {
  const child = spawn(pgRestore.path, ['--use-list', listFile, '--file=-', dumpFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  const script = new ScriptRunner(client);
  try {
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (;;) {
        const end = pending.indexOf(0x0a, start);
        if (end < 0) break;
        await script.line(pending.subarray(start, end));
        start = end + 1;
      }
      pending = Buffer.from(pending.subarray(start));
    }
    if (pending.length > 0) await script.line(pending);
    const { code, signal, error } = await exited;
    if (error || code !== 0) {
      const said = firstLines(redact(stderr));
      throw restoreFailed(
        error
          ? `pg_restore could not be started (${error.message})`
          : `pg_restore ${signal ? `was killed by ${signal}` : `exited with code ${code}`} after ${script.entries} entries${said ? `: ${said}` : ''}`,
      );
    }
    await script.finish();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await script.abort();
  }
}

class ScriptRunner {
  entries = 0;
  #client: Client;
  #sql: string[] = [];
  #entry: ScriptEntry = { label: 'the preamble of the restore script', type: '' };
  #preamble = true;
  #previous = '';
  #restrictKey: string | undefined;
  #copy: CopyFromStdin | undefined;
  #copyBuffer: Buffer[] = [];
  #copyBytes = 0;

  constructor(client: Client) {
    this.#client = client;
  }

  async line(raw: Buffer): Promise<void> {
    if (this.#copy) {
      if (raw.length === 2 && raw[0] === 0x5c && raw[1] === 0x2e) {
        await this.#endCopy();
        return;
      }
      this.#copyBuffer.push(raw, NEWLINE);
      this.#copyBytes += raw.length + 1;
      if (this.#copyBytes >= COPY_CHUNK_BYTES) await this.#flushCopy();
      return;
    }
    const line = raw.toString('utf8');
    const header = this.#previous === '--' ? ENTRY_HEADER.exec(line) : null;
    this.#previous = line;
    if (header) {
      await this.#flushSql();
      this.#preamble = false;
      this.entries++;
      const [, name, type, schema] = header as unknown as [string, string, string, string];
      this.#entry = { label: `${type} ${name}${schema === '-' ? '' : ` in schema ${schema}`}`, type };
      this.#sql.push(line);
      return;
    }
    if (this.#preamble) {
      const restrict = /^\\restrict (\S+)$/.exec(line);
      if (restrict) {
        this.#restrictKey = restrict[1];
        return;
      }
      if (PREAMBLE_TIMEOUTS.test(line)) return;
      const encoding = /^SET client_encoding = '(.*)';$/.exec(line);
      if (encoding && !/^utf-?8$/i.test(encoding[1] as string)) {
        throw restoreFailed(
          `the backup's encoding is ${encoding[1]}; only UTF8 backups can be restored this way`,
          { hint: `Restore it by hand with pg_restore. ${NOTHING_CHANGED}` },
        );
      }
    }
    if (this.#restrictKey !== undefined && line === `\\unrestrict ${this.#restrictKey}`) return;
    if (this.#entry.type === 'TABLE DATA' && COPY_LINE.test(line)) {
      await this.#flushSql();
      const copy = new CopyFromStdin(line);
      this.#copy = copy;
      this.#client.query(copy);
      try {
        await copy.started();
      } catch (error) {
        this.#copy = undefined;
        throw sqlFailed(`restoring ${this.#entry.label}`, line, error);
      }
      return;
    }
    this.#sql.push(line);
  }

  async finish(): Promise<void> {
    if (this.#copy) throw restoreFailed(`the restore script ended inside the rows of ${this.#entry.label}`);
    await this.#flushSql();
  }

  /** After a failure: ends a COPY in progress so that the connection can roll back. */
  async abort(): Promise<void> {
    const copy = this.#copy;
    this.#copy = undefined;
    if (!copy) return;
    // A broken connection never answers: the rollback that follows then fails and ends it.
    await Promise.race([
      copy.fail('supagate: restore aborted').catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
  }

  async #flushSql(): Promise<void> {
    const text = this.#sql.join('\n');
    this.#sql = [];
    if (!text.split('\n').some((line) => line.trim() !== '' && !line.startsWith('--'))) return;
    try {
      await this.#client.query(text);
    } catch (error) {
      throw sqlFailed(`restoring ${this.#entry.label}`, text, error);
    }
  }

  async #flushCopy(): Promise<void> {
    const copy = this.#copy as CopyFromStdin;
    const chunk = Buffer.concat(this.#copyBuffer);
    this.#copyBuffer = [];
    this.#copyBytes = 0;
    try {
      await copy.write(chunk);
    } catch (error) {
      this.#copy = undefined;
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    }
  }

  async #endCopy(): Promise<void> {
    if (this.#copyBytes > 0) await this.#flushCopy();
    const copy = this.#copy as CopyFromStdin;
    this.#copy = undefined;
    try {
      await copy.end();
    } catch (error) {
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    }
  }
}

const NEWLINE = Buffer.from('\n');

/** What pg's Connection offers a query in COPY IN mode (not in @types/pg). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & {
    writableNeedDrain?: boolean;
    once(event: string, listener: () => void): unknown;
  };
}

/**
 * `COPY … FROM stdin` as a pg Submittable: the client hands it the connection when the server
 * answers CopyInResponse; rows are then sent as CopyData, with backpressure.
 */
class CopyFromStdin implements pg.Submittable {
  readonly text: string;
  #connection: CopyConnection | undefined;
  #error: Error | undefined;
  #finished = false;
  #ready: Promise<void>;
  #done: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;

  constructor(text: string) {
    this.text = text;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.#ready.catch(() => {});
    this.#done.catch(() => {});
  }

  submit(connection: unknown): void {
    (connection as CopyConnection).query(this.text);
  }

  /** Resolves once the server accepts rows; rejects when the COPY statement failed. */
  started(): Promise<void> {
    return Promise.race([
      this.#ready,
      this.#done.then(() => {
        throw new Error('the statement did not start a COPY');
      }),
    ]);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#error) throw this.#error;
    const connection = this.#connection as CopyConnection;
    connection.sendCopyFromChunk(chunk);
    if (connection.stream.writableNeedDrain) {
      const stream = connection.stream as NodeJS.EventEmitter;
      await Promise.race([once(stream, 'drain'), once(stream, 'close'), this.#done]);
    }
    if (this.#error) throw this.#error;
  }

  end(): Promise<void> {
    if (!this.#error && !this.#finished) this.#connection?.endCopyFrom();
    return this.#done;
  }

  fail(message: string): Promise<void> {
    if (!this.#error && !this.#finished) this.#connection?.sendCopyFail(message);
    return this.#done;
  }

  handleCopyInResponse(connection: CopyConnection): void {
    this.#connection = connection;
    this.#resolveReady();
  }

  /** pg's client forgets the query on an error: its ReadyForQuery goes to no one, so this ends it. */
  handleError(error: Error): void {
    this.#error ??= error;
    this.#finished = true;
    this.#rejectReady(error);
    this.#rejectDone(error);
  }

  handleReadyForQuery(): void {
    this.#finished = true;
    this.#resolveDone();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------------ */
/* Policy-only managed tables (realtime.messages)                                              */
/* ------------------------------------------------------------------------------------------ */

interface PolicyOnlyTables {
  /** In the backup and in the target. */
  present: { name: string; oid: number; backup: TableRls }[];
  /** In the backup, not in the target (no Realtime here): nothing to put back. */
  missing: string[];
}

async function policyOnlyTables(client: Client, manifest: BackupManifest): Promise<PolicyOnlyTables> {
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
async function policyOnlyStatements(
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
function addMembershipSql(membership: PublicationMembership): string {
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

function createPolicySql(table: string, policy: PolicySnapshot): string {
  const roles = policy.roles.map((role) => (role === 'public' ? 'PUBLIC' : ident(role))).join(', ');
  return [
    `CREATE POLICY ${ident(policy.name)} ON ${table}`,
    `AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${policy.command}`,
    `TO ${roles || 'PUBLIC'}`,
    ...(policy.using ? [`USING (${policy.using})`] : []),
    ...(policy.withCheck ? [`WITH CHECK (${policy.withCheck})`] : []),
  ].join(' ');
}

async function verify(
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
async function withDefaultSearchPath<T>(client: Client, work: () => Promise<T>): Promise<T> {
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
  const names = [...new Set([...Object.keys(manifest.rowCounts), ...Object.keys(manifest.rls)])].sort();
  const { rows } = await client.query<{ name: string; oid: number | null }>(
    `SELECT name, to_regclass(name)::oid::int8::float8 AS oid FROM unnest($1::text[]) AS name`,
    [names],
  );
  const oids = new Map(rows.filter((r) => r.oid !== null).map((r) => [r.name, Number(r.oid)]));

  const countable = Object.keys(manifest.rowCounts)
    .filter((name) => oids.has(name))
    .map((name) => ({ name, oid: oids.get(name) as number }));
  const actual = await countRows(client, countable);
  const counts = Object.entries(manifest.rowCounts)
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

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function describeList(items: string[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function restoreFailed(
  reason: string,
  options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
): SupagateError {
  return new SupagateError('RESTORE_FAILED', `Restore failed: ${reason}`, {
    hint: options.hint ?? NOTHING_CHANGED,
    ...(options.details ? { details: options.details } : {}),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** A statement failed: names what it was doing and the statement (the line PostgreSQL points at). */
function sqlFailed(what: string, sql: string, error: unknown): SupagateError {
  if (error instanceof SupagateError) return error;
  const fields = pgErrorFields(error);
  const statement = statementAt(sql, fields.position);
  const lockTimeout = fields.code === '55P03';
  return restoreFailed(`${what}: ${fields.message}${statement ? ` (at: ${statement})` : ''}`, {
    hint: lockTimeout
      ? `Another session holds a lock the restore needs; retry when it is done, or raise the lock timeout. ${NOTHING_CHANGED}`
      : NOTHING_CHANGED,
    details: {
      step: what,
      ...(statement ? { statement } : {}),
      ...(fields.code ? { sqlstate: fields.code } : {}),
      ...(fields.detail ? { detail: fields.detail } : {}),
    },
    cause: error,
  });
}

/** The statement line an error position points at, else the first statement of the text. */
function statementAt(sql: string, position: string | undefined): string | undefined {
  const lines = sql.split('\n');
  if (position !== undefined && Number(position) > 0) {
    const index = Math.min(Number(position) - 1, sql.length - 1);
    const start = sql.lastIndexOf('\n', index) + 1;
    const end = sql.indexOf('\n', index);
    const line = sql.slice(start, end < 0 ? undefined : end).trim();
    if (line) return truncate(line);
  }
  const first = lines.find((line) => line.trim() !== '' && !line.startsWith('--'));
  return first === undefined ? undefined : truncate(first.trim());
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function unsafeDependents(manifest: BackupManifest, dependents: string[]): SupagateError {
  return new SupagateError(
    'RESTORE_UNSAFE',
    `Restoring backup ${manifest.id} would drop ${dependents.length} object${dependents.length === 1 ? '' : 's'} outside what it restores, which depend on objects it replaces and would not come back: ${describeList(dependents, 10)}`,
    {
      hint: 'Drop them first and re-create them after the restore (or restore by hand with pg_restore). Nothing was changed.',
      details: { backupId: manifest.id, dependents },
    },
  );
}
