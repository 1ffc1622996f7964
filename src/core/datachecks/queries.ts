import { quoteIdentifier as ident, quoteLiteral } from '../sql/quote.js';
import type { ConversionLimit, DataCheckSubject, ProductionTable } from './model.js';

/**
 * The read-only SQL of a data check, built from production's identifiers only: no text of the
 * pull request reaches production. `count` returns one row `{ violations, rows }` (rows: for a
 * unique check, the rows sharing a duplicated value); `list` shows the offending rows, for the
 * reviewer to run.
 */
export interface CheckQueries {
  count: string;
  list: string;
}

const LISTED = 100;

export function checkQueries(subject: DataCheckSubject): CheckQueries {
  switch (subject.kind) {
    case 'not-null': {
      const from = `${tableRef(subject.table, false)} t`;
      const where = `t.${ident(subject.column)} IS NULL`;
      return {
        count: `SELECT count(*) AS violations FROM ${from} WHERE ${where}`,
        list: `SELECT * FROM ${from} WHERE ${where} LIMIT ${LISTED}`,
      };
    }
    case 'new-column-not-null': {
      const from = `${tableRef(subject.table, false)} t`;
      return {
        count: `SELECT count(*) AS violations FROM ${from}`,
        list: `SELECT * FROM ${from} LIMIT ${LISTED}`,
      };
    }
    case 'conversion': {
      const from = `${tableRef(subject.table, false)} t`;
      const where = doesNotFit(`t.${ident(subject.column)}`, subject.limit);
      return {
        count: `SELECT count(*) AS violations FROM ${from} WHERE ${where}`,
        list: `SELECT * FROM ${from} WHERE ${where} LIMIT ${LISTED}`,
      };
    }
    case 'unique':
      return uniqueQueries(subject.table, subject.columns, subject.nullsDistinct);
    case 'foreign-key':
      return foreignKeyQueries(subject);
  }
}

function uniqueQueries(table: ProductionTable, columns: string[], nullsDistinct: boolean): CheckQueries {
  const keys = columns.map((c) => `t.${ident(c)}`).join(', ');
  const notNull = nullsDistinct
    ? ` WHERE ${columns.map((c) => `t.${ident(c)} IS NOT NULL`).join(' AND ')}`
    : '';
  const groups = `SELECT ${keys}, count(*) AS copies FROM ${tableRef(table, true)} t${notNull} GROUP BY ${keys} HAVING count(*) > 1`;
  return {
    count: `SELECT count(*) AS violations, coalesce(sum(d.copies), 0) AS rows FROM (${groups}) d`,
    list: `${groups} ORDER BY copies DESC LIMIT ${LISTED}`,
  };
}

function foreignKeyQueries(subject: Extract<DataCheckSubject, { kind: 'foreign-key' }>): CheckQueries {
  const child = subject.columns.map((c) => `t.${ident(c)}`);
  const allSet = child.map((c) => `${c} IS NOT NULL`).join(' AND ');
  // MATCH SIMPLE checks a row whose key columns are all set; MATCH FULL also refuses a partly set one.
  const partlySet = `NOT (${child.map((c) => `${c} IS NULL`).join(' AND ')}) AND NOT (${allSet})`;
  const missing = subject.referenced
    ? `NOT EXISTS (SELECT 1 FROM ${tableRef(subject.referenced.table, false)} r WHERE ${subject.referenced.columns
        .map((c, i) => `r.${ident(c)} = ${child[i]}`)
        .join(' AND ')})`
    : 'true';
  const where = `(${allSet} AND ${missing})${subject.matchFull && child.length > 1 ? ` OR (${partlySet})` : ''}`;
  const from = `${tableRef(subject.table, true)} t`;
  return {
    count: `SELECT count(*) AS violations FROM ${from} WHERE ${where}`,
    list: `SELECT * FROM ${from} WHERE ${where} LIMIT ${LISTED}`,
  };
}

/**
 * The table in FROM. A unique index or a foreign key of a table with inheritance children
 * covers the table's own rows only (ONLY); NOT NULL covers the children too. A partitioned
 * table's constraints cover its partitions.
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
