import type pg from 'pg';
import { type Platform, TRACKED_MANAGED_TABLES } from '../platform.js';
import { assemble, type MemberResults, type ObjectResults } from './introspect-assemble.js';
import type { ForeignRows } from './introspect-foreign.js';
import { ObjectQueries } from './introspect-objects.js';
import { RelationQueries, type RelationRow } from './introspect-relations.js';
import { rulesQuery } from './introspect-rules.js';
import { type TypeRows, typeQueries } from './introspect-types.js';
import type { CatalogRecords } from './kinds/catalog-kind.js';
import { CATALOG_KINDS } from './kinds/index.js';
import type { SchemaModel } from './model.js';

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
 * Where the parts live: the queries of round trip 2 and their rows in introspect-objects.ts
 * (schemas, extensions, types, sequences, functions, default privileges, publications) and
 * introspect-relations.ts (relations, and their members read in round trip 3); rows → model in
 * introspect-assemble.ts.
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
    const sql = new ObjectQueries(client, meta.version, options);
    const relationSql = new RelationQueries(client, meta.version, sql.userSchemas, policyTables);

    const objects: [keyof ObjectResults, string][] = [
      ['schemas', sql.schemas()],
      ['extensions', sql.extensions()],
      ['types', sql.types()],
      ['sequences', sql.sequences()],
      ['relations', relationSql.relations()],
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
      ['columns', relationSql.columns([...oids(own), ...foreignTables], oids(inheriting))],
      ['constraints', relationSql.constraints([...oids(tables), ...foreignTables])],
      ['indexes', relationSql.indexes(oids(own.filter((r) => r.kind !== 'v')))],
      [
        'triggers',
        relationSql.triggers(
          [...oids(own.filter((r) => r.kind !== 'm')), ...foreignTables],
          oids(relations.filter((r) => r.managed)),
        ),
      ],
      ['policies', relationSql.policies(oids(relations.filter((r) => r.kind === 'r' || r.kind === 'p')))],
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

/** Round trip 1's answer (META_QUERY). */
interface MetaRow {
  version: number;
  cron: boolean;
  buckets: boolean;
}
