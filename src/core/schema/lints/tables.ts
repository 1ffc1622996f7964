import type { Index } from '../model.js';
import type { AddFinding } from './rules.js';
import { isSensitiveColumnName } from './sensitive.js';
import {
  isManagedSchema,
  type LintContext,
  plural,
  quoted,
  quoteIdent,
  sameSet,
  schemaOf,
  sortedEntries,
  sortedValues,
} from './util.js';

/**
 * The rules about user tables (not managed ones, not in managed schemas): RLS, sensitive
 * columns, foreign keys, indexes, primary keys, column types. Views' and materialized views'
 * duplicate indexes and reg* columns are linted here too (lintRelationColumns, duplicateIndexes).
 */
export function lintTables({ model, api, add }: LintContext): void {
  const userTables = sortedEntries(model.tables).filter(([, t]) => !t.managed && !isManagedSchema(t.schema));

  for (const [id, table] of userTables) {
    const inApi = api.has(table.schema);
    const policyCount = Object.keys(table.policies).length;

    // rls_disabled_in_public: an ordinary or partitioned table in an API schema with RLS not
    // enabled, whatever its grants (as Supabase: the schema being exposed is enough; grants are
    // one REVOKE/GRANT away). Supabase checks relkind 'r' (which includes partitions); we also
    // flag partitioned parents, which PostgREST exposes the same way.
    if (inApi && !table.rlsEnabled) {
      add(
        'rls_disabled_in_public',
        id,
        `Table ${id} is in the API schema ${table.schema}, but row level security is not enabled: every role with a grant on it reads and writes all of its rows through the Data API`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY, then add policies for the access anon and authenticated need (or move the table to a schema that is not exposed)`,
      );
    }

    // policy_exists_rls_disabled: a table (in any user schema) that has at least one policy
    // while RLS is not enabled, so the policies are not enforced.
    if (policyCount > 0 && !table.rlsEnabled) {
      add(
        'policy_exists_rls_disabled',
        id,
        `Table ${id} has ${plural(policyCount, 'policy', 'policies')} (${Object.keys(table.policies).sort().map(quoted).join(', ')}) but row level security is not enabled, so none of them is enforced`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY`,
      );
    }

    // sensitive_columns_exposed: a table in an API schema with RLS not enabled that has a
    // column whose name looks sensitive (see sensitiveColumn for the word list and matching).
    if (inApi && !table.rlsEnabled) {
      const sensitive = table.columns.map((c) => c.name).filter(isSensitiveColumnName);
      if (sensitive.length > 0) {
        add(
          'sensitive_columns_exposed',
          id,
          `Table ${id} is exposed through the Data API without row level security and has sensitive-looking ${plural(sensitive.length, 'column', 'columns')}: ${sensitive.join(', ')}`,
          `Enable row level security on ${id} with policies that keep these rows private, or move the sensitive columns to a table that is not exposed; revoke anon/authenticated privileges on the columns if they must never be read`,
        );
      }
    }

    // fkey_to_auth_unique: a foreign key to a table in the auth schema whose referenced columns
    // are not that table's primary key, i.e. it references a unique constraint (auth.users
    // email/phone…), which Supabase Auth may change or drop. The primary key is taken from the
    // model when it holds the auth table, else assumed to be (id), the primary key of every
    // table Supabase Auth defines.
    for (const constraint of sortedValues(table.constraints)) {
      const ref = constraint.references;
      if (constraint.type !== 'foreign key' || !ref || schemaOf(ref.table) !== 'auth') continue;
      const referenced = model.tables[ref.table];
      const key = referenced && Object.values(referenced.constraints).find((c) => c.type === 'primary key');
      // A managed table read for its triggers (auth.users) carries no constraints: assume (id).
      const primary = key ? key.columns : referenced && !referenced.managed ? [] : ['id'];
      if (sameSet(ref.columns, primary)) continue;
      add(
        'fkey_to_auth_unique',
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} references ${ref.table}(${ref.columns.join(', ')}), a unique key of an auth table that is not its primary key; Supabase Auth may change or drop that constraint`,
        `Reference ${ref.table} by its primary key (${primary.join(', ') || 'id'}) instead`,
      );
    }

    // unindexed_foreign_keys: a foreign key whose columns are not covered by a valid,
    // non-partial index whose leading key columns are exactly those columns (in any order).
    for (const constraint of sortedValues(table.constraints)) {
      if (constraint.type !== 'foreign key') continue;
      const covered = Object.values(table.indexes).some((index) => coversColumns(index, constraint.columns));
      if (covered) continue;
      add(
        'unindexed_foreign_keys',
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} (${constraint.columns.join(', ')}) has no index starting with its columns: joins and deletes on the referenced table scan ${id}`,
        `CREATE INDEX ON ${id} (${constraint.columns.join(', ')})`,
      );
    }

    // duplicate_index: two or more indexes (tables here, materialized views in views.ts) with
    // the same pg_get_indexdef() once the index name is taken out; one finding per group.
    duplicateIndexes(id, table.indexes, add);

    // unsupported_reg_types: see lintRelationColumns.
    lintRelationColumns(id, 'Table', table, add);

    // no_primary_key: an ordinary or partitioned table without a primary key constraint.
    if (!Object.values(table.constraints).some((c) => c.type === 'primary key')) {
      add(
        'no_primary_key',
        id,
        `Table ${id} has no primary key`,
        `Add a primary key to ${id} (ALTER TABLE ${id} ADD PRIMARY KEY (…)); rows without one cannot be identified reliably (replication, updates by key)`,
      );
    }

    // rls_enabled_no_policy: RLS enabled and no policy at all, so every role that does not
    // bypass RLS sees no rows.
    if (table.rlsEnabled && policyCount === 0) {
      add(
        'rls_enabled_no_policy',
        id,
        `Table ${id} has row level security enabled but no policy: only roles that bypass RLS can read or write it`,
        `Add policies for the access anon and authenticated need, or leave it this way on purpose (service_role only)`,
      );
    }
  }
}

