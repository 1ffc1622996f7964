import { structuredPatch } from 'diff';
import { qualifiedName, splitIdentity } from '../sql/identifiers.js';
import { compareAggregates } from './aggregates.js';
import type {
  AttributeChange,
  MemberChange,
  MemberKind,
  ObjectChange,
  ObjectKind,
  RenameHints,
  SchemaDiff,
} from './changes.js';
import { defaultPrivilegeId, type GrantTarget, grantSummary, objectDdl } from './ddl.js';
import { CATALOG_OBJECT_KINDS } from './kinds/catalog-kind.js';
import { CATALOG_KINDS } from './kinds/index.js';
import type {
  DefaultPrivilege,
  ForeignTable,
  Grant,
  Index,
  Routine,
  SchemaModel,
  Table,
  UserMapping,
  View,
} from './model.js';

/**
 * Compares two schema models: what changes from `before` to `after`.
 *
 * - Attributes are the model's property names (`type`, `notNull`, `rlsEnabled`, `using`…),
 *   with the model's values, except grants: those are compared as sets of (grantee,
 *   privilege, grant option) and reported as short sorted lines (see grantSummary).
 * - Table size estimates (`stats`) are never a change.
 * - Renames are recognized only from hints (what the migrations' own RENAME statements say),
 *   never guessed; an identity that exists on both sides is never a rename target.
 * - DDL (and its unified diff) is computed only for the objects that change, so diffing is
 *   linear in the number of objects.
 */
export function diffSchemas(
  beforeModel: SchemaModel,
  afterModel: SchemaModel,
  hints?: RenameHints,
): SchemaDiff {
  const [before, after] = withManagedTablesOnBothSides(beforeModel, afterModel);
  const context: Context = {
    before,
    after,
    version: after.serverVersion || before.serverVersion,
    hints: normalizeHints(hints, after.serverVersion || before.serverVersion),
  };
  const byKind = new Map<ObjectKind, ObjectChange[]>();
  const add = <T>(
    kind: ObjectKind,
    left: Record<string, T>,
    right: Record<string, T>,
    compare: Comparator<T>,
    renames?: Record<string, string>,
  ) => {
    const changes: ObjectChange[] = [];
    diffRecords(context, kind, left, right, compare, renames, changes);
    byKind.set(kind, changes);
  };

  add('schema', before.schemas, after.schemas, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'schema', c),
  }));
  add('extension', before.extensions, after.extensions, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_EXTENSION, 'schema', c),
  }));
  add(
    'foreign data wrapper',
    before.foreignDataWrappers ?? {},
    after.foreignDataWrappers ?? {},
    (a, b, c) => ({
      attributes: compareAttributes(a, b, SKIP_NAME, 'foreign data wrapper', c),
    }),
  );
  add('foreign server', before.foreignServers ?? {}, after.foreignServers ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAME, 'foreign server', c),
  }));
  add('user mapping', before.userMappings ?? {}, after.userMappings ?? {}, compareUserMappings);
  add('collation', before.collations ?? {}, after.collations ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'type', c),
  }));
  add('type', before.types, after.types, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'type', c),
  }));
  add('sequence', before.sequences, after.sequences, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'sequence', c),
  }));
  add('table', before.tables, after.tables, compareTables, context.hints.relations);
  add(
    'foreign table',
    before.foreignTables ?? {},
    after.foreignTables ?? {},
    compareForeignTables,
    context.hints.relations,
  );
  add(
    'view',
    viewsOfKind(before.views, 'view'),
    viewsOfKind(after.views, 'view'),
    compareViews,
    context.hints.relations,
  );
  add(
    'materialized view',
    viewsOfKind(before.views, 'materialized'),
    viewsOfKind(after.views, 'materialized'),
    compareViews,
    context.hints.relations,
  );
  add('function', before.functions, after.functions, compareRoutines);
  add('event trigger', before.eventTriggers ?? {}, after.eventTriggers ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAME, 'table', c),
  }));
  for (const catalogKind of CATALOG_KINDS) {
    const { identity, defaults } = catalogKind;
    add<unknown>(catalogKind.kind, before[catalogKind.key] ?? {}, after[catalogKind.key] ?? {}, (a, b, c) => {
      const attributes = byKey(
        compareAttributes(a as object, b as object, identity as Set<string>, 'type', c),
      );
      return { attributes: defaults ? withDefaults(attributes, defaults) : attributes };
    });
  }
  add(
    'default privileges',
    byDefaultPrivilegeId(before.defaultPrivileges),
    byDefaultPrivilegeId(after.defaultPrivileges),
    (a, b, c) => ({
      attributes: compareGrants(a.grants, b.grants, DEFAULT_PRIVILEGE_TARGET[b.objectType], c),
    }),
  );
  add('publication', before.publications, after.publications, (a, b, c) => ({
    attributes: withDefaults(compareAttributes(a, b, SKIP_NAMED, 'table', c), PUBLICATION_DEFAULTS),
  }));
  add('cron job', before.cronJobs, after.cronJobs, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'table', c),
  }));
  add('bucket', before.buckets, after.buckets, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_BUCKET, 'table', c),
  }));
  byKind.set(
    'sequence',
    withoutOwnedSequences(byKind.get('sequence') ?? [], byKind.get('table') ?? [], context),
  );
  return { changes: KIND_ORDER.flatMap((kind) => byKind.get(kind) ?? []) };
}

