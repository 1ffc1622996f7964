import type { FindingLocation } from '../schema/findings/finding.js';
import type { PendingStatement } from '../schema/findings/pending.js';

/**
 * Data checks: statements whose success depends on the rows production holds, and the
 * read-only count that tells whether they will fail there (SET NOT NULL over NULLs, a unique
 * index over duplicates, a foreign key over orphans, a NOT NULL column added without a default
 * to a table that has rows).
 */
export type DataCheckKind = 'not-null' | 'new-column-not-null' | 'unique' | 'foreign-key' | 'conversion';

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
}

/** What one check counts, derived from the schema diff; columns as production names them. */
export type DataCheckSubject =
  | { kind: 'not-null'; table: ProductionTable; column: string }
  | { kind: 'new-column-not-null'; table: ProductionTable; column: string }
  | { kind: 'unique'; table: ProductionTable; columns: string[]; nullsDistinct: boolean }
  | { kind: 'conversion'; table: ProductionTable; column: string; limit: ConversionLimit }
  | {
      kind: 'foreign-key';
      table: ProductionTable;
      columns: string[];
      /** Undefined when the referenced table is created by the pending migrations (empty in production). */
      referenced: { table: ProductionTable; columns: string[] } | undefined;
      matchFull: boolean;
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
  /** The count did not finish in time, or production refused it. */
  | 'not-checked';

export interface DataCheck {
  kind: DataCheckKind;
  object: string;
  action: string;
  outcome: DataCheckOutcome;
  /** Rows (or, for unique checks, duplicated values) that violate; present when counted. */
  violations?: number;
  /** For unique checks: the rows that share a duplicated value. */
  rows?: number;
  /** The read-only query that lists the offending rows, for the reviewer to run. */
  listQuery: string;
  /** Why the outcome is what it is, when that is not plain from it. */
  reason?: string;
  location?: FindingLocation;
  /** Estimated rows of the table in production. */
  estimatedRows: number;
}
