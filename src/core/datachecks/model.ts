import type { FindingLocation } from '../schema/findings/finding.js';
import type { PendingStatement } from '../schema/findings/pending.js';
import type { RebuiltExpression } from './check-expression.js';

/**
 * Data checks: statements whose success depends on the rows production holds, and the
 * read-only count that tells whether they will fail there (SET NOT NULL over NULLs, a unique
 * index over duplicates, a foreign key over orphans, a NOT NULL column added without a default
 * to a table that has rows, a CHECK constraint over rows that violate it).
 */
export type DataCheckKind =
  | 'not-null'
  | 'new-column-not-null'
  | 'unique'
  | 'foreign-key'
  | 'conversion'
  | 'check';

/** What a column's new type refuses of the values it holds (the conversion fails on them). */
export type ConversionLimit =
  | { kind: 'integer-range'; type: string; min: string; max: string }
  | { kind: 'max-length'; type: string; length: number }
  /** An enum whose new definition lacks labels the old one had. */
  | { kind: 'enum-labels'; type: string; removed: string[] }
  | { kind: 'numeric-digits'; type: string; integerDigits: number; scale: number };

/** A table as production names it (before any rename the pending migrations make). */
export interface ProductionTable {
  schema: string;
  name: string;
  /** A plain table (not partitioned): ONLY limits a check to its own rows where PostgreSQL does. */
  partitioned: boolean;
  estimatedRows: number;
  /** Whether production has triggers on it: an UPDATE of other columns may then change these. */
  triggers: boolean;
  /** Its primary key's columns; empty when it has none. */
  primaryKey: string[];
}

/** What one check counts, derived from the schema diff; columns as production names them. */
export type DataCheckSubject =
  | { kind: 'not-null'; table: ProductionTable; column: string }
  | { kind: 'new-column-not-null'; table: ProductionTable; column: string }
  | {
      kind: 'unique';
      table: ProductionTable;
      /** Production's columns the keys and the predicate read. */
      columns: string[];
      /** Each key rebuilt as SQL (a quoted column, or an expression such as `pg_catalog.lower("email")`). */
      keys?: string[];
      /** A partial index's predicate, rebuilt. */
      where?: string;
      /** Why the index's keys or predicate were not rebuilt: no query then. */
      refused?: string;
      nullsDistinct: boolean;
    }
  | { kind: 'conversion'; table: ProductionTable; column: string; limit: ConversionLimit }
  | {
      kind: 'foreign-key';
      table: ProductionTable;
      columns: string[];
      /** Undefined when the referenced table is created by the pending migrations (empty in production). */
      referenced: { table: ProductionTable; columns: string[] } | undefined;
      matchFull: boolean;
    }
  | {
      kind: 'check';
      table: ProductionTable;
      /** Rebuilt by supagate from the constraint's parse tree, or refused (then nothing is counted). */
      expression: RebuiltExpression;
      /** The columns it reads: production's names, and a column the migrations add under its own. */
      columns: string[];
      /** NO INHERIT: the constraint covers the table's own rows, not its inheritance children's. */
      ownRowsOnly: boolean;
    };

export interface DataCheckSpec {
  subject: DataCheckSubject;
  /** The object as the plan names it after the migrations: `public.profiles.email`. */
  object: string;
  /** What the statement does, in words: `SET NOT NULL on public.profiles.email`. */
  action: string;
  at: PendingStatement | undefined;
}

export type DataCheckOutcome =
  /** No row would make the statement fail. */
  | 'passed'
  /** Rows that make the statement fail in production: blocking. */
  | 'violations'
  /** An earlier pending statement fills the column first (an UPDATE that back-fills it). */
  | 'back-filled'
  /** Counted, but earlier pending statements change the table: the count may not hold then. */
  | 'undecidable'
  /**
   * The table is too large for a full count, and a sample of it found no row in the way: not a
   * pass (the rest of the table was not read), a warning.
   */
  | 'clean-sample'
  /** The count did not finish in time, or production refused it, or supagate would not run it. */
  | 'not-checked';

/** How an estimated count was made. */
export type DataCheckEstimate =
  /** Counted on a TABLESAMPLE SYSTEM sample of about `percent` % of the table, scaled up. */
  | { method: 'sample'; percent: number; sampledRows: number }
  /** Production's statistics: the table has a row, and about as many as it estimates. */
  | { method: 'statistics' };

export interface DataCheck {
  kind: DataCheckKind;
  object: string;
  action: string;
  outcome: DataCheckOutcome;
  /** Rows (or, for unique checks, duplicated values) that violate; present when counted. */
  violations?: number;
  /** For unique checks: the rows that share a duplicated value. */
  rows?: number;
  /** Present when `violations` is an estimate (the table is above the sampling threshold). */
  estimate?: DataCheckEstimate;
  /** The read-only query that lists the offending rows, for the reviewer to run (none when refused). */
  listQuery?: string;
  /** Why the outcome is what it is, when that is not plain from it. */
  reason?: string;
  location?: FindingLocation;
  /** Estimated rows of the table in production. */
  estimatedRows: number;
  /**
   * The primary key values of a few rows in the way, as text (`42`, `7, 2024-01-01`): only when
   * configured (dataCheckKeyValues), and the table has a primary key. No other row content.
   */
  keys?: string[];
  /** The primary key's columns `keys` holds values of. */
  keyColumns?: string[];
}
