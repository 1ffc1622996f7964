import { collationOf, commentOf, extensionMember, type Nullable, sortedRecord } from './introspect-sql.js';
import type { Collation, RangeType } from './model.js';

/*
 * Range types and collations (issue 13), read by introspect() in its second round trip, one
 * set-based query each.
 *
 * Scope: those of the user schemas, not an extension's. A range's multirange type and
 * constructor functions are implicit (pg_depend 'i') and come and go with it: the multirange is
 * read as the range's `multirange` attribute, its functions are left out of functions.
 *
 * Version-dependent catalog columns (pg_range.rngmultitypid, PostgreSQL 14;
 * pg_collation.colliculocale 15–16, colllocale 17, collicurules 16, collisdeterministic 12)
 * are read through to_jsonb() of the row, so one query fits every server.
 */

/** Queries of round trip 2, by the name of their result. */
export function typeQueries(userSchemas: string): Record<keyof TypeRows, string> {
  return {
    rangeTypes: `SELECT format('%I.%I', n.nspname, t.typname) AS id, n.nspname::text AS schema, t.typname::text AS name,
  pg_get_userbyid(t.typowner)::text AS owner, ${commentOf('t.oid', 'pg_type')} AS comment,
  format_type(r.rngsubtype, NULL) AS subtype,
  CASE WHEN NOT oc.opcdefault THEN format('%I.%I', ocn.nspname, oc.opcname) END AS subtype_opclass,
  ${collationOf('r.rngcollation', 'st.typcollation')} AS collation,
  CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
  CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
  (SELECT format('%I.%I', mn.nspname, mt.typname) FROM pg_type mt JOIN pg_namespace mn ON mn.oid = mt.typnamespace
    WHERE mt.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid) AS multirange
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_range r ON r.rngtypid = t.oid
  JOIN pg_type st ON st.oid = r.rngsubtype
  JOIN pg_opclass oc ON oc.oid = r.rngsubopc JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
WHERE t.typnamespace IN (${userSchemas}) AND t.typtype = 'r'
  AND NOT ${extensionMember('pg_type', 't.oid')}`,
    collations: `SELECT format('%I.%I', n.nspname, co.collname) AS id, n.nspname::text AS schema, co.collname::text AS name,
  pg_get_userbyid(co.collowner)::text AS owner, co.collprovider::text AS provider,
  co.collcollate::text AS lc_collate, co.collctype::text AS lc_ctype,
  coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale') AS locale,
  to_jsonb(co) ->> 'collicurules' AS rules,
  coalesce((to_jsonb(co) ->> 'collisdeterministic')::boolean, true) AS deterministic,
  ${commentOf('co.oid', 'pg_collation')} AS comment
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE co.collnamespace IN (${userSchemas})
  AND NOT ${extensionMember('pg_collation', 'co.oid')}`,
  };
}

export interface RangeTypeRow {
  id: string;
  schema: string;
  name: string;
  owner: string;
  comment: Nullable<string>;
  subtype: string;
  subtype_opclass: Nullable<string>;
  collation: Nullable<string>;
  canonical: Nullable<string>;
  subtype_diff: Nullable<string>;
  multirange: Nullable<string>;
}

export interface CollationRow {
  id: string;
  schema: string;
  name: string;
  owner: string;
  provider: string;
  lc_collate: Nullable<string>;
  lc_ctype: Nullable<string>;
  locale: Nullable<string>;
  rules: Nullable<string>;
  deterministic: boolean;
  comment: Nullable<string>;
}

export interface TypeRows {
  rangeTypes: RangeTypeRow[];
  collations: CollationRow[];
}

const PROVIDERS: Record<string, string> = { c: 'libc', i: 'icu', b: 'builtin', d: 'default' };

export function toRangeType(row: RangeTypeRow): RangeType {
  return {
    schema: row.schema,
    name: row.name,
    owner: row.owner,
    comment: row.comment,
    kind: 'range',
    subtype: row.subtype,
    subtypeOpclass: row.subtype_opclass,
    collation: row.collation,
    canonical: row.canonical,
    subtypeDiff: row.subtype_diff,
    multirange: row.multirange,
  };
}

export function toCollation(row: CollationRow): Collation {
  const provider = PROVIDERS[row.provider] ?? row.provider;
  // Before PostgreSQL 15 an ICU collation's locale is in collcollate (and collctype).
  const single =
    row.locale ?? (provider !== 'libc' || row.lc_collate === row.lc_ctype ? row.lc_collate : null);
  return {
    schema: row.schema,
    name: row.name,
    owner: row.owner,
    provider,
    locale: single,
    lcCollate: single === null ? row.lc_collate : null,
    lcCtype: single === null ? row.lc_ctype : null,
    deterministic: row.deterministic,
    ...(row.rules !== null && row.rules !== undefined ? { rules: row.rules } : {}),
    comment: row.comment,
  };
}

export function assembleCollations(rows: CollationRow[] | undefined): Record<string, Collation> {
  return sortedRecord((rows ?? []).map((row): [string, Collation] => [row.id, toCollation(row)]));
}
