import type pg from 'pg';
import { MANAGED_SCHEMAS, nonUserSchemas, type Platform } from '../platform.js';
import { AGGREGATE_COLUMN, AGGREGATE_JOIN, type AggregateRow } from './aggregates.js';
import { type ForeignRows, foreignQueries } from './introspect-foreign.js';
import { eventTriggersQuery } from './introspect-rules.js';
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
  routineIdentity,
  textArray,
} from './introspect-sql.js';
import type { CatalogScope } from './kinds/catalog-kind.js';
import type { TypeDefinition } from './model.js';

/*
 * The catalog queries of introspect()'s second round trip (introspect.ts), one per object kind:
 * schemas, extensions, types, sequences, functions, default privileges and publications, and
 * the rows they return. The user schemas' filter is built here and shared with the relations'
 * queries (introspect-relations.ts).
 */

/** The queries of round trip 2 but the relations', for the schemas and platform of IntrospectOptions. */
export class ObjectQueries {
  /** oids of the user schemas. */
  readonly userSchemas: string;

  constructor(
    private readonly client: pg.Client,
    private readonly version: number,
    { schemas, platform }: { schemas?: string[]; platform?: Platform },
  ) {
    const filter = schemas
      ? `n.nspname = ANY (${textArray(this.client, schemas)})`
      : `n.nspname <> ALL (${textArray(this.client, nonUserSchemas(platform))}) AND n.nspname !~ '^pg_'`;
    this.userSchemas = `SELECT n.oid FROM pg_namespace n WHERE ${filter} AND NOT ${extensionMember('pg_namespace', 'n.oid')}`;
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
      managedSchemas: textArray(this.client, MANAGED_SCHEMAS),
      serverVersion,
      literal: (value) => this.client.escapeLiteral(value),
    };
  }

  /** The user's event triggers (introspect-rules.ts). */
  eventTriggers(): string {
    return eventTriggersQuery(textArray(this.client, MANAGED_SCHEMAS));
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

export interface SchemaRow {
  id: string;
  name: string;
  owner: string;
  comment: Nullable<string>;
  grants: AclText;
}

export interface TypeRow {
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

export interface SequenceRow {
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

export interface FunctionRow {
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

export interface DefaultPrivilegeRow {
  role: string;
  schema: Nullable<string>;
  object_type: string;
  grants: AclText;
}

export interface PublicationRow {
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

export interface ExtensionRow {
  name: string;
  schema: string;
  version: string;
  default_version: Nullable<string>;
}

// ---------------------------------------------------------------------------------------------
// Rows → model
// ---------------------------------------------------------------------------------------------

export function toType(row: TypeRow): TypeDefinition {
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
