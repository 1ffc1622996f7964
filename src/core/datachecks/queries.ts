import { quoteIdentifier as ident, quoteLiteral } from '../sql/quote.js';
import type { ConversionLimit, DataCheckSubject, ProductionTable } from './model.js';

/**
 * The read-only SQL of a data check, built from production's identifiers only (and, for a
 * CHECK, the expression check-expression.ts rebuilt): no text of the pull request reaches
 * production. `count` returns one row `{ violations, rows?, sampled? }` (rows: for a unique
 * check, the rows sharing a duplicated value; sampled: the rows a sample read); `list` shows the
 * offending rows, for the reviewer to run.
 */
export interface CheckQueries {
  count: string;
  list: string;
  /** The primary key values (one text each) of up to `limit` offending rows; none without a primary key. */
  keys?: (limit: number) => string;
}

/** A count on a TABLESAMPLE SYSTEM sample of about `percent` % of the table's pages. */
export interface Sample {
  percent: number;
}

const LISTED = 100;
/** The same sample at every plan of the same table, so that two plans agree. */
const SEED = 1;

/**
 * The queries of a check; undefined for a CHECK whose expression was refused. With `sample`
 * (a table above the sampling threshold), the kinds for which each row is in the way or not on
 * its own count on a sample; a NOT NULL column added without a default asks only whether the
 * table has a row; a unique index (duplicates may lie in different pages) is counted in full.
 */
export function checkQueries(subject: DataCheckSubject, sample?: Sample): CheckQueries | undefined {
  switch (subject.kind) {
    case 'not-null':
      return rowsWhere(subject.table, false, `t.${ident(subject.column)} IS NULL`, sample);
    case 'new-column-not-null': {
      const from = `${tableRef(subject.table, false)} t`;
      return {
        count: sample
          ? `SELECT count(*) AS violations FROM (SELECT FROM ${from} LIMIT 1) s`
          : `SELECT count(*) AS violations FROM ${from}`,
        list: `SELECT * FROM ${from} LIMIT ${LISTED}`,
      };
    }
    case 'conversion':
      return rowsWhere(subject.table, false, doesNotFit(`t.${ident(subject.column)}`, subject.limit), sample);
    case 'check':
      // A CHECK passes on NULL: only a false expression is in the way.
      if ('refused' in subject.expression) return undefined;
      return rowsWhere(subject.table, subject.ownRowsOnly, `(${subject.expression.sql}) IS FALSE`, sample);
    case 'unique':
      if (subject.refused !== undefined) return undefined;
      return uniqueQueries(
        subject.table,
        subject.keys ?? subject.columns.map(ident),
        subject.where,
        subject.nullsDistinct,
      );
    case 'foreign-key':
      return rowsWhere(subject.table, true, foreignKeyViolation(subject), sample);
  }
}

/** Rows of `table` (as `t`) where `where` holds: counted, on a sample or all of them, and listed. */
function rowsWhere(
  table: ProductionTable,
  ownRowsOnly: boolean,
  where: string,
  sample: Sample | undefined,
): CheckQueries {
  const from = `${tableRef(table, ownRowsOnly)} t`;
  const key = keyText(table);
  return {
    count: sample
      ? `SELECT count(*) FILTER (WHERE ${where}) AS violations, count(*) AS sampled FROM ${from} TABLESAMPLE SYSTEM (${sample.percent}) REPEATABLE (${SEED})`
      : `SELECT count(*) AS violations FROM ${from} WHERE ${where}`,
    list: `SELECT * FROM ${from} WHERE ${where} LIMIT ${LISTED}`,
    ...(key
      ? { keys: (limit: number) => `SELECT ${key} AS key FROM ${from} WHERE ${where} LIMIT ${limit}` }
      : {}),
  };
}

/** A row's primary key as one text (`7, 2024-01-01`), or undefined for a table without one. */
function keyText(table: ProductionTable): string | undefined {
  if (table.primaryKey.length === 0) return undefined;
  return `pg_catalog.concat_ws(', ', ${table.primaryKey.map((c) => `t.${ident(c)}::pg_catalog.text`).join(', ')})`;
}

