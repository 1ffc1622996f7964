import type pg from 'pg';
import { aclParser } from './acl.js';
import { AGGREGATE_COLUMN, AGGREGATE_JOIN, type AggregateRow, aggregateOf } from './aggregates.js';
import {
  assembleForeign,
  columnOptionsSql,
  type ForeignColumnRow,
  type ForeignRows,
  foreignQueries,
} from './introspect-foreign.js';
import {
  assembleEventTriggers,
  type EventTriggerRow,
  eventTriggersQuery,
  type RuleRow,
  rulesQuery,
  toRule,
} from './introspect-rules.js';
import {
  type AclText,
  aclOf,
  attributeNames,
  collationOf,
  commentOf,
  compareText,
  extensionMember,
  type Nullable,
  objectAcl,
  oidArray,
  recordOf,
  routineIdentity,
  sortedRecord,
} from './introspect-sql.js';
import { assembleCollations, type TypeRows, toRangeType, typeQueries } from './introspect-types.js';
import type { CatalogRecords, CatalogScope } from './kinds/catalog-kind.js';
import { CATALOG_KINDS } from './kinds/index.js';
import {
  type Bucket,
  type Column,
  type ColumnStorage,
  type Constraint,
  type ConstraintType,
  type CronJob,
  type DefaultPrivilege,
  type Extension,
  type ForeignKeyAction,
  type Index,
  MANAGED_SCHEMAS,
  nonUserSchemas,
  type Platform,
  type Policy,
  type PolicyCommand,
  type Publication,
  type Routine,
  type Schema,
  type SchemaModel,
  type Sequence,
  type Table,
  TRACKED_MANAGED_TABLES,
  type Trigger,
  type TypeDefinition,
  type View,
  type ViewColumn,
} from './model.js';

/*
 * introspect: the system catalogs → SchemaModel.
 *
 * Set-based catalog queries (one per object kind, never one per object) in three round trips,
 * whatever the size of the database, all in one REPEATABLE READ READ ONLY transaction (so it
 * works on a read-only session too):
 *   1. BEGIN, the session settings deparsed text depends on, and what decides the rest (server
 *      version; whether cron.job and storage.buckets exist and can be read);
 *   2. schemas, extensions, types, sequences, relations (tables and views), functions, default
 *      privileges, publications, cron jobs, buckets, foreign data wrappers, servers, user
 *      mappings and foreign tables (introspect-foreign.ts), event triggers (introspect-rules.ts);
 *   3. the members of the relations found in 2 (columns, constraints, indexes, triggers, rules,
 *      policies; a foreign table's columns, CHECK constraints and triggers), selected by their oids, and
 *      COMMIT.
 * Each round trip is one multi-statement simple query.
 *
 * Deparsed text (format_type, pg_get_expr, pg_get_*def) depends on session settings: with
 * `search_path = pg_catalog` every name outside pg_catalog is schema-qualified, and dates,
 * times, intervals, floats and strings are rendered in fixed styles, so two databases with the
 * same schema give the same text whatever the caller's session looks like.
 *
 * Views are deparsed with pg_get_viewdef(oid, true) (pretty: the form psql shows).
 *
 * Note: PostgreSQL's deparse functions read the catalog caches, which see the latest committed
 * state rather than the transaction's snapshot (as for pg_dump), so DDL committed by others
 * while this runs can still show through.
 */

/** What introspect() reads besides the defaults. */
export interface IntrospectOptions {
  /** User schemas to read; default: every schema except nonUserSchemas(platform), pg_temp*\/pg_toast*. */
  schemas?: string[];
  /** Managed tables whose RLS flags, policies, grants and app triggers are read (as Table with managed: true and columns []): default TRACKED_MANAGED_TABLES. */
  policyTables?: string[];
  /** Default `supabase` (model.ts Platform). */
  platform?: Platform;
}

/** Round trip 1: the transaction and the settings deparsed text depends on. */
const SESSION_SETTINGS = [
  'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  'SET LOCAL search_path = pg_catalog',
  // The catalog queries are short: compiling them costs more than it saves (0.16 s at 1,000 tables).
  'SET LOCAL jit = off',
  'SET LOCAL quote_all_identifiers = off',
  'SET LOCAL standard_conforming_strings = on',
  "SET LOCAL DateStyle = 'ISO, YMD'",
  'SET LOCAL IntervalStyle = postgres',
  "SET LOCAL TimeZone = 'UTC'",
  'SET LOCAL extra_float_digits = 1',
  'SET LOCAL bytea_output = hex',
  "SET LOCAL lc_monetary = 'C'",
];

const META_QUERY = `SELECT current_setting('server_version_num')::int AS version,
  CASE WHEN to_regclass('cron.job') IS NULL THEN false
       ELSE has_table_privilege(to_regclass('cron.job'), 'SELECT') END AS cron,
  CASE WHEN to_regclass('storage.buckets') IS NULL THEN false
       ELSE has_table_privilege(to_regclass('storage.buckets'), 'SELECT') END AS buckets`;

/**
 * Reads the schema model of the database `client` is connected to. The client must not be in
 * a transaction (introspect opens and commits its own); the session's settings are left as
 * they were (the transaction sets them LOCAL).
 */