/**
 * The reg* types pg_upgrade cannot carry over (their values are OIDs of catalog rows that are
 * not preserved), as the advisor and pg_upgrade list them; regclass, regtype and regrole are
 * supported (pg_upgrade preserves those OIDs).
 */
export const UNSUPPORTED_REG_TYPES: readonly string[] = [
  'regcollation',
  'regconfig',
  'regdictionary',
  'regnamespace',
  'regoper',
  'regoperator',
  'regproc',
  'regprocedure',
];

const UNSUPPORTED_REG_TYPE = new RegExp(
  `^(?:pg_catalog\\.)?(${UNSUPPORTED_REG_TYPES.join('|')})((?:\\[\\])*)$`,
);

/** The unsupported reg* type a column type is, or is an array of (`regproc[]`); undefined otherwise. */
export function unsupportedRegType(type: string): string | undefined {
  const match = UNSUPPORTED_REG_TYPE.exec(type.trim());
  return match ? `${match[1]}${match[2]}` : undefined;
}

/**
 * unsupported_reg_types: a column of a table or materialized view in a user schema whose type
 * is one of UNSUPPORTED_REG_TYPES, which stops pg_upgrade, so the project cannot be upgraded to
 * a new PostgreSQL major version. One finding per column. Arrays of those types are flagged too
 * (pg_upgrade refuses them as well; the advisor, matching the type name, misses them). Plain
 * views are not linted (see views.ts), though the advisor reports their columns too.
 */
export function lintRelationColumns(
  id: string,
  kind: string,
  relation: { columns: { name: string; type: string }[] },
  add: AddFinding,
): void {
  for (const column of relation.columns) {
    const type = unsupportedRegType(column.type);
    if (!type) continue;
    add(
      'unsupported_reg_types',
      `${id} column ${quoted(column.name)}`,
      `${kind} ${id} has column ${quoteIdent(column.name)} of type ${type}, which pg_upgrade cannot carry over: the database cannot be upgraded to a new PostgreSQL major version while it exists`,
      `Store the object's name instead (text, e.g. ${quoteIdent(column.name)}::text) or its OID as oid, or use a supported type (regclass, regtype, regrole): ALTER TABLE ${id} ALTER COLUMN ${quoteIdent(column.name)} TYPE text`,
    );
  }
}

/** The index's leading key columns are exactly `columns` (in any order); valid and not partial. */
function coversColumns(index: Index, columns: string[]): boolean {
  if (!index.valid || / WHERE /i.test(index.definition) || columns.length === 0) return false;
  return sameSet(index.columns.slice(0, columns.length), columns);
}

export function duplicateIndexes(relation: string, indexes: Record<string, Index>, add: AddFinding): void {
  const groups = new Map<string, string[]>();
  for (const index of sortedValues(indexes)) {
    const shape = withoutIndexName(index.definition);
    groups.set(shape, [...(groups.get(shape) ?? []), index.name]);
  }
  for (const names of groups.values()) {
    if (names.length < 2) continue;
    const [keep, ...drop] = names;
    add(
      'duplicate_index',
      `${relation} indexes ${names.map(quoted).join(', ')}`,
      `${relation} has ${names.length} identical indexes: ${names.map(quoted).join(', ')}; every write maintains each of them`,
      `Keep one (e.g. ${quoted(keep as string)}) and drop the others: ${drop.map((n) => `DROP INDEX ${schemaPrefix(relation)}${quoteIdent(n)}`).join('; ')}`,
    );
  }
}

function schemaPrefix(relation: string): string {
  const schema = schemaOf(relation);
  return schema ? `${quoteIdent(schema)}.` : '';
}

/** pg_get_indexdef() without the index name: `CREATE UNIQUE INDEX ON public.t USING btree (a)`. */
function withoutIndexName(definition: string): string {
  return definition.replace(/^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")*"|\S+) (ON )/i, '$1$2');
}