const KIND_ORDER: ObjectKind[] = [
  'schema',
  'extension',
  'foreign data wrapper',
  'foreign server',
  'user mapping',
  'collation',
  'type',
  'sequence',
  'table',
  'foreign table',
  'view',
  'materialized view',
  'function',
  'event trigger',
  ...CATALOG_OBJECT_KINDS,
  'default privileges',
  'publication',
  'cron job',
  'bucket',
];

/**
 * A sequence OWNED BY a column (serial, identity) comes and goes with that column: when the
 * column (or its table) is added or removed, the sequence is part of that change and is not
 * reported again; when the column or table is renamed, neither is the sequence's new owner.
 */
function withoutOwnedSequences(
  sequences: ObjectChange[],
  tables: ObjectChange[],
  context: Context,
): ObjectChange[] {
  if (sequences.length === 0 || tables.length === 0) return sequences;
  const tableChanges = new Map(tables.map((change) => [change.id, change]));
  const columnGone = (ownedBy: string | null, action: 'added' | 'removed') => {
    const parts = ownedBy === null ? [] : splitIdentity(ownedBy);
    if (parts.length !== 3) return false;
    const [schema, table, column] = parts as [string, string, string];
    const change = tableChanges.get(qualifiedName(schema, table, context.version));
    if (!change) return false;
    if (change.action === action) return true;
    return change.members.some((m) => m.kind === 'column' && m.name === column && m.action === action);
  };
  const renamedOwner = (before: string | null, after: string | null) => {
    const from = before === null ? [] : splitIdentity(before);
    const to = after === null ? [] : splitIdentity(after);
    if (from.length !== 3 || to.length !== 3) return false;
    const change = tableChanges.get(qualifiedName(to[0] as string, to[1] as string, context.version));
    if (!change) return false;
    const table = change.renamedFrom ?? change.id;
    if (table !== qualifiedName(from[0] as string, from[1] as string, context.version)) return false;
    const column = change.members.find((m) => m.kind === 'column' && m.name === to[2]);
    return (column?.renamedFrom ?? to[2]) === from[2];
  };
  return sequences.filter((change) => {
    if (change.action === 'added')
      return !columnGone(context.after.sequences[change.id]?.ownedBy ?? null, 'added');
    if (change.action === 'removed')
      return !columnGone(context.before.sequences[change.id]?.ownedBy ?? null, 'removed');
    const only = change.attributes.length === 1 ? change.attributes[0] : undefined;
    return !(
      only?.attribute === 'ownedBy' && renamedOwner(only.before as string | null, only.after as string | null)
    );
  });
}

interface Context {
  before: SchemaModel;
  after: SchemaModel;
  version: number;
  hints: RenameHints;
}

interface Comparison {
  attributes: AttributeChange[];
  members?: MemberChange[];
}

/**
 * The renames the hints name and the two sides confirm (the new name only after, the old only
 * before, each old name used once): new → old, and the old names taken.
 */