export async function introspect(client: pg.Client, options: IntrospectOptions = {}): Promise<SchemaModel> {
  const policyTables = options.policyTables ?? [...TRACKED_MANAGED_TABLES];
  let committed = false;
  try {
    const first = await multi(client, [...SESSION_SETTINGS, META_QUERY]);
    const meta = first[first.length - 1]?.rows[0] as MetaRow | undefined;
    if (!meta) throw new Error('introspect: the server returned no metadata');
    const sql = new CatalogQueries(client, meta.version, options, policyTables);

    const objects: [keyof ObjectResults, string][] = [
      ['schemas', sql.schemas()],
      ['extensions', sql.extensions()],
      ['types', sql.types()],
      ['sequences', sql.sequences()],
      ['relations', sql.relations()],
      ['functions', sql.functions()],
      ['defaultPrivileges', sql.defaultPrivileges()],
      ['publications', sql.publications()],
      ...(Object.entries(sql.foreign()) as [keyof ForeignRows, string][]),
      ...(Object.entries(typeQueries(sql.userSchemas)) as [keyof TypeRows, string][]),
      ['eventTriggers', sql.eventTriggers()],
    ];
    // A job of this database has no database name in the model: the shadow's database has another name.
    if (meta.cron)
      objects.push([
        'cronJobs',
        `SELECT to_jsonb(j) || jsonb_build_object('database', NULLIF(j.database, current_database())) AS job FROM cron.job j`,
      ]);
    if (meta.buckets) objects.push(['buckets', 'SELECT to_jsonb(b) AS bucket FROM storage.buckets b']);
    const catalogScope = sql.catalogScope(meta.version);
    const second = await multi(client, [
      ...objects.map(([, text]) => text),
      ...CATALOG_KINDS.map((kind) => kind.query(catalogScope)),
    ]);
    const found = collect<ObjectResults>(objects, second);
    const catalogRecords = assembleCatalogKinds(second.slice(objects.length));

    const relations = found.relations ?? [];
    const own = relations.filter((r) => !r.managed);
    const oids = (rows: RelationRow[]) => rows.map((r) => r.relid);
    const tables = own.filter((r) => r.kind === 'r' || r.kind === 'p');
    const inheriting = tables.filter((r) => (r.inherits?.length ?? 0) > 0);
    const foreignTables = (found.foreignTables ?? []).map((r) => r.relid);
    const members: [keyof MemberResults, string][] = [
      ['columns', sql.columns([...oids(own), ...foreignTables], oids(inheriting))],
      ['constraints', sql.constraints([...oids(tables), ...foreignTables])],
      ['indexes', sql.indexes(oids(own.filter((r) => r.kind !== 'v')))],
      [
        'triggers',
        sql.triggers(
          [...oids(own.filter((r) => r.kind !== 'm')), ...foreignTables],
          oids(relations.filter((r) => r.managed)),
        ),
      ],
      ['policies', sql.policies(oids(relations.filter((r) => r.kind === 'r' || r.kind === 'p')))],
      ['rules', rulesQuery(oids(own.filter((r) => r.kind !== 'm')))],
    ];
    const third = await multi(client, [...members.map(([, text]) => text), 'COMMIT']);
    committed = true;
    return { ...assemble(meta.version, found, collect<MemberResults>(members, third)), ...catalogRecords };
  } catch (error) {
    // A failed statement leaves the transaction open and aborted: end it (a no-op when not open).
    if (!committed) await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The catalog kinds' records (kinds/index.ts) from their query results, in CATALOG_KINDS order. */
function assembleCatalogKinds(results: pg.QueryResult[]): CatalogRecords {
  const records: Record<string, unknown> = {};
  CATALOG_KINDS.forEach((kind, i) => {
    records[kind.key] = kind.assemble(results[i]?.rows ?? []);
  });
  return records as CatalogRecords;
}

/** Runs statements as one multi-statement simple query: one round trip, one result each. */
async function multi(client: pg.Client, statements: string[]): Promise<pg.QueryResult[]> {
  const result = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(result) ? result : [result];
}

function collect<R>(queries: [keyof R, string][], results: pg.QueryResult[]): Partial<R> {
  const collected: Partial<R> = {};
  queries.forEach(([name], i) => {
    collected[name] = (results[i]?.rows ?? []) as R[keyof R];
  });
  return collected;
}

// ---------------------------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------------------------

class CatalogQueries {
  /** oids of the user schemas. */
  readonly userSchemas: string;

  constructor(
    private readonly client: pg.Client,
    private readonly version: number,
    { schemas, platform }: IntrospectOptions,
    private readonly policyTables: string[],
  ) {
    const filter = schemas
      ? `n.nspname = ANY (${this.textArray(schemas)})`
      : `n.nspname <> ALL (${this.textArray(nonUserSchemas(platform))}) AND n.nspname !~ '^pg_'`;
    this.userSchemas = `SELECT n.oid FROM pg_namespace n WHERE ${filter} AND NOT ${extensionMember('pg_namespace', 'n.oid')}`;
  }

  private textArray(values: readonly string[]): string {
    return `ARRAY[${values.map((value) => this.client.escapeLiteral(value)).join(', ')}]::text[]`;
  }

  schemas(): string {
    return `SELECT quote_ident(n.nspname) AS id, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner,
  ${commentOf('n.oid', 'pg_namespace')} AS comment,
  ${objectAcl('n.nspacl', 'n', 'n.nspowner')} AS grants
FROM pg_namespace n WHERE n.oid IN (${this.userSchemas})`;
  }

  /**
   * Every extension, wherever it lives (Supabase installs them into `extensions`), and the
   * version CREATE EXTENSION would install on this server (pg_available_extensions).
   */
  extensions(): string {
    return `SELECT e.extname::text AS name, n.nspname::text AS schema, e.extversion AS version,
  ae.default_version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  LEFT JOIN pg_available_extensions ae ON ae.name = e.extname`;
  }

  /** What the catalog kinds' queries are built from (kinds/catalog-kind.ts). */
  catalogScope(serverVersion: number): CatalogScope {
    return {
      userSchemas: this.userSchemas,
      managedSchemas: this.textArray(MANAGED_SCHEMAS),
      serverVersion,
      literal: (value) => this.client.escapeLiteral(value),
    };
  }

  /** The user's event triggers (introspect-rules.ts). */
  eventTriggers(): string {
    return eventTriggersQuery(this.textArray(MANAGED_SCHEMAS));
  }

  /** Foreign data wrappers, servers, user mappings and foreign tables (introspect-foreign.ts). */
  foreign(): Record<keyof ForeignRows, string> {
    return foreignQueries(this.client, this.userSchemas);
  }

  /** Enums, domains, and composite types that are not a relation's row type. */
  types(): string {
    return `SELECT format('%I.%I', n.nspname, t.typname) AS id, n.nspname::text AS schema, t.typname::text AS name,
  t.typtype::text AS typtype, pg_get_userbyid(t.typowner)::text AS owner, ${commentOf('t.oid', 'pg_type')} AS comment,
  CASE WHEN t.typtype = 'e' THEN
    ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
  t.typnotnull AS not_null,
  CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END AS "default",
  CASE WHEN t.typtype = 'd' THEN ${collationOf('t.typcollation', 'bt.typcollation')} END AS collation,
  CASE WHEN t.typtype = 'd' THEN
    (SELECT coalesce(json_agg(json_build_object('name', con.conname, 'definition', pg_get_constraintdef(con.oid))), '[]'::json)
       FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c') END AS checks,
  CASE WHEN t.typtype = 'c' THEN
    (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                                'collation', ${collationOf('a.attcollation', 'at.typcollation')}) ORDER BY a.attnum), '[]'::json)
       FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END AS attributes
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE t.typnamespace IN (${this.userSchemas})
  AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
  AND NOT ${extensionMember('pg_type', 't.oid')}`;
  }

  /** All sequences of the user schemas, identity and serial ones included. */
  sequences(): string {
    return `SELECT format('%I.%I', n.nspname, c.relname) AS id, n.nspname::text AS schema, c.relname::text AS name,
  pg_get_userbyid(c.relowner)::text AS owner, format_type(s.seqtypid, NULL) AS data_type,
  s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
  s.seqcache::text AS cache, s.seqcycle AS cycle,
  (SELECT format('%I.%I.%I', tn.nspname, tc.relname, ta.attname)
     FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
     JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
      AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    LIMIT 1) AS owned_by,
  ${commentOf('c.oid', 'pg_class')} AS comment,
  ${objectAcl('c.relacl', 's', 'c.relowner')} AS grants
FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND c.relnamespace IN (${this.userSchemas}) AND NOT ${extensionMember('pg_class', 'c.oid')}`;
  }

  /**
   * Tables, partitioned tables, views and materialized views of the user schemas, and the
   * tracked managed tables (managed: only their RLS, policies, grants and owner are used).
   */
  relations(): string {
    const option = (name: string) =>
      `(SELECT o.option_value FROM pg_options_to_table(c.reloptions) o WHERE o.option_name = '${name}')`;
    return `WITH ns AS (${this.userSchemas})
SELECT c.oid AS relid, format('%I.%I', n.nspname, c.relname) AS id, n.nspname::text AS schema, c.relname::text AS name,
  c.relkind::text AS kind, pg_get_userbyid(c.relowner)::text AS owner, c.relnamespace NOT IN (SELECT ns.oid FROM ns) AS managed,
  c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
  CASE WHEN c.relispartition THEN
    (SELECT format('%I.%I', pn.nspname, pc.relname)
       FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE i.inhrelid = c.oid LIMIT 1) END AS partition_of,
  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
  c.relreplident::text AS replica_identity, c.relpersistence::text AS persistence,
  CASE WHEN c.relkind IN ('r', 'p', 'm') THEN c.reloptions::text[] END AS storage_parameters,
  CASE WHEN c.relkind IN ('r', 'p', 'm') THEN tc.reloptions::text[] END AS toast_parameters,
  CASE WHEN c.relkind = 'r' AND NOT c.relispartition THEN inh.parents END AS inherits,
  ${commentOf('c.oid', 'pg_class')} AS comment,
  ${objectAcl('c.relacl', 'r', 'c.relowner')} AS grants,
  c.reltuples::float8 AS estimated_rows, c.relpages AS pages,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
  coalesce(${option('security_invoker')}::boolean, false) AS security_invoker,
  coalesce(${option('security_barrier')}::boolean, false) AS security_barrier,
  lower(${option('check_option')}) AS check_option,
  c.relispopulated AS populated
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
  LEFT JOIN (SELECT i.inhrelid, array_agg(format('%I.%I', pn.nspname, pc.relname) ORDER BY i.inhseqno) AS parents
               FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
              WHERE pc.relkind = 'r' GROUP BY i.inhrelid) inh ON inh.inhrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND (c.relnamespace IN (SELECT ns.oid FROM ns)
       OR (c.relkind IN ('r', 'p') AND format('%I.%I', n.nspname, c.relname) = ANY (${this.textArray(this.policyTables)}))
       OR (c.relkind IN ('r', 'p') AND n.nspname = ANY (${this.textArray(MANAGED_SCHEMAS)}) AND ${this.hasAppTrigger('c.oid')}))
  AND NOT ${extensionMember('pg_class', 'c.oid')}`;
  }

  /**
   * Columns of the given relations, in attnum order. Of the tables in `inheriting` (INHERITS,
   * not partitions), the parents each inherited column comes from.
   */
  columns(relations: number[], inheriting: number[]): string {
    const from =
      inheriting.length === 0
        ? 'NULL::text[]'
        : `CASE WHEN a.attinhcount > 0 AND a.attrelid = ANY (${oidArray(inheriting)}) THEN
    ARRAY(SELECT format('%I.%I', pn.nspname, pc.relname)
            FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            JOIN pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = a.attname AND NOT pa.attisdropped
           WHERE i.inhrelid = a.attrelid ORDER BY i.inhseqno) END`;
    return `SELECT a.attrelid AS relid, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
  a.attnotnull AS not_null,
  CASE WHEN a.attgenerated::text = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS "default",
  CASE WHEN a.attgenerated::text <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
  a.attidentity::text AS identity,
  ${collationOf('a.attcollation', 't.typcollation')} AS collation,
  ${commentOf('a.attrelid', 'pg_class', 'a.attnum')} AS comment,
  ${aclOf('a.attacl')} AS grants,
  CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END AS statistics,
  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
  ${from} AS inherited_from, a.attislocal AS local,
  ${columnOptionsSql(this.client)} AS fdw_options
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = ANY (${oidArray(relations)}) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;
  }

  /**
   * Constraints declared on the tables themselves. Copies PostgreSQL makes on its own are left
   * out (as pg_dump does): a partition's copies of its parent's constraints (not local, or with
   * a parent constraint) and the per-partition foreign keys it adds for a referenced
   * partitioned table. NOT NULL is a column attribute in PostgreSQL 15, not a constraint row.
   */
  constraints(tables: number[]): string {
    return `SELECT con.conrelid AS relid, con.conname::text AS name, con.contype::text AS type,
  pg_get_constraintdef(con.oid) AS definition, ${attributeNames('con.conkey', 'con.conrelid')} AS columns,
  con.convalidated AS validated, con.condeferrable AS deferrable, con.condeferred AS initially_deferred,
  CASE WHEN con.contype = 'f' THEN format('%I.%I', fn.nspname, fc.relname) END AS ref_table,
  ${attributeNames('con.confkey', 'con.confrelid')} AS ref_columns,
  con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete,
  ${commentOf('con.oid', 'pg_constraint')} AS comment
FROM pg_constraint con
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY (${oidArray(tables)}) AND con.contype IN ('p', 'f', 'u', 'c', 'x')
  AND con.conislocal AND con.conparentid = 0`;
  }

  /** Indexes of the given tables and materialized views, without a partition's copies of its parent's indexes. */
  indexes(relations: number[]): string {
    return `SELECT i.indrelid AS relid, ic.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition,
  i.indisunique AS "unique", i.indisprimary AS "primary",
  (SELECT con.conname::text FROM pg_constraint con
    WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS "constraint",
  ARRAY(SELECT CASE WHEN i.indkey[k] = 0 THEN pg_get_indexdef(i.indexrelid, k + 1, true)
                    ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k]) END
          FROM generate_series(0, i.indnkeyatts - 1) k ORDER BY k) AS columns,
  i.indisvalid AS valid, ${commentOf('i.indexrelid', 'pg_class')} AS comment
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY (${oidArray(relations)})
  AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)`;
  }

  /**
   * User triggers of tables, views (INSTEAD OF) and foreign tables: not the internal ones (foreign keys) nor a partition's clones of its parent's
   * triggers. On managed tables, only those running a function outside the managed schemas (the
   * app's, e.g. auth.users → public.handle_new_user()): the platform's own run its functions.
   */
  triggers(tables: number[], managedTables: number[]): string {
    const clone = this.version >= 130000 ? ' AND t.tgparentid = 0' : '';
    const appFunction = this.appFunction('pn');
    return `SELECT t.tgrelid AS relid, t.tgname::text AS name, pg_get_triggerdef(t.oid) AS definition,
  ${routineIdentity('p', 'pn')} AS function, t.tgenabled::text AS enabled,
  ${commentOf('t.oid', 'pg_trigger')} AS comment
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE (t.tgrelid = ANY (${oidArray(tables)}) OR (t.tgrelid = ANY (${oidArray(managedTables)}) AND ${appFunction}))
  AND NOT t.tgisinternal${clone}`;
  }

  /** The function's schema (alias `pn`) is the app's: not a managed or system schema. */
  private appFunction(namespace: string): string {
    return `${namespace}.nspname <> ALL (${this.textArray(MANAGED_SCHEMAS)}) AND ${namespace}.nspname !~ '^pg_'`;
  }

  /**
   * A managed table that a migration put a trigger on (auth.identities → public.sync_identity()):
   * read like the tracked ones, so that the trigger is planned, drifted and restored.
   */
  private hasAppTrigger(table: string): string {
    return `EXISTS (SELECT 1 FROM pg_trigger at JOIN pg_proc ap ON ap.oid = at.tgfoid
  JOIN pg_namespace apn ON apn.oid = ap.pronamespace
  WHERE at.tgrelid = ${table} AND NOT at.tgisinternal AND ${this.appFunction('apn')})`;
  }

  /** Policies of the given tables (managed ones included). */
  policies(tables: number[]): string {
    return `SELECT pol.polrelid AS relid, pol.polname::text AS name, pol.polcmd::text AS command, pol.polpermissive AS permissive,
  ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END FROM unnest(pol.polroles) r) AS roles,
  pg_get_expr(pol.polqual, pol.polrelid) AS using, pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check,
  ${commentOf('pol.oid', 'pg_policy')} AS comment
FROM pg_policy pol
WHERE pol.polrelid = ANY (${oidArray(tables)})`;
  }

  /**
   * Functions, procedures, aggregates and window functions of the user schemas; not the ones a
   * type makes for itself (a range type's and its multirange's constructors: an implicit
   * dependency on the type), which come and go with the type. An aggregate's pg_aggregate row
   * comes with it (aggregates.ts).
   */
  functions(): string {
    // SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) have no prosrc: read the deparsed body.
    const body =
      this.version >= 140000
        ? 'CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END'
        : 'p.prosrc';
    return `SELECT ${routineIdentity('p', 'n')} AS id, n.nspname::text AS schema, p.proname::text AS name,
  p.prokind::text AS kind, pg_get_function_identity_arguments(p.oid) AS identity_arguments,
  pg_get_function_arguments(p.oid) AS arguments,
  CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns,
  l.lanname::text AS language, ${body} AS body,
  CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
  p.provolatile::text AS volatility, p.prosecdef AS security_definer, p.proisstrict AS strict,
  p.proleakproof AS leakproof, p.proparallel::text AS parallel, coalesce(p.proconfig, '{}')::text[] AS config,
  pg_get_userbyid(p.proowner)::text AS owner, ${commentOf('p.oid', 'pg_proc')} AS comment,
  ${objectAcl('p.proacl', 'f', 'p.proowner')} AS grants,
  ${AGGREGATE_COLUMN} AS aggregate
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
  ${AGGREGATE_JOIN}
WHERE p.pronamespace IN (${this.userSchemas}) AND NOT ${extensionMember('pg_proc', 'p.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_depend td WHERE td.classid = 'pg_proc'::regclass AND td.objid = p.oid
                    AND td.refclassid = 'pg_type'::regclass AND td.deptype = 'i')`;
  }

  /** Default privileges for every schema (schema null) and for the user schemas. */
  defaultPrivileges(): string {
    return `SELECT pg_get_userbyid(d.defaclrole)::text AS role,
  CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname::text END AS schema,
  d.defaclobjtype::text AS object_type, ${aclOf('d.defaclacl')} AS grants
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (${this.userSchemas})`;
  }

  /**
   * Publications with their tables: added one by one, or (PostgreSQL 15+) by schema; and
   * (PostgreSQL 15+) the column lists and row filters of the tables added one by one.
   */
  publications(): string {
    const relation = `format('%I.%I', n.nspname, c.relname)`;
    const perTable = (value: string, present: string) =>
      `(SELECT json_object_agg(${relation}, ${value}) FROM pg_publication_rel pr
          JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE pr.prpubid = p.oid AND ${present})`;
    const filters =
      this.version >= 150000
        ? `,
  ${perTable(attributeNames('pr.prattrs::int2[]', 'pr.prrelid'), 'pr.prattrs IS NOT NULL')} AS column_lists,
  ${perTable('pg_get_expr(pr.prqual, pr.prrelid)', 'pr.prqual IS NOT NULL')} AS row_filters`
        : '';
    const inSchemas =
      this.version >= 150000
        ? `UNION
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_publication_namespace pns
          JOIN pg_class c ON c.relnamespace = pns.pnnspid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE pns.pnpubid = p.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition`
        : '';
    return `SELECT p.pubname::text AS name, p.puballtables AS all_tables,
  p.pubinsert AS insert, p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_publication_rel pr
          JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE pr.prpubid = p.oid
        ${inSchemas}) AS tables${filters}
FROM pg_publication p WHERE NOT ${extensionMember('pg_publication', 'p.oid')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

interface MetaRow {
  version: number;
  cron: boolean;
  buckets: boolean;
}

interface SchemaRow {
  id: string;
  name: string;
  owner: string;
  comment: Nullable<string>;
  grants: AclText;
}

interface TypeRow {
  id: string;
  schema: string;
  name: string;
  typtype: 'e' | 'd' | 'c';
  owner: string;
  comment: Nullable<string>;
  labels: Nullable<string[]>;
  base_type: Nullable<string>;
  not_null: boolean;
  default: Nullable<string>;
  collation: Nullable<string>;
  checks: Nullable<{ name: string; definition: string }[]>;
  attributes: Nullable<{ name: string; type: string; collation: Nullable<string> }[]>;
}

interface SequenceRow {
  id: string;
  schema: string;
  name: string;
  owner: string;
  data_type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  owned_by: Nullable<string>;
  comment: Nullable<string>;
  grants: AclText;
}

interface RelationRow {
  relid: number;
  id: string;
  schema: string;
  name: string;
  kind: 'r' | 'p' | 'v' | 'm';
  owner: string;
  managed: boolean;
  rls_enabled: boolean;
  rls_forced: boolean;
  partition_key: Nullable<string>;
  partition_of: Nullable<string>;
  partition_bound: Nullable<string>;
  replica_identity: 'd' | 'n' | 'f' | 'i';
  persistence: 'p' | 'u' | 't';
  storage_parameters: Nullable<string[]>;
  toast_parameters: Nullable<string[]>;
  inherits: Nullable<string[]>;
  comment: Nullable<string>;
  grants: AclText;
  estimated_rows: number;
  pages: number;
  definition: Nullable<string>;
  security_invoker: boolean;
  security_barrier: boolean;
  check_option: Nullable<string>;
  populated: boolean;
}

interface ColumnRow {
  relid: number;
  name: string;
  type: string;
  not_null: boolean;
  default: Nullable<string>;
  generated: Nullable<string>;
  identity: '' | 'a' | 'd';
  collation: Nullable<string>;
  comment: Nullable<string>;
  grants: AclText;
  statistics: Nullable<number>;
  storage: Nullable<'p' | 'e' | 'x' | 'm'>;
  inherited_from: Nullable<string[]>;
  local: boolean;
  fdw_options: Nullable<Record<string, string>>;
}

interface ConstraintRow {
  relid: number;
  name: string;
  type: 'p' | 'f' | 'u' | 'c' | 'x';
  definition: string;
  columns: string[];
  validated: boolean;
  deferrable: boolean;
  initially_deferred: boolean;
  ref_table: Nullable<string>;
  ref_columns: string[];
  on_update: string;
  on_delete: string;
  comment: Nullable<string>;
}

interface IndexRow {
  relid: number;
  name: string;
  definition: string;
  unique: boolean;
  primary: boolean;
  constraint: Nullable<string>;
  columns: string[];
  valid: boolean;
  comment: Nullable<string>;
}

interface TriggerRow {
  relid: number;
  name: string;
  definition: string;
  function: string;
  enabled: 'O' | 'D' | 'R' | 'A';
  comment: Nullable<string>;
}

interface PolicyRow {
  relid: number;
  name: string;
  command: 'r' | 'a' | 'w' | 'd' | '*';
  permissive: boolean;
  roles: string[];
  using: Nullable<string>;
  with_check: Nullable<string>;
  comment: Nullable<string>;
}

interface FunctionRow {
  id: string;
  schema: string;
  name: string;
  kind: 'f' | 'p' | 'a' | 'w';
  identity_arguments: string;
  arguments: string;
  returns: Nullable<string>;
  language: string;
  body: Nullable<string>;
  definition: Nullable<string>;
  volatility: 'i' | 's' | 'v';
  security_definer: boolean;
  strict: boolean;
  leakproof: boolean;
  parallel: 's' | 'r' | 'u';
  config: string[];
  owner: string;
  comment: Nullable<string>;
  grants: AclText;
  /** pg_aggregate's row (aggregates.ts), null for other routines. */
  aggregate: Nullable<AggregateRow>;
}

interface DefaultPrivilegeRow {
  role: string;
  schema: Nullable<string>;
  object_type: string;
  grants: AclText;
}

interface PublicationRow {
  name: string;
  all_tables: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  truncate: boolean;
  tables: string[];
  column_lists?: Nullable<Record<string, string[]>>;
  row_filters?: Nullable<Record<string, string>>;
}

interface ExtensionRow {
  name: string;
  schema: string;
  version: string;
  default_version: Nullable<string>;
}

interface ObjectResults extends ForeignRows, TypeRows {
  schemas: SchemaRow[];
  extensions: ExtensionRow[];
  types: TypeRow[];
  sequences: SequenceRow[];
  relations: RelationRow[];
  functions: FunctionRow[];
  defaultPrivileges: DefaultPrivilegeRow[];
  publications: PublicationRow[];
  cronJobs: { job: Record<string, unknown> }[];
  buckets: { bucket: Record<string, unknown> }[];
  eventTriggers: EventTriggerRow[];
}

interface MemberResults {
  columns: ColumnRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  triggers: TriggerRow[];
  policies: PolicyRow[];
  rules: RuleRow[];
}

// ---------------------------------------------------------------------------------------------
// Rows → model
// ---------------------------------------------------------------------------------------------

/** Groups member rows by their relation, in query order. */
function byRelation<R extends { relid: number }>(rows: R[] | undefined): Map<number, R[]> {
  const groups = new Map<number, R[]>();
  for (const row of rows ?? []) {
    const group = groups.get(row.relid);
    if (group) group.push(row);
    else groups.set(row.relid, [row]);
  }
  return groups;
}

const FK_ACTIONS: Record<string, ForeignKeyAction> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

const CONSTRAINT_TYPES: Record<ConstraintRow['type'], ConstraintType> = {
  p: 'primary key',
  f: 'foreign key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
};

const TRIGGER_ENABLED: Record<TriggerRow['enabled'], Trigger['enabled']> = {
  O: 'origin',
  D: 'disabled',
  R: 'replica',
  A: 'always',
};

const POLICY_COMMANDS: Record<PolicyRow['command'], PolicyCommand> = {
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
  '*': 'ALL',
};

const REPLICA_IDENTITY: Record<RelationRow['replica_identity'], Table['replicaIdentity']> = {
  d: 'default',
  n: 'nothing',
  f: 'full',
  i: 'index',
};

const ROUTINE_KINDS: Record<FunctionRow['kind'], Routine['kind']> = {
  f: 'function',
  p: 'procedure',
  a: 'aggregate',
  w: 'window',
};

const VOLATILITY: Record<FunctionRow['volatility'], Routine['volatility']> = {
  i: 'immutable',
  s: 'stable',
  v: 'volatile',
};

const PARALLEL: Record<FunctionRow['parallel'], Routine['parallel']> = {
  s: 'safe',
  r: 'restricted',
  u: 'unsafe',
};

const DEFAULT_ACL_TYPES: Record<string, DefaultPrivilege['objectType']> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
  T: 'types',
  n: 'schemas',
};

const COLUMN_STORAGE: Record<NonNullable<ColumnRow['storage']>, ColumnStorage> = {
  p: 'plain',
  e: 'external',
  x: 'extended',
  m: 'main',
};

/** A table's or materialized view's reloptions (its TOAST table's as `toast.…`), sorted. */
function storageParameters(row: RelationRow): string[] {
  if (row.storage_parameters === null && row.toast_parameters === null) return [];
  return [...(row.storage_parameters ?? []), ...(row.toast_parameters ?? []).map((o) => `toast.${o}`)].sort(
    compareText,
  );
}

/** `{ [key]: list }` when the list has items, else nothing: optional attributes are absent at their default. */
function optionalList<K extends string>(key: K, list: string[]): { [P in K]?: string[] } {
  return (list.length > 0 ? { [key]: list } : {}) as { [P in K]?: string[] };
}

/** `{ [key]: record }` when the record has entries, else nothing. */
function optionalRecord<K extends string, T>(
  key: K,
  record: Record<string, T>,
): { [P in K]?: Record<string, T> } {
  return (Object.keys(record).length > 0 ? { [key]: record } : {}) as { [P in K]?: Record<string, T> };
}

function toType(row: TypeRow): TypeDefinition {
  const base = { schema: row.schema, name: row.name, owner: row.owner, comment: row.comment };
  if (row.typtype === 'e') return { ...base, kind: 'enum', labels: row.labels ?? [] };
  if (row.typtype === 'd') {
    return {
      ...base,
      kind: 'domain',
      baseType: row.base_type ?? '',
      notNull: row.not_null,
      default: row.default,
      collation: row.collation,
      checks: [...(row.checks ?? [])].sort(
        (a, b) => compareText(a.name, b.name) || compareText(a.definition, b.definition),
      ),
    };
  }
  return { ...base, kind: 'composite', attributes: row.attributes ?? [] };
}

function toConstraint(row: ConstraintRow): Constraint {
  return {
    name: row.name,
    type: CONSTRAINT_TYPES[row.type],
    definition: row.definition,
    columns: row.columns,
    validated: row.validated,
    deferrable: row.deferrable,
    initiallyDeferred: row.initially_deferred,
    references:
      row.type === 'f' && row.ref_table
        ? {
            table: row.ref_table,
            columns: row.ref_columns,
            onUpdate: FK_ACTIONS[row.on_update] ?? 'no action',
            onDelete: FK_ACTIONS[row.on_delete] ?? 'no action',
          }
        : null,
    comment: row.comment,
  };
}

function toIndex(row: IndexRow): Index {
  return {
    name: row.name,
    definition: row.definition,
    unique: row.unique,
    primary: row.primary,
    constraint: row.constraint,
    columns: row.columns,
    valid: row.valid,
    comment: row.comment,
  };
}

function toTrigger(row: TriggerRow): Trigger {
  return {
    name: row.name,
    definition: row.definition,
    function: row.function,
    enabled: TRIGGER_ENABLED[row.enabled],
    comment: row.comment,
  };
}

function toPolicy(row: PolicyRow, table: string): Policy {
  return {
    name: row.name,
    table,
    command: POLICY_COMMANDS[row.command],
    permissive: row.permissive,
    roles: [...row.roles].sort(compareText),
    using: row.using,
    withCheck: row.with_check,
    comment: row.comment,
  };
}

function toCronJob(job: Record<string, unknown>): CronJob {
  const name = typeof job.jobname === 'string' && job.jobname !== '' ? job.jobname : `job-${job.jobid}`;
  return {
    name,
    schedule: String(job.schedule ?? ''),
    command: String(job.command ?? ''),
    database: String(job.database ?? ''),
    username: String(job.username ?? ''),
    // pg_cron before 1.3 has no `active` column: every job is active.
    active: job.active === undefined ? true : job.active === true,
  };
}

function toBucket(bucket: Record<string, unknown>): Bucket {
  const limit = bucket.file_size_limit;
  const mimeTypes = bucket.allowed_mime_types;
  return {
    id: String(bucket.id),
    name: String(bucket.name ?? bucket.id),
    public: bucket.public === true,
    fileSizeLimit: typeof limit === 'number' ? limit : typeof limit === 'string' ? Number(limit) : null,
    allowedMimeTypes: Array.isArray(mimeTypes) ? mimeTypes.map(String) : null,
  };
}

function compareDefaultPrivileges(a: DefaultPrivilege, b: DefaultPrivilege): number {
  if (a.role !== b.role) return compareText(a.role, b.role);
  if (a.schema !== b.schema) {
    if (a.schema === null) return -1;
    if (b.schema === null) return 1;
    return compareText(a.schema, b.schema);
  }
  return compareText(a.objectType, b.objectType);
}

function assemble(
  serverVersion: number,
  objects: Partial<ObjectResults>,
  members: Partial<MemberResults>,
): SchemaModel {
  const grants = aclParser();
  const columns = byRelation(members.columns);
  const constraints = byRelation(members.constraints);
  const indexes = byRelation(members.indexes);
  const triggers = byRelation(members.triggers);
  const policies = byRelation(members.policies);
  const indexesOf = (relid: number) => recordOf((indexes.get(relid) ?? []).map(toIndex), (i) => i.name);
  const triggersOf = (relid: number) => recordOf((triggers.get(relid) ?? []).map(toTrigger), (t) => t.name);
  const rules = byRelation(members.rules);
  const rulesOf = (relid: number) => recordOf((rules.get(relid) ?? []).map(toRule), (r) => r.name);

  const tables: [string, Table][] = [];
  const views: [string, View][] = [];
  for (const row of objects.relations ?? []) {
    if (row.kind === 'v' || row.kind === 'm') {
      views.push([
        row.id,
        {
          schema: row.schema,
          name: row.name,
          kind: row.kind === 'm' ? 'materialized' : 'view',
          owner: row.owner,
          definition: row.definition ?? '',
          securityInvoker: row.security_invoker,
          securityBarrier: row.security_barrier,
          checkOption:
            row.check_option === 'local' || row.check_option === 'cascaded' ? row.check_option : null,
          comment: row.comment,
          columns: (columns.get(row.relid) ?? []).map(
            (c): ViewColumn => ({
              name: c.name,
              type: c.type,
              comment: c.comment,
              ...(c.default !== null ? { default: c.default } : {}),
            }),
          ),
          indexes: indexesOf(row.relid),
          ...optionalRecord('triggers', triggersOf(row.relid)),
          ...optionalRecord('rules', rulesOf(row.relid)),
          grants: grants(row.grants),
          populated: row.populated,
          ...optionalList('storageParameters', storageParameters(row)),
        },
      ]);
      continue;
    }
    tables.push([
      row.id,
      {
        schema: row.schema,
        name: row.name,
        kind: row.kind === 'p' ? 'partitioned' : 'table',
        owner: row.owner,
        managed: row.managed,
        rlsEnabled: row.rls_enabled,
        rlsForced: row.rls_forced,
        partitionKey: row.partition_key,
        partitionOf: row.partition_of,
        partitionBound: row.partition_bound,
        replicaIdentity: REPLICA_IDENTITY[row.replica_identity],
        // Of a managed table only RLS, policies, grants and the owner are read.
        ...(row.persistence === 'u' && !row.managed ? { persistence: 'unlogged' as const } : {}),
        ...optionalList('storageParameters', row.managed ? [] : storageParameters(row)),
        ...optionalList('inherits', row.managed ? [] : (row.inherits ?? [])),
        comment: row.managed ? null : row.comment,
        columns: (columns.get(row.relid) ?? []).map(
          (c): Column => ({
            name: c.name,
            type: c.type,
            notNull: c.not_null,
            default: c.default,
            identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
            generated: c.generated,
            collation: c.collation,
            comment: c.comment,
            grants: grants(c.grants),
            ...(c.statistics !== null ? { statistics: c.statistics } : {}),
            ...(c.storage !== null ? { storage: COLUMN_STORAGE[c.storage] } : {}),
            ...(c.inherited_from !== null && c.inherited_from.length > 0
              ? { inherited: { from: c.inherited_from, local: c.local } }
              : {}),
          }),
        ),
        constraints: recordOf((constraints.get(row.relid) ?? []).map(toConstraint), (c) => c.name),
        indexes: indexesOf(row.relid),
        triggers: triggersOf(row.relid),
        ...optionalRecord('rules', rulesOf(row.relid)),
        policies: recordOf(
          (policies.get(row.relid) ?? []).map((p) => toPolicy(p, row.id)),
          (p) => p.name,
        ),
        grants: grants(row.grants),
        // reltuples is -1 for a table never vacuumed or analyzed.
        stats: { estimatedRows: Math.max(0, Math.round(row.estimated_rows)), pages: row.pages },
      },
    ]);
  }

  const functions = (objects.functions ?? []).map((row): [string, Routine] => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      kind: ROUTINE_KINDS[row.kind],
      identityArguments: row.identity_arguments,
      arguments: row.arguments,
      returns: row.kind === 'p' ? null : row.returns,
      language: row.language,
      body: row.body ?? '',
      definition: row.definition,
      volatility: VOLATILITY[row.volatility],
      securityDefiner: row.security_definer,
      strict: row.strict,
      leakproof: row.leakproof,
      parallel: PARALLEL[row.parallel],
      config: row.config,
      owner: row.owner,
      comment: row.comment,
      grants: grants(row.grants),
      ...aggregateOf(row.kind === 'a' ? row.aggregate : null),
    },
  ]);

  const sequences = (objects.sequences ?? []).map((row): [string, Sequence] => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      dataType: row.data_type,
      start: row.start,
      increment: row.increment,
      min: row.min,
      max: row.max,
      cache: row.cache,
      cycle: row.cycle,
      ownedBy: row.owned_by,
      comment: row.comment,
      grants: grants(row.grants),
    },
  ]);

  const defaultPrivileges = (objects.defaultPrivileges ?? [])
    .flatMap((row): DefaultPrivilege[] => {
      const objectType = DEFAULT_ACL_TYPES[row.object_type];
      return objectType
        ? [{ role: row.role, schema: row.schema, objectType, grants: grants(row.grants) }]
        : [];
    })
    .sort(compareDefaultPrivileges);

  return {
    serverVersion,
    schemas: sortedRecord(
      (objects.schemas ?? []).map((row): [string, Schema] => [
        row.id,
        { name: row.name, owner: row.owner, comment: row.comment, grants: grants(row.grants) },
      ]),
    ),
    extensions: recordOf(
      (objects.extensions ?? []).map(
        (row): Extension => ({
          name: row.name,
          schema: row.schema,
          version: row.version,
          // Only when another version would be installed now (see Extension.defaultVersion).
          ...(row.default_version !== null && row.default_version !== row.version
            ? { defaultVersion: row.default_version }
            : {}),
        }),
      ),
      (e) => e.name,
    ),
    types: sortedRecord([
      ...(objects.types ?? []).map((row): [string, TypeDefinition] => [row.id, toType(row)]),
      ...(objects.rangeTypes ?? []).map((row): [string, TypeDefinition] => [row.id, toRangeType(row)]),
    ]),
    collations: assembleCollations(objects.collations),
    sequences: sortedRecord(sequences),
    tables: sortedRecord(tables),
    views: sortedRecord(views),
    functions: sortedRecord(functions),
    defaultPrivileges,
    publications: recordOf(
      (objects.publications ?? []).map(
        (row): Publication => ({
          name: row.name,
          allTables: row.all_tables,
          tables: [...new Set(row.tables)].sort(compareText),
          ...optionalRecord('columnLists', sortedRecord(Object.entries(row.column_lists ?? {}))),
          ...optionalRecord('rowFilters', sortedRecord(Object.entries(row.row_filters ?? {}))),
          operations: { insert: row.insert, update: row.update, delete: row.delete, truncate: row.truncate },
        }),
      ),
      (p) => p.name,
    ),
    cronJobs: recordOf(
      (objects.cronJobs ?? []).map((row) => toCronJob(row.job)),
      (j) => j.name,
    ),
    buckets: recordOf(
      (objects.buckets ?? []).map((row) => toBucket(row.bucket)),
      (b) => b.id,
    ),
    eventTriggers: assembleEventTriggers(objects.eventTriggers),
    ...assembleForeign(objects, grants, (relid) => ({
      columns: (columns.get(relid) ?? []) as ForeignColumnRow[],
      constraints: (constraints.get(relid) ?? []).map(toConstraint),
      triggers: triggersOf(relid),
    })),
  };
}