/**
 * Values of the keys (SQL over the table's columns, unqualified: the table is the only one in
 * FROM) that more than one row holds, among the rows a partial index covers. With NULLS
 * DISTINCT, a row with a NULL key is never a duplicate.
 */
function uniqueQueries(
  table: ProductionTable,
  keys: string[],
  where: string | undefined,
  nullsDistinct: boolean,
): CheckQueries {
  const covered = [
    ...(where ? [`(${where})`] : []),
    ...(nullsDistinct ? keys.map((k) => `(${k}) IS NOT NULL`) : []),
  ];
  const filter = covered.length > 0 ? ` WHERE ${covered.join(' AND ')}` : '';
  const named = keys.map((k, i) => `${k} AS k${i + 1}`).join(', ');
  const positions = keys.map((_, i) => i + 1).join(', ');
  const groups = `SELECT ${named}, count(*) AS copies FROM ${tableRef(table, true)} t${filter} GROUP BY ${positions} HAVING count(*) > 1`;
  const key = keyText(table);
  const duplicated = `(${keys.join(', ')}) IN (SELECT ${keys.map((_, i) => `d.k${i + 1}`).join(', ')} FROM (${groups}) d)`;
  return {
    count: `SELECT count(*) AS violations, coalesce(sum(d.copies), 0) AS rows FROM (${groups}) d`,
    list: `${groups} ORDER BY copies DESC LIMIT ${LISTED}`,
    ...(key
      ? {
          keys: (limit: number) =>
            `SELECT ${key} AS key FROM ${tableRef(table, true)} t${filter ? `${filter} AND` : ' WHERE'} ${duplicated} LIMIT ${limit}`,
        }
      : {}),
  };
}

function foreignKeyViolation(subject: Extract<DataCheckSubject, { kind: 'foreign-key' }>): string {
  const child = subject.columns.map((c) => `t.${ident(c)}`);
  const allSet = child.map((c) => `${c} IS NOT NULL`).join(' AND ');
  // MATCH SIMPLE checks a row whose key columns are all set; MATCH FULL also refuses a partly set one.
  const partlySet = `NOT (${child.map((c) => `${c} IS NULL`).join(' AND ')}) AND NOT (${allSet})`;
  const missing = subject.referenced
    ? `NOT EXISTS (SELECT 1 FROM ${tableRef(subject.referenced.table, false)} r WHERE ${subject.referenced.columns
        .map((c, i) => `r.${ident(c)} = ${child[i]}`)
        .join(' AND ')})`
    : 'true';
  return `(${allSet} AND ${missing})${subject.matchFull && child.length > 1 ? ` OR (${partlySet})` : ''}`;
}

/**
 * The table in FROM. A unique index or a foreign key of a table with inheritance children
 * covers the table's own rows only (ONLY); NOT NULL and CHECK (unless NO INHERIT) cover the
 * children too. A partitioned table's constraints cover its partitions.
 */
function tableRef(table: ProductionTable, ownRowsOnly: boolean): string {
  const name = `${ident(table.schema)}.${ident(table.name)}`;
  return ownRowsOnly && !table.partitioned ? `ONLY ${name}` : name;
}

/** A value of `column` that the new type refuses (functions from pg_catalog, whatever the search_path). */
function doesNotFit(column: string, limit: ConversionLimit): string {
  switch (limit.kind) {
    case 'integer-range':
      return `(${column} < ${limit.min} OR ${column} > ${limit.max})`;
    case 'max-length':
      return `pg_catalog.char_length(${column}) > ${limit.length}`;
    case 'enum-labels':
      return `${column}::text IN (${limit.removed.map(quoteLiteral).join(', ')})`;
    case 'numeric-digits':
      return `pg_catalog.abs(pg_catalog.round(${column}::numeric, ${limit.scale})) >= 1e${limit.integerDigits}`;
  }
}