function confirmedRenames(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  renames: Record<string, string> | undefined,
): { renamedFrom: Map<string, string>; renamedAway: Set<string> } {
  const renamedFrom = new Map<string, string>();
  const renamedAway = new Set<string>();
  for (const [to, from] of Object.entries(renames ?? {})) {
    if (
      has(after, to) &&
      !has(before, to) &&
      has(before, from) &&
      !has(after, from) &&
      !renamedAway.has(from)
    ) {
      renamedFrom.set(to, from);
      renamedAway.add(from);
    }
  }
  return { renamedFrom, renamedAway };
}

/** Compares one object's two sides; `renamedFrom` is set when it is a recognized rename. */
type Comparator<T> = (before: T, after: T, context: Context, id: string, renamedFrom?: string) => Comparison;

function has(record: object, key: string): boolean {
  return Object.hasOwn(record, key);
}

function diffRecords<T>(
  context: Context,
  kind: ObjectKind,
  before: Record<string, T>,
  after: Record<string, T>,
  compare: Comparator<T>,
  renames: Record<string, string> | undefined,
  out: ObjectChange[],
): void {
  const { renamedFrom, renamedAway } = confirmedRenames(before, after, renames);
  const ids = new Set<string>();
  for (const id of Object.keys(before)) if (!renamedAway.has(id)) ids.add(id);
  for (const id of Object.keys(after)) ids.add(id);
  for (const id of [...ids].sort(compareText)) {
    const oldId = renamedFrom.get(id);
    const left = has(before, oldId ?? id) ? before[oldId ?? id] : undefined;
    const right = has(after, id) ? after[id] : undefined;
    if (left === undefined && right !== undefined) {
      out.push(objectChange(context, kind, id, 'added', [], [], undefined));
    } else if (left !== undefined && right === undefined) {
      out.push(objectChange(context, kind, id, 'removed', [], [], undefined));
    } else if (left !== undefined && right !== undefined) {
      const result = compare(left, right, context, id, oldId);
      const members = result.members ?? [];
      if (oldId !== undefined) {
        out.push(objectChange(context, kind, id, 'renamed', result.attributes, members, oldId));
      } else if (result.attributes.length > 0 || members.length > 0) {
        out.push(objectChange(context, kind, id, 'changed', result.attributes, members, undefined));
      }
    }
  }
}

function objectChange(
  context: Context,
  kind: ObjectKind,
  id: string,
  action: ObjectChange['action'],
  attributes: AttributeChange[],
  members: MemberChange[],
  renamedFrom: string | undefined,
): ObjectChange {
  const before = action === 'added' ? null : objectDdl(context.before, kind, renamedFrom ?? id);
  const after = action === 'removed' ? null : objectDdl(context.after, kind, id);
  return {
    kind,
    id,
    action,
    ...(renamedFrom !== undefined ? { renamedFrom } : {}),
    attributes,
    members,
    ddl: { before, after, diff: before !== null && after !== null ? unifiedDiff(before, after) : null },
  };
}

/** A unified diff (3 lines of context) without the file header lines; null when equal. */
export function unifiedDiff(before: string, after: string): string | null {
  if (before === after) return null;
  const patch = structuredPatch('before', 'after', before, after, undefined, undefined, { context: 3 });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) lines.push(line);
  }
  return lines.length > 0 ? lines.join('\n') : null;
}

// ---------------------------------------------------------------------------------------------
// Attributes

const SKIP_NAMED = new Set(['schema', 'name']);
const SKIP_NAME = new Set(['name']);
/**
 * `defaultVersion` is the server's, not the database's: two servers shipping other default
 * versions of the same installed extension are not a change. (`schema` is skipped as before.)
 */
