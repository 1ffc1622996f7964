import type pg from 'pg';
import { MANAGED_SCHEMAS } from '../platform.js';
import { columnOptionsSql } from './introspect-foreign.js';
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
  routineIdentity,
  textArray,
} from './introspect-sql.js';
import type {
  Constraint,
  ConstraintType,
  ForeignKeyAction,
  Index,
  Policy,
  PolicyCommand,
  Trigger,
} from './model.js';

/*
 * Relations (tables, partitioned tables, views, materialized views) and their members
 * (columns, constraints, indexes, triggers, policies): the catalog queries introspect() runs
 * for them (introspect.ts; the relations in round trip 2, their members in round trip 3,
 * selected by the relations' oids), the rows they return, and a member row → its model.
 */

/** The relations' query (round trip 2) and their members' queries (round trip 3). */
export class RelationQueries {
  constructor(
    private readonly client: pg.Client,
    private readonly version: number,
    /** oids of the user schemas (ObjectQueries.userSchemas). */
    private readonly userSchemas: string,
    private readonly policyTables: string[],
  ) {}

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
       OR (c.relkind IN ('r', 'p') AND format('%I.%I', n.nspname, c.relname) = ANY (${textArray(this.client, this.policyTables)}))
       OR (c.relkind IN ('r', 'p') AND n.nspname = ANY (${textArray(this.client, MANAGED_SCHEMAS)}) AND ${this.hasAppTrigger('c.oid')}))
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
    return `${namespace}.nspname <> ALL (${textArray(this.client, MANAGED_SCHEMAS)}) AND ${namespace}.nspname !~ '^pg_'`;
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
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

export interface RelationRow {
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

export interface ColumnRow {
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

export interface ConstraintRow {
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

export interface IndexRow {
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

export interface TriggerRow {
  relid: number;
  name: string;
  definition: string;
  function: string;
  enabled: 'O' | 'D' | 'R' | 'A';
  comment: Nullable<string>;
}

export interface PolicyRow {
  relid: number;
  name: string;
  command: 'r' | 'a' | 'w' | 'd' | '*';
  permissive: boolean;
  roles: string[];
  using: Nullable<string>;
  with_check: Nullable<string>;
  comment: Nullable<string>;
}

// ---------------------------------------------------------------------------------------------
// Rows → model
// ---------------------------------------------------------------------------------------------

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

export function toConstraint(row: ConstraintRow): Constraint {
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

export function toIndex(row: IndexRow): Index {
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

export function toTrigger(row: TriggerRow): Trigger {
  return {
    name: row.name,
    definition: row.definition,
    function: row.function,
    enabled: TRIGGER_ENABLED[row.enabled],
    comment: row.comment,
  };
}

export function toPolicy(row: PolicyRow, table: string): Policy {
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
