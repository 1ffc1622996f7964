import type { AcceptedHazard } from '../../config.js';
import type { Migration } from '../../migrations/model.js';
import type { SchemaDiff } from '../changes.js';
import type { SchemaModel, Table } from '../model.js';
import type { TableAccess } from '../rls.js';
import { HAZARD_CATEGORY, type HazardCategory, type HazardCode } from './codes.js';
import { type FindingAcceptance, type FindingLocation, NO_SINGLE_STATEMENT } from './finding.js';
import type { HazardFix } from './fixes.js';
import type { Found } from './locate.js';
import type { LockEstimate } from './lock-estimate.js';
import { locationOf } from './pending.js';

export type HazardSeverity = 'blocking' | 'warning';
export type HazardLocation = FindingLocation;

export interface Hazard {
  code: HazardCode;
  category: HazardCategory;
  severity: HazardSeverity;
  message: string;
  /** The object it concerns: `public.posts`, `public.posts.title`. */
  object?: string;
  /** The statement that causes it; absent when no single statement does (the message says so). */
  location?: HazardLocation;
  /** Set when a `-- supagate:allow` comment in its file or the configuration accepts it. */
  accepted?: FindingAcceptance;
  /** For a statement that rewrites or scans a table: the lock it holds, and for about how long. */
  lock?: LockEstimate;
  /** The statement's safe form, where one is known. */
  fix?: HazardFix;
}

export interface HazardOptions {
  /** A table with at least this many rows (pg_class estimate) is large: blocking builds and scans matter. */
  largeTableRows: number;
  accepted: AcceptedHazard[];
  /** The schemas the Data API exposes, whose clients a rename breaks. Default DEFAULT_API_SCHEMAS. */
  apiSchemas?: string[];
}

export const DEFAULT_HAZARD_OPTIONS: HazardOptions = { largeTableRows: 100_000, accepted: [] };

export interface HazardInput {
  pending: Migration[];
  before: SchemaModel;
  after: SchemaModel;
  diff: SchemaDiff;
  access: TableAccess[];
}

/** A hazard at the statement that causes it; without one, the message says that no single statement does. */
export function hazardAt(
  code: HazardCode,
  severity: HazardSeverity,
  message: string,
  object: string | undefined,
  at: Found,
): Hazard {
  return {
    code,
    category: HAZARD_CATEGORY[code],
    severity,
    message: at ? message : `${message} (${NO_SINGLE_STATEMENT})`,
    ...(object ? { object } : {}),
    ...(at ? { location: locationOf(at) } : {}),
  };
}

export function rowsNote(table: Table | undefined): string {
  const rows = table?.stats.estimatedRows ?? 0;
  return rows > 0 ? ` (about ${rows.toLocaleString('en-US')} rows in production)` : '';
}

export function isLarge(table: Table, options: HazardOptions): boolean {
  return table.stats.estimatedRows >= options.largeTableRows;
}