const SKIP_EXTENSION = new Set(['schema', 'name', 'defaultVersion']);
const SKIP_USER_MAPPING = new Set(['user', 'server']);
const SKIP_FOREIGN_TABLE = new Set(['schema', 'name', 'columns', 'constraints', 'triggers']);
const SKIP_BUCKET = new Set(['id']);
const SKIP_TABLE = new Set([
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
const SKIP_VIEW = new Set(['schema', 'name', 'kind', 'columns', 'indexes', 'triggers', 'rules']);

/**
 * What an optional attribute absent from the model means (see model.ts): an attribute that
 * appears or goes is reported from or to its default (`persistence` logged → unlogged), not null.
 */
const TABLE_DEFAULTS: Record<string, unknown> = {
  persistence: 'logged',
  storageParameters: [],
  inherits: [],
};
const VIEW_DEFAULTS: Record<string, unknown> = { storageParameters: [] };
const COLUMN_DEFAULTS: Record<string, unknown> = { statistics: 'default', storage: 'default' };
const PUBLICATION_DEFAULTS: Record<string, unknown> = { columnLists: {}, rowFilters: {} };

/**
 * A record-valued attribute (a text search configuration's mappings by token type) as one
 * change per key that differs (`mappings.asciiword`), not the whole record twice.
 */
function byKey(changes: AttributeChange[]): AttributeChange[] {
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

function withDefaults(changes: AttributeChange[], defaults: Record<string, unknown>): AttributeChange[] {
  for (const change of changes) {
    if (!has(defaults, change.attribute)) continue;
    if (change.before === null) change.before = defaults[change.attribute];
    if (change.after === null) change.after = defaults[change.attribute];
  }
  return changes;
}
const SKIP_MEMBER = new Set(['name']);
/** A policy's `table` is its table's identity: it changes with a table rename, which is reported once. */
const SKIP_POLICY = new Set(['name', 'table']);
/** An aggregate's `aggregate` is compared one attribute at a time (aggregates.ts compareAggregates). */
const SKIP_ROUTINE = new Set(['schema', 'name', 'definition', 'aggregate']);
/** What pg_get_functiondef() is made of: when one of these differs, `definition` adds nothing. */
const ROUTINE_PARTS = [
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

const DEFAULT_PRIVILEGE_TARGET: Record<DefaultPrivilege['objectType'], GrantTarget> = {
  tables: 'table',
  sequences: 'sequence',
  functions: 'function',
  types: 'type',
  schemas: 'schema',
};

function compareAttributes(
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

function compareGrants(
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
function same(a: unknown, b: unknown): boolean {
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

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Tables, views, functions

const MEMBER_ORDER: MemberKind[] = ['column', 'constraint', 'index', 'trigger', 'rule', 'policy'];

/** How to compare the members of one kind. */
interface MemberSpec {
  kind: MemberKind;
  skip: Set<string>;
  target: GrantTarget;
  /** Index and trigger definitions name their table: rewrite it after a rename. */
  namesTable: boolean;
  /** What optional attributes absent from the model mean. */
  defaults?: Record<string, unknown>;
}

const COLUMNS: MemberSpec = {
  kind: 'column',
  skip: SKIP_MEMBER,
  target: 'column',
  namesTable: false,
  defaults: COLUMN_DEFAULTS,
};
const CONSTRAINTS: MemberSpec = { kind: 'constraint', skip: SKIP_MEMBER, target: 'table', namesTable: false };
const INDEXES: MemberSpec = { kind: 'index', skip: SKIP_MEMBER, target: 'table', namesTable: true };
const TRIGGERS: MemberSpec = { kind: 'trigger', skip: SKIP_MEMBER, target: 'table', namesTable: true };
/** Rule definitions (pg_get_ruledef) name their table too. */
const RULES: MemberSpec = { kind: 'rule', skip: SKIP_MEMBER, target: 'table', namesTable: true };
const POLICIES: MemberSpec = { kind: 'policy', skip: SKIP_POLICY, target: 'table', namesTable: false };

/** A table or view renamed from `from` to `to`. */
interface Rename {
  from: string;
  to: string;
}

function compareTables(
  before: Table,
  after: Table,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const rename = renamedFrom === undefined ? undefined : { from: renamedFrom, to: id };
  const columnRenames = has(context.hints.columns, id) ? context.hints.columns[id] : undefined;
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(CONSTRAINTS, before.constraints, after.constraints, undefined, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers, after.triggers, undefined, context, rename, members);
  diffMembers(RULES, before.rules ?? {}, after.rules ?? {}, undefined, context, rename, members);
  diffMembers(POLICIES, before.policies, after.policies, undefined, context, rename, members);
  return {
    attributes: withDefaults(compareAttributes(before, after, SKIP_TABLE, 'table', context), TABLE_DEFAULTS),
    members: sortMembers(
      inheritanceNoted(withoutAttachedToParent(members, before, after, context), before, after),
    ),
  };
}

/**
 * A partition's constraint or index that the migrations attached to a new one of its parent
 * (ALTER TABLE parent ADD PRIMARY KEY, CREATE INDEX ON parent, ALTER INDEX … ATTACH PARTITION
 * reuse the partition's own) still exists: it is only read as the parent's now (the model
 * leaves out a partition's copies of its parent's constraints and indexes). Not a removal.
 */
function withoutAttachedToParent(
  members: MemberChange[],
  before: Table,
  after: Table,
  context: Context,
): MemberChange[] {
  const parent = after.partitionOf === null ? undefined : context.after.tables[after.partitionOf];
  if (!parent || !members.some((m) => m.action === 'removed')) return members;
  const parentConstraints = Object.values(parent.constraints);
  const parentIndexes = Object.values(parent.indexes).map(indexShape);
  return members.filter((member) => {
    if (member.action !== 'removed') return true;
    if (member.kind === 'constraint') {
      const constraint = before.constraints[member.name];
      return !(
        constraint &&
        parentConstraints.some((c) => c.type === constraint.type && c.definition === constraint.definition)
      );
    }
    if (member.kind === 'index') {
      const index = before.indexes[member.name];
      return !(index && parentIndexes.includes(indexShape(index)));
    }
    return true;
  });
}

/** An index's definition without its name and table: what an index attached to a parent's has in common with it. */
function indexShape(index: Index): string {
  return `${index.unique}:${index.primary}:${index.definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ /, '')}`;
}

/** A column added or removed that the table only inherits names the parents it comes from. */
function inheritanceNoted(members: MemberChange[], before: Table, after: Table): MemberChange[] {
  if (!before.inherits && !after.inherits) return members;
  for (const member of members) {
    if (member.kind !== 'column' || (member.action !== 'added' && member.action !== 'removed')) continue;
    const column = (member.action === 'added' ? after : before).columns.find((c) => c.name === member.name);
    if (column?.inherited && !column.inherited.local) member.inheritedFrom = column.inherited.from;
  }
  return members;
}

function compareViews(
  before: View,
  after: View,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const rename = renamedFrom === undefined ? undefined : { from: renamedFrom, to: id };
  const columnRenames = has(context.hints.columns, id) ? context.hints.columns[id] : undefined;
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers ?? {}, after.triggers ?? {}, undefined, context, rename, members);
  diffMembers(RULES, before.rules ?? {}, after.rules ?? {}, undefined, context, rename, members);
  return {
    attributes: withDefaults(compareAttributes(before, after, SKIP_VIEW, 'table', context), VIEW_DEFAULTS),
    members: sortMembers(members),
  };
}

function compareRoutines(before: Routine, after: Routine, context: Context): Comparison {
  const changes = compareAttributes(before, after, SKIP_ROUTINE, routineTarget(after), context);
  if (before.definition !== after.definition && !changes.some((c) => ROUTINE_PARTS.includes(c.attribute))) {
    changes.push({ attribute: 'definition', before: before.definition, after: after.definition });
  }
  changes.push(...compareAggregates(before, after));
  return { attributes: changes };
}

/**
 * A user mapping's option names (never their values: see UserMapping) are compared only when
 * both sides could read them: null is "not known", not "none".
 */
function compareUserMappings(before: UserMapping, after: UserMapping, context: Context): Comparison {
  const attributes = compareAttributes(before, after, SKIP_USER_MAPPING, 'foreign server', context);
  return {
    attributes:
      before.optionNames === null || after.optionNames === null
        ? attributes.filter((change) => change.attribute !== 'optionNames')
        : attributes,
  };
}

/** A foreign table: its own attributes (server, options, owner, grants…), its columns, CHECK constraints and triggers. */
function compareForeignTables(
  before: ForeignTable,
  after: ForeignTable,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const rename = renamedFrom === undefined ? undefined : { from: renamedFrom, to: id };
  const columnRenames = has(context.hints.columns, id) ? context.hints.columns[id] : undefined;
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(CONSTRAINTS, before.constraints, after.constraints, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers ?? {}, after.triggers ?? {}, undefined, context, rename, members);
  return {
    attributes: compareAttributes(before, after, SKIP_FOREIGN_TABLE, 'table', context),
    members: sortMembers(members),
  };
}

function routineTarget(routine: Routine): GrantTarget {
  return routine.kind === 'procedure' ? 'procedure' : 'function';
}

/**
 * After a rename, index and trigger definitions name the table by its new identity: the old
 * side's `ON old` is rewritten so that the rename alone is not reported as a definition change.
 */
function renamedDefinition(definition: string, rename: Rename): string {
  for (const on of ['ON ', 'ON ONLY ']) {
    const pattern = `${on}${rename.from} `;
    const at = definition.indexOf(pattern);
    if (at >= 0)
      return `${definition.slice(0, at)}${on}${rename.to} ${definition.slice(at + pattern.length)}`;
  }
  return definition;
}

function keyed<T extends { name: string }>(list: T[]): Record<string, T> {
  const record: Record<string, T> = Object.create(null);
  for (const item of list) record[item.name] = item;
  return record;
}

function diffMembers<T extends object>(
  spec: MemberSpec,
  before: Record<string, T>,
  after: Record<string, T>,
  renames: Record<string, string> | undefined,
  context: Context,
  rename: Rename | undefined,
  out: MemberChange[],
): void {
  const kind = spec.kind;
  const { renamedFrom, renamedAway } = confirmedRenames(before, after, renames);
  for (const name in before) {
    if (!has(after, name) && !renamedAway.has(name))
      out.push({ kind, name, action: 'removed', attributes: [] });
  }
  for (const name in after) {
    const oldName = renamedFrom.get(name);
    const key = oldName ?? name;
    if (!has(before, key)) {
      out.push({ kind, name, action: 'added', attributes: [] });
      continue;
    }
    let left = before[key] as T;
    if (rename && spec.namesTable) {
      const definition = (left as { definition?: unknown }).definition;
      if (typeof definition === 'string')
        left = { ...left, definition: renamedDefinition(definition, rename) };
    }
    let attributes = compareAttributes(left, after[name] as T, spec.skip, spec.target, context);
    if (spec.defaults && attributes.length > 0) attributes = withDefaults(attributes, spec.defaults);
    if (oldName !== undefined) out.push({ kind, name, action: 'renamed', renamedFrom: oldName, attributes });
    else if (attributes.length > 0) out.push({ kind, name, action: 'changed', attributes });
  }
}

function sortMembers(members: MemberChange[]): MemberChange[] {
  return members.sort((a, b) =>
    a.kind !== b.kind
      ? MEMBER_ORDER.indexOf(a.kind) - MEMBER_ORDER.indexOf(b.kind)
      : compareText(a.name, b.name),
  );
}

function viewsOfKind(views: Record<string, View>, kind: View['kind']): Record<string, View> {
  const selected: Record<string, View> = Object.create(null);
  for (const id of Object.keys(views)) {
    const view = views[id] as View;
    if (view.kind === kind) selected[id] = view;
  }
  return selected;
}

function byDefaultPrivilegeId<T extends SchemaModel['defaultPrivileges'][number]>(
  list: T[],
): Record<string, T> {
  const record: Record<string, T> = Object.create(null);
  for (const entry of list) record[defaultPrivilegeId(entry)] = entry;
  return record;
}

/** Re-quotes the hints' identities with the models' server version (its key-word list). */
function normalizeHints(hints: RenameHints | undefined, version: number): RenameHints {
  const requote = (identity: string) => {
    const parts = splitIdentity(identity);
    return parts.length === 2 ? qualifiedName(parts[0] as string, parts[1] as string, version) : identity;
  };
  const relations: Record<string, string> = Object.create(null);
  const columns: Record<string, Record<string, string>> = Object.create(null);
  for (const [to, from] of Object.entries(hints?.relations ?? {})) relations[requote(to)] = requote(from);
  for (const [table, renames] of Object.entries(hints?.columns ?? {})) columns[requote(table)] = renames;
  return { relations, columns };
}

/**
 * A managed table (auth.identities) is read only while the app has a trigger on it: on the
 * side without, it is the same table without triggers, so that adding or dropping the trigger
 * is a change of the table, never the table appearing or going.
 */
function withManagedTablesOnBothSides(before: SchemaModel, after: SchemaModel): [SchemaModel, SchemaModel] {
  const complete = (model: SchemaModel, other: SchemaModel): SchemaModel => {
    const missing = Object.entries(other.tables).filter(([id, table]) => table.managed && !model.tables[id]);
    if (missing.length === 0) return model;
    const tables = { ...model.tables };
    for (const [id, table] of missing) tables[id] = { ...table, triggers: {} };
    return { ...model, tables };
  };
  return [complete(before, after), complete(after, before)];
}
