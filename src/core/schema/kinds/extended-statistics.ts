import { qualifiedName, quoteIdent } from '../../sql/identifiers.js';
import { quoteLiteral } from '../../sql/quote.js';
import {
  attributeNames,
  commentOf,
  compareText,
  extensionMember,
  type Nullable,
  sortedRecord,
} from '../introspect-sql.js';
import type { CatalogKind, CatalogScope } from './catalog-kind.js';

/*
 * Extended statistics (CREATE STATISTICS) of the user schemas, not an extension's.
 *
 * Normalized so that equal objects compare equal: `kinds` is pg_statistic_ext.stxkind, which
 * PostgreSQL fills in when CREATE STATISTICS names none (every kind), and which holds
 * `expressions` whenever there are expressions; `columns` is a set (PostgreSQL keeps them in
 * attnum order, whatever order they were written in), sorted by name.
 *
 * Version-dependent catalog columns: stxstattarget (PostgreSQL 13; nullable from 17, NULL
 * then meaning the default that -1 means before) and stxexprs (14).
 */

export type StatisticsKind = 'ndistinct' | 'dependencies' | 'mcv' | 'expressions';

export interface ExtendedStatistics {
  schema: string;
  name: string;
  /** The table's identity (`public.orders`). */
  table: string;
  /** In the order ndistinct, dependencies, mcv, expressions. */
  kinds: StatisticsKind[];
  /** Column names, sorted. */
  columns: string[];
  /** Expressions as PostgreSQL deparses them (`(a + b)`, `lower(c)`), in their order: present only when any. */
  expressions?: string[];
  /** The statistics target (ALTER STATISTICS … SET STATISTICS): present only when set. */
  statistics?: number;
  owner: string;
  comment: string | null;
}

interface ExtendedStatisticsRow {
  id: string;
  schema: string;
  name: string;
  table: string;
  kinds: string[];
  columns: string[];
  expressions: Nullable<string[]>;
  statistics: Nullable<number>;
  owner: string;
  comment: Nullable<string>;
}

const KINDS: Record<string, StatisticsKind> = {
  d: 'ndistinct',
  f: 'dependencies',
  m: 'mcv',
  e: 'expressions',
};
const KIND_ORDER: readonly StatisticsKind[] = ['ndistinct', 'dependencies', 'mcv', 'expressions'];
/** What CREATE STATISTICS builds when it names no kind (before expressions are added). */
const EVERY_KIND: readonly StatisticsKind[] = ['ndistinct', 'dependencies', 'mcv'];

function statisticsQuery(scope: CatalogScope): string {
  const target =
    scope.serverVersion >= 130000
      ? 'CASE WHEN s.stxstattarget <> -1 THEN s.stxstattarget::int END'
      : 'NULL::int';
  const expressions =
    scope.serverVersion >= 140000 ? 'pg_get_statisticsobjdef_expressions(s.oid)' : 'NULL::text[]';
  return `SELECT format('%I.%I', n.nspname, s.stxname) AS id, n.nspname::text AS schema, s.stxname::text AS name,
  format('%I.%I', tn.nspname, c.relname) AS table, s.stxkind::text[] AS kinds,
  ${attributeNames('s.stxkeys::int2[]', 's.stxrelid')} AS columns, ${expressions} AS expressions,
  ${target} AS statistics, pg_get_userbyid(s.stxowner)::text AS owner,
  ${commentOf('s.oid', 'pg_statistic_ext')} AS comment
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
  JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace
WHERE s.stxnamespace IN (${scope.userSchemas}) AND NOT ${extensionMember('pg_statistic_ext', 's.oid')}`;
}

/** stxkind's letters as names, in KIND_ORDER; a letter of a later PostgreSQL's kind is kept as it is, last. */
function kindsOf(letters: string[]): StatisticsKind[] {
  const known = KIND_ORDER.filter((kind) => letters.some((letter) => KINDS[letter] === kind));
  const unknown = letters.filter((letter) => !(letter in KINDS)).sort(compareText);
  return [...known, ...(unknown as StatisticsKind[])];
}

function toExtendedStatistics(row: ExtendedStatisticsRow): ExtendedStatistics {
  return {
    schema: row.schema,
    name: row.name,
    table: row.table,
    kinds: kindsOf(row.kinds),
    columns: [...row.columns].sort(compareText),
    ...(row.expressions && row.expressions.length > 0 ? { expressions: row.expressions } : {}),
    ...(row.statistics !== null ? { statistics: row.statistics } : {}),
    owner: row.owner,
    comment: row.comment,
  };
}

/** The kinds CREATE STATISTICS names: none when they are its default, or when `expressions` is the only one. */
function kindList(kinds: readonly StatisticsKind[]): string {
  const named: StatisticsKind[] = kinds.filter((kind) => kind !== 'expressions');
  const isDefault = EVERY_KIND.every((kind) => named.includes(kind));
  return named.length === 0 || isDefault ? '' : ` (${named.join(', ')})`;
}

function statisticsDdl(object: ExtendedStatistics, v: number): string {
  const name = qualifiedName(object.schema, object.name, v);
  const on = [...object.columns.map((column) => quoteIdent(column, v)), ...(object.expressions ?? [])];
  const blocks = [
    `CREATE STATISTICS ${name}${kindList(object.kinds)} ON ${on.join(', ')} FROM ${object.table};`,
  ];
  if (object.statistics !== undefined)
    blocks.push(`ALTER STATISTICS ${name} SET STATISTICS ${object.statistics};`);
  blocks.push(`ALTER STATISTICS ${name} OWNER TO ${quoteIdent(object.owner, v)};`);
  if (object.comment !== null)
    blocks.push(`COMMENT ON STATISTICS ${name} IS ${quoteLiteral(object.comment)};`);
  return `${blocks.join('\n\n')}\n`;
}

export const extendedStatisticsKind: CatalogKind<ExtendedStatisticsRow, ExtendedStatistics> = {
  kind: 'extended statistics',
  key: 'extendedStatistics',
  query: statisticsQuery,
  assemble: (rows) =>
    sortedRecord(rows.map((row): [string, ExtendedStatistics] => [row.id, toExtendedStatistics(row)])),
  ddl: statisticsDdl,
  identity: new Set(['schema', 'name']),
  defaults: { expressions: [], statistics: 'default' },
};
