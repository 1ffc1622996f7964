import type { AttributeChange, RenameHints } from './changes.js';
import { type GrantTarget, grantSummary } from './ddl.js';
import type { DefaultPrivilege, Grant, SchemaModel } from './model.js';

export interface Context {
  before: SchemaModel;
  after: SchemaModel;
  version: number;
  hints: RenameHints;
}

export function has(record: object, key: string): boolean {
  return Object.hasOwn(record, key);
}

// ---------------------------------------------------------------------------------------------
// Attributes

export const SKIP_NAMED = new Set(['schema', 'name']);
export const SKIP_NAME = new Set(['name']);
/**
 * `defaultVersion` is the server's, not the database's: two servers shipping other default
 * versions of the same installed extension are not a change. (`schema` is skipped as before.)
 */
export const SKIP_EXTENSION = new Set(['schema', 'name', 'defaultVersion']);
export const SKIP_USER_MAPPING = new Set(['user', 'server']);
export const SKIP_FOREIGN_TABLE = new Set(['schema', 'name', 'columns', 'constraints', 'triggers']);
export const SKIP_BUCKET = new Set(['id']);
export const SKIP_TABLE = new Set([
  'schema',
  'name',
  'stats',
  'columns',
  'constraints',
  'indexes',
  'triggers',
  'rules',
  'policies',
]);
export const SKIP_VIEW = new Set(['schema', 'name', 'kind', 'columns', 'indexes', 'triggers', 'rules']);

/**
 * What an optional attribute absent from the model means (see model.ts): an attribute that
 * appears or goes is reported from or to its default (`persistence` logged → unlogged), not null.
 */
export const TABLE_DEFAULTS: Record<string, unknown> = {
  persistence: 'logged',
  storageParameters: [],
  inherits: [],
};
export const VIEW_DEFAULTS: Record<string, unknown> = { storageParameters: [] };
export const COLUMN_DEFAULTS: Record<string, unknown> = { statistics: 'default', storage: 'default' };
export const PUBLICATION_DEFAULTS: Record<string, unknown> = { columnLists: {}, rowFilters: {} };

/**
 * A record-valued attribute (a text search configuration's mappings by token type) as one
 * change per key that differs (`mappings.asciiword`), not the whole record twice.
 */
export function byKey(changes: AttributeChange[]): AttributeChange[] {
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value);
  return changes.flatMap((change) => {
    const { attribute, before, after } = change;
    if (!isRecord(before) || !isRecord(after)) return [change];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareText);
    return keys
      .filter((key) => !same(before[key], after[key]))
      .map((key) => ({
        attribute: `${attribute}.${key}`,
        before: before[key] ?? null,
        after: after[key] ?? null,
      }));
  });
}

export function withDefaults(
  changes: AttributeChange[],
  defaults: Record<string, unknown>,
): AttributeChange[] {
  for (const change of changes) {
    if (!has(defaults, change.attribute)) continue;
    if (change.before === null) change.before = defaults[change.attribute];
    if (change.after === null) change.after = defaults[change.attribute];
  }
  return changes;
}
export const SKIP_MEMBER = new Set(['name']);
/** A policy's `table` is its table's identity: it changes with a table rename, which is reported once. */
export const SKIP_POLICY = new Set(['name', 'table']);
/** An aggregate's `aggregate` is compared one attribute at a time (aggregates.ts compareAggregates). */
export const SKIP_ROUTINE = new Set(['schema', 'name', 'definition', 'aggregate']);
/** What pg_get_functiondef() is made of: when one of these differs, `definition` adds nothing. */
export const ROUTINE_PARTS = [
  'kind',
  'identityArguments',
  'arguments',
  'returns',
  'language',
  'body',
  'volatility',
  'securityDefiner',
  'strict',
  'leakproof',
  'parallel',
  'config',
];

export const DEFAULT_PRIVILEGE_TARGET: Record<DefaultPrivilege['objectType'], GrantTarget> = {
  tables: 'table',
  sequences: 'sequence',
  functions: 'function',
  types: 'type',
  schemas: 'schema',
};

export function compareAttributes(
  before: object,
  after: object,
  skip: Set<string>,
  grantTarget: GrantTarget,
  context: Context,
): AttributeChange[] {
  const left = before as Record<string, unknown>;
  const right = after as Record<string, unknown>;
  const changes: AttributeChange[] = [];
  for (const key in right) {
    const a = left[key];
    const b = right[key];
    // Most attributes are equal scalars: settle those without a call.
    if (a !== b && !skip.has(key)) compareAttribute(changes, key, a, b, grantTarget, context);
  }
  for (const key in left) {
    if (!skip.has(key) && !has(right, key)) {
      compareAttribute(changes, key, left[key], undefined, grantTarget, context);
    }
  }
  return changes;
}

function compareAttribute(
  changes: AttributeChange[],
  key: string,
  a: unknown,
  b: unknown,
  grantTarget: GrantTarget,
  context: Context,
): void {
  if (key === 'grants' && Array.isArray(a) && Array.isArray(b)) {
    const grants = compareGrants(a as Grant[], b as Grant[], grantTarget, context);
    if (grants.length > 0) changes.push(...grants);
  } else if (!same(a, b)) {
    changes.push({ attribute: key, before: a ?? null, after: b ?? null });
  }
}

export function compareGrants(
  before: Grant[],
  after: Grant[],
  target: GrantTarget,
  context: Context,
): AttributeChange[] {
  if (sameGrants(before, after)) return [];
  const a = grantSummary(before, target, context.version);
  const b = grantSummary(after, target, context.version);
  return same(a, b) ? [] : [{ attribute: 'grants', before: a, after: b }];
}

/** The same grants in the same order (the model sorts them): the fast, common case. */
function sameGrants(a: Grant[], b: Grant[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Grant;
    const y = b[i] as Grant;
    if (x.grantee !== y.grantee || x.privilege !== y.privilege || x.grantable !== y.grantable) return false;
  }
  return true;
}

/** Structural equality of JSON-like values; a missing key, undefined and null are the same absence. */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) {
    return (a === undefined || a === null) && (b === undefined || b === null);
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== y && !same(x, y)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) {
    const x = left[key];
    const y = right[key];
    if (x !== y && !same(x, has(right, key) ? y : undefined)) return false;
  }
  for (const key in right) {
    if (!has(left, key) && right[key] !== undefined && right[key] !== null) return false;
  }
  return true;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
